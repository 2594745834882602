"""Duplicate flags and the tenant's duplicate-detection settings (migration ``0043_duplicates``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId

FLAG_STATUSES = ("open", "dismissed", "merged")
DEFAULT_WINDOW_DAYS = 14


class DuplicateFlag(Base):
    """``support_duplicate_flags``: two tickets of a tenant that look like the same request.

    The pair is ordered (``first_ticket_id < second_ticket_id``) and unique, so a dismissed pair
    is never flagged again. ``reason`` says what matched; ``decided_by``/``decided_at`` who
    dismissed (or merged from) the flag, and when.
    """

    __tablename__ = "support_duplicate_flags"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "first_ticket_id",
            "second_ticket_id",
            name="uq_support_duplicate_flags_pair",
        ),
        CheckConstraint("first_ticket_id < second_ticket_id", name="ordered"),
        CheckConstraint("status IN ('open', 'dismissed', 'merged')", name="status"),
        Index("ix_support_duplicate_flags_tenant_second", "tenant_id", "second_ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    first_ticket_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("support_tickets.id", ondelete="CASCADE")
    )
    second_ticket_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("support_tickets.id", ondelete="CASCADE")
    )
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=now)
    decided_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(default=None)

    def other(self, ticket_id: int) -> int:
        """The ticket of the pair that is not ``ticket_id``."""
        return self.second_ticket_id if ticket_id == self.first_ticket_id else self.first_ticket_id


class DuplicateSettings(Base):
    """``support_duplicate_settings``: whether the tenant looks for duplicates and how far back
    (no row: on, 14 days)."""

    __tablename__ = "support_duplicate_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    window_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_WINDOW_DAYS)
    updated_at: Mapped[datetime] = mapped_column(default=now)
