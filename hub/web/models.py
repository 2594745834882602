"""Tables of the web console: an agent's saved queue views and queue layout."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId


class SavedView(Base):
    """A named set of queue filters (the query string) kept for one agent in one tenant."""

    __tablename__ = "web_saved_views"
    __table_args__ = (Index("ix_web_saved_views_tenant_user", "tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=now)


class QueuePreference(Base):
    """How one person wants the queue laid out in one tenant: ``compact`` (the default) or
    ``comfortable`` rows."""

    __tablename__ = "web_queue_prefs"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id", ondelete="CASCADE"))
    density: Mapped[str] = mapped_column(String(12), default="compact")
    updated_at: Mapped[datetime] = mapped_column(default=now)
