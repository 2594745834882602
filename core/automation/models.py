"""Automation: rules stored as data, the tenant's built-in automation switches, macros."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId, JSONType

TRIGGERS = ("ticket.created", "ticket.updated", "comment.added", "time.no_update")
ASSIGN_MODES = ("round_robin", "skill", "off")


class AutomationRule(Base):
    """``support_automation_rules``: when <trigger> and <conditions>, do <actions>.

    ``conditions`` is a list of ``{"field", "op", "value"}``; ``actions`` a list of
    ``{"type": ..., ...}`` (see ``core.automation.rules``). ``hours`` is the quiet time of a
    ``time.no_update`` rule; ``swept_until``/``swept_id`` its sweep's keyset watermark.
    """

    __tablename__ = "support_automation_rules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(
            "trigger IN ('ticket.created', 'ticket.updated', 'comment.added', 'time.no_update')",
            name="trigger",
        ),
        Index("ix_support_automation_rules_tenant_trigger", "tenant_id", "trigger"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(30))
    hours: Mapped[float | None] = mapped_column(Float, default=None)
    conditions: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    actions: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    swept_until: Mapped[datetime | None] = mapped_column(default=None)
    swept_id: Mapped[int | None] = mapped_column(BigId, default=None)
    created_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class AutomationSettings(Base):
    """``support_automation_settings``: the built-in automations of one tenant.

    No row means the defaults: round-robin assignment, auto-close 48 h after resolution,
    auto-respond with knowledge-base articles.
    """

    __tablename__ = "support_automation_settings"
    __table_args__ = (
        CheckConstraint("assign_mode IN ('round_robin', 'skill', 'off')", name="assign_mode"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    assign_mode: Mapped[str] = mapped_column(String(20), default="round_robin")
    auto_close_hours: Mapped[float | None] = mapped_column(Float, default=48.0)
    auto_respond: Mapped[bool] = mapped_column(Boolean, default=True)
    # Round robin: the agent who got the last ticket.
    last_assigned_user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=now)


class AutomationRun(Base):
    """``support_automation_runs``: a fire-once key per (rule, ticket, occasion).

    Inserted with insert-or-ignore before an automation acts, so two workers racing on the
    same occasion act once; a time rule also claims the occasion its own change creates, so it
    never triggers itself.
    """

    __tablename__ = "support_automation_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("support_tickets.id", ondelete="CASCADE"),
        index=True,
    )
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Macro(Base):
    """``support_macros``: a named reply with placeholders and optional field changes."""

    __tablename__ = "support_macros"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"status": ..., "priority": ..., "category": ..., "assigned_to": ...}
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
