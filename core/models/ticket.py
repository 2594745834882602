"""The spec's section 11 tables, each with the ``tenant_id`` that scopes every query."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId
from core.lifecycle import PRIORITIES, STATUSES


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Ticket(Base):
    """``support_tickets``: one request for help."""

    __tablename__ = "support_tickets"
    __table_args__ = (
        CheckConstraint(f"priority IN {_in(PRIORITIES)}", name="priority"),
        CheckConstraint(f"status IN {_in(STATUSES)}", name="status"),
        CheckConstraint(
            "satisfaction_rating IS NULL OR satisfaction_rating BETWEEN 1 AND 5", name="csat"
        ),
        Index("ix_support_tickets_tenant_id_id", "tenant_id", "id"),
        Index("ix_support_tickets_tenant_status_id", "tenant_id", "status", "id"),
        Index("ix_support_tickets_tenant_priority_id", "tenant_id", "priority", "id"),
        Index("ix_support_tickets_tenant_category_id", "tenant_id", "category", "id"),
        Index("ix_support_tickets_tenant_assigned_id", "tenant_id", "assigned_to", "id"),
        Index("ix_support_tickets_tenant_creator_id", "tenant_id", "created_by", "id"),
        Index("ix_support_tickets_tenant_updated_id", "tenant_id", "updated_at", "id"),
        Index("ix_support_tickets_tenant_created_id", "tenant_id", "created_at", "id"),
        Index("ix_support_tickets_tenant_breached_id", "tenant_id", "sla_breached", "id"),
        Index("ix_support_tickets_tenant_group_id", "tenant_id", "group_id", "id"),
        # Retention reads a tenant's tickets closed before a cut-off.
        Index("ix_support_tickets_tenant_closed_at", "tenant_id", "closed_at"),
        Index(
            "ix_support_tickets_merged_into_id",
            "merged_into_id",
            postgresql_where=text("merged_into_id IS NOT NULL"),
            sqlite_where=text("merged_into_id IS NOT NULL"),
        ),
        Index(
            "ix_support_tickets_sla_due_at",
            "sla_due_at",
            postgresql_where=text("sla_due_at IS NOT NULL"),
            sqlite_where=text("sla_due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"))
    created_by: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id"))
    assigned_to: Mapped[int | None] = mapped_column(Integer, ForeignKey("auth_user.id"))
    subject: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(50))
    priority: Mapped[str] = mapped_column(
        String(20), default="Medium", server_default=text("'Medium'")
    )
    status: Mapped[str] = mapped_column(String(20), default="New", server_default=text("'New'"))
    sla_due_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    satisfaction_rating: Mapped[int | None] = mapped_column(Integer, default=None)
    feedback: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(
        default=now, server_default=text("CURRENT_TIMESTAMP")
    )
    updated_at: Mapped[datetime] = mapped_column(
        default=now, server_default=text("CURRENT_TIMESTAMP")
    )
    # Beyond the spec: what the product needs to run.
    channel: Mapped[str] = mapped_column(String(20), default="api")
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    merged_into_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("support_tickets.id")
    )
    # The agent group (core.groups) that owns the ticket; None: no group, the tenant's pool.
    group_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("agent_groups.id", ondelete="SET NULL"), default=None
    )


class Comment(Base):
    """``support_comments``: a public reply or an internal note."""

    __tablename__ = "support_comments"
    __table_args__ = (Index("ix_support_comments_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("support_tickets.id", ondelete="CASCADE"),
    )
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id"))
    comment: Mapped[str] = mapped_column(Text)
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(
        default=now, server_default=text("CURRENT_TIMESTAMP")
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="api")
    # The channel could not authenticate who wrote it (mail without aligned SPF/DKIM, or a
    # staff address that did not write to its own signed reply address): shown to agents.
    unverified_sender: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )


class Attachment(Base):
    """``support_attachments``: a file stored outside the web root under a generated name."""

    __tablename__ = "support_attachments"
    # The quarantine page and the rescan read held files only: a small partial index.
    __table_args__ = (
        Index(
            "ix_support_attachments_held",
            "tenant_id",
            "held",
            postgresql_where=text("held IS NOT NULL"),
            sqlite_where=text("held IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("support_tickets.id", ondelete="CASCADE"),
        index=True,
    )
    uploaded_by: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id"))
    file_path: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column(Integer)
    mime_type: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(
        default=now, server_default=text("CURRENT_TIMESTAMP")
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("support_comments.id", ondelete="SET NULL"),
    )
    sha256: Mapped[str] = mapped_column(String(64), default="")
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # The malware scan (``core.scan``): clean, infected or not_scanned, with what was found.
    scan_status: Mapped[str] = mapped_column(
        String(20), default="not_scanned", server_default="not_scanned"
    )
    scan_signature: Mapped[str] = mapped_column(String(255), default="", server_default="")
    scanned_at: Mapped[datetime | None] = mapped_column(default=None)
    # Why no download serves the file (None: it is served): "infected" (quarantined) or
    # "unscanned" (the scanner was down; kept until a rescan). Released by an admin: None again.
    held: Mapped[str | None] = mapped_column(String(20), default=None)
    released_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("auth_user.id", ondelete="SET NULL"), default=None
    )
    released_at: Mapped[datetime | None] = mapped_column(default=None)


class SlaLog(Base):
    """``support_sla_logs``: SLA warnings and breaches, written once per ticket and target."""

    __tablename__ = "support_sla_logs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("support_tickets.id", ondelete="CASCADE"),
        index=True,
    )
    event: Mapped[str] = mapped_column(String(50))
    event_time: Mapped[datetime] = mapped_column(
        default=now, server_default=text("CURRENT_TIMESTAMP")
    )
    details: Mapped[str | None] = mapped_column(Text)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"), index=True)
    target: Mapped[str | None] = mapped_column(String(20))
    # Unique: the same warning or breach of the same cycle is logged once, however many sweeps race.
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)


class Audit(Base):
    """``support_ticket_audit``: who did what, old and new value, in the change's transaction.

    ``ticket_id`` is nullable (the spec has NOT NULL) so that tenant-level actions such as
    enabling a plugin land in the same trail.
    """

    __tablename__ = "support_ticket_audit"
    __table_args__ = (
        Index("ix_support_ticket_audit_ticket_id_id", "ticket_id", "id"),
        Index("ix_support_ticket_audit_tenant_id_id", "tenant_id", "id"),
        Index("uq_support_ticket_audit_tenant_id_seq", "tenant_id", "seq", unique=True),
        Index(
            "ix_support_ticket_audit_unsealed",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # No foreign key (migration 0033_audit_chain dropped the spec's ON DELETE CASCADE): the rows
    # are links of the tenant's hash chain, so deleting a ticket (retention) keeps its trail,
    # which only audit retention (core.audit_chain.prune_audit) removes, leaving a checkpoint.
    ticket_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    action: Mapped[str] = mapped_column(String(50))
    performed_by: Mapped[int | None] = mapped_column(Integer, ForeignKey("auth_user.id"))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        default=now, server_default=text("CURRENT_TIMESTAMP")
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"))
    details: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # The hash chain (None until the sealer links the row; see core.audit_chain).
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    row_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    # Put into the hash by the sealer; a redaction drops it (core.audit_chain.redact).
    salt: Mapped[str | None] = mapped_column(String(32), default=None)
    # The redaction that rewrote the row's personal columns (its erasure row names it).
    redacted_by: Mapped[str | None] = mapped_column(String(32), default=None)


# Auto-close (core.automation.sweep) reads only Resolved tickets, by resolution time (created by
# migration "sla").
Index(
    "ix_support_tickets_resolved_at",
    Ticket.__table__.c.resolved_at,
    postgresql_where=text("status = 'Resolved'"),
    sqlite_where=text("status = 'Resolved'"),
)
