"""Notification preferences (per person and tenant defaults) and the record of deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId

UNASSIGNED_CHOICES = ("all_agents", "nobody")


class NotificationSettings(Base):
    """A tenant's notification defaults: who hears about unassigned tickets, and the default
    on/off of each ``kind:channel`` (absent: on)."""

    __tablename__ = "notification_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    # "all_agents": every agent hears about an unassigned ticket; "nobody". The seam for
    # groups: the agents of the ticket's group would come before this fallback.
    unassigned: Mapped[str] = mapped_column(String(20), default="all_agents")
    defaults: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class NotificationPreference(Base):
    """One person's choices in one tenant: ``{"kind:channel": bool}`` (absent: the default)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id", ondelete="CASCADE"))
    choices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class NotificationDelivery(Base):
    """A notice delivered: (outbox event, person, channel) once, whatever the retries."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", "channel"),
        Index("ix_notification_deliveries_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigId)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)
