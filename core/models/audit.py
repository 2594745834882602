"""``tenant_audit``: the tenant-level trail of people and access (sign-ins, members, roles).

Ticket changes keep their own trail (``support_ticket_audit``); this one records who signed in
or failed to, and what was done to memberships, with the client address. It never holds a
password, a token or any other secret: ``details`` names what changed, not secret values.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId


class TenantAudit(Base):
    __tablename__ = "tenant_audit"
    __table_args__ = (Index("ix_tenant_audit_tenant_id_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(50))
    # Who did it (None: the person themselves before signing in, or the system).
    actor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="SET NULL"), default=None
    )
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    # Whom it concerns (the member whose role changed, the account that signed in).
    target_email: Mapped[str] = mapped_column(String(254), default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)
