"""``agent_groups`` and ``agent_group_members`` (migration ``0048_groups``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base


class AgentGroup(Base):
    """A team of agents (Tier 1, Tier 2, Billing specialists). ``tier`` orders the escalation
    ladder: "escalate to tier" moves a ticket to the group with the next higher tier."""

    __tablename__ = "agent_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    tier: Mapped[int | None] = mapped_column(Integer, default=None)
    # Round robin within the group: the member who got the group's last ticket.
    last_assigned_user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)


class AgentGroupMember(Base):
    """One agent in one group (a person may be in several)."""

    __tablename__ = "agent_group_members"

    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("agent_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
