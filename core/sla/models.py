"""SLA policies per tenant, by agent group, category and priority."""

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
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId


class SlaPolicy(Base):
    """Targets for first response and resolution; ``category`` NULL applies to every category,
    ``group_id`` NULL to every agent group (migration ``0049_sla_groups``)."""

    __tablename__ = "support_sla_policies"
    __table_args__ = (
        CheckConstraint("priority IN ('Low', 'Medium', 'High', 'Critical')", name="priority"),
        CheckConstraint("response_minutes > 0 AND resolution_minutes > 0", name="minutes"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    # The agent group whose tickets it covers; a group a policy names cannot be deleted
    # (core.groups.service.delete_group answers 409), the cascade is for the tenant's removal.
    group_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("agent_groups.id", ondelete="CASCADE"), default=None
    )
    category: Mapped[str | None] = mapped_column(String(50), default=None)
    priority: Mapped[str] = mapped_column(String(20))
    response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    # None: 24x7. Else {"timezone": ..., "hours": {"mon": [["09:00", "17:00"]]}, "holidays": [...]}
    calendar: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    # Share of a target's time after which the sweep logs SLA_WARNING (migration "sla").
    warning_percent: Mapped[int] = mapped_column(Integer, default=80, server_default=text("80"))


# One policy per tenant, group, category and priority, NULL ("every group", "every category")
# counting as one value: a plain UNIQUE would let two "every category / High" rows in.
SCOPE_INDEX = Index(
    "uq_support_sla_policies_scope",
    SlaPolicy.tenant_id,
    func.coalesce(SlaPolicy.group_id, 0),
    func.coalesce(SlaPolicy.category, ""),
    SlaPolicy.priority,
    unique=True,
)


class SlaState(Base):
    """``support_sla_states``: one ticket's SLA clock, kept by ``core.sla`` and the sweep.

    A *cycle* runs from creation (or from a reopen) to resolution. Paused business time
    (status Pending) is accumulated in ``paused_seconds``; while paused, ``paused_since`` is
    set and no target is due. ``next_check_at`` is the next moment the sweep must look at the
    ticket (a warning or a due moment not yet logged), indexed so that a sweep reads only the
    tickets that are due.
    """

    __tablename__ = "support_sla_states"
    __table_args__ = (
        Index(
            "ix_support_sla_states_next_check_at",
            "next_check_at",
            postgresql_where=text("next_check_at IS NOT NULL"),
            sqlite_where=text("next_check_at IS NOT NULL"),
        ),
        Index("ix_support_sla_states_tenant_id", "tenant_id"),
    )

    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("support_tickets.id", ondelete="CASCADE"),
        primary_key=True,
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("support_sla_policies.id", ondelete="SET NULL"), default=None
    )
    response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    warning_percent: Mapped[int] = mapped_column(Integer, default=80)
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    cycle_started_at: Mapped[datetime] = mapped_column()
    last_status: Mapped[str] = mapped_column(String(20))
    paused_since: Mapped[datetime | None] = mapped_column(default=None)
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    response_warn_at: Mapped[datetime | None] = mapped_column(default=None)
    response_due_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_due_at: Mapped[datetime | None] = mapped_column(default=None)
    response_warned_at: Mapped[datetime | None] = mapped_column(default=None)
    response_breached_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_warned_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(default=None)
    next_check_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=now)
