"""Legal holds, person-data exports and retention runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId

TicketId = BigInteger().with_variant(Integer(), "sqlite")


class LegalHold(Base):
    """A hold on a person or a ticket: while active it blocks erasure and retention."""

    __tablename__ = "privacy_legal_holds"
    __table_args__ = (Index("ix_privacy_legal_holds_tenant_released", "tenant_id", "released_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="CASCADE"), default=None
    )
    ticket_id: Mapped[int | None] = mapped_column(
        TicketId, ForeignKey("support_tickets.id", ondelete="CASCADE"), default=None
    )
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    released_by: Mapped[int | None] = mapped_column(Integer, default=None)


class PersonExport(Base):
    """An export of one person's data: built by a task, kept as a blob until it expires."""

    __tablename__ = "privacy_exports"
    __table_args__ = (
        Index("ix_privacy_exports_tenant_user_id", "tenant_id", "user_id", "id"),
        Index("ix_privacy_exports_status", "status"),
        Index("ix_privacy_exports_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id", ondelete="CASCADE"))
    requested_by: Mapped[int | None] = mapped_column(Integer, default=None)
    # "end_user": what the person may see (no internal notes); "admin": the same, for an admin.
    audience: Mapped[str] = mapped_column(String(20), default="end_user")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    step: Mapped[str] = mapped_column(String(40), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    blob_key: Mapped[str | None] = mapped_column(String(255), default=None)
    size: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)


class RetentionRun(Base):
    """One run of a tenant's retention schedule (or a dry run): what went, per kind."""

    __tablename__ = "privacy_retention_runs"
    __table_args__ = (Index("ix_privacy_retention_runs_tenant_id_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")
    status: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(String(500), default="")
