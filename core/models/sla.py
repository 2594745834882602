"""SLA policies per tenant, by category and priority."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId


class SlaPolicy(Base):
    """Targets for first response and resolution; ``category`` NULL applies to every category."""

    __tablename__ = "support_sla_policies"
    __table_args__ = (
        UniqueConstraint("tenant_id", "category", "priority"),
        CheckConstraint("priority IN ('Low', 'Medium', 'High', 'Critical')", name="priority"),
        CheckConstraint("response_minutes > 0 AND resolution_minutes > 0", name="minutes"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    category: Mapped[str | None] = mapped_column(String(50), default=None)
    priority: Mapped[str] = mapped_column(String(20))
    response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    # None: 24x7. Else {"timezone": ..., "hours": {"mon": [["09:00", "17:00"]]}, "holidays": [...]}
    calendar: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
