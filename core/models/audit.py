"""``tenant_audit``: the tenant-level trail of people and access (sign-ins, members, roles).

Ticket changes keep their own trail (``support_ticket_audit``); this one records who signed in
or failed to, and what was done to memberships, with the client address. It never holds a
password, a token or any other secret: ``details`` names what changed, not secret values.

Both trails are hash chains per tenant (``core.audit_chain``): rows are inserted without their
chain fields (``seq``, ``prev_hash``, ``row_hash``) and sealed afterwards, in order, by the
sealer; ``audit_chain_heads`` keeps each chain's last link and its pruning checkpoint.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId


class TenantAudit(Base):
    __tablename__ = "tenant_audit"
    __table_args__ = (
        Index("ix_tenant_audit_tenant_id_id", "tenant_id", "id"),
        Index("uq_tenant_audit_tenant_id_seq", "tenant_id", "seq", unique=True),
        # The sealer's work list: rows not chained yet (few at any moment).
        Index(
            "ix_tenant_audit_unsealed",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

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
    # The hash chain (None until the sealer links the row; see core.audit_chain).
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    row_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    # Put into the hash by the sealer; a redaction drops it (core.audit_chain.redact).
    salt: Mapped[str | None] = mapped_column(String(32), default=None)
    # The redaction that rewrote the row's personal columns (its erasure row names it).
    redacted_by: Mapped[str | None] = mapped_column(String(32), default=None)


class AuditChainHead(Base):
    """The last sealed link of one tenant's chain (``chain``: ``ticket`` or ``tenant``), and the
    checkpoint left by pruning: the hash and seq of the last row deleted, how many were deleted
    in all, and an HMAC of those under the hub's secret key."""

    __tablename__ = "audit_chain_heads"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    chain: Mapped[str] = mapped_column(String(10), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    pruned_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    pruned_hash: Mapped[str] = mapped_column(String(64), default="")
    pruned_count: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoint_mac: Mapped[str] = mapped_column(String(64), default="")
    checkpoint_at: Mapped[datetime | None] = mapped_column(default=None)
