"""Outbox events, inbound dedupe keys, external references and in-app notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
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
from core.db import Base, BigId

TicketFK = BigInteger().with_variant(Integer(), "sqlite")
OUTBOX_STATUSES = ("pending", "delivered", "failed")


class OutboxEvent(Base):
    """An event written in the transaction of the change; delivered to hooks at least once."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        Index("ix_outbox_events_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_events_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"))
    ticket_id: Mapped[int | None] = mapped_column(TicketFK)
    event_type: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=now)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Plugins that already took this event: a retry skips them, so one flaky channel
    # does not make the others send twice.
    done_plugins: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=now)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    # The delivery holding this row: set when it is taken (``next_attempt_at`` is then the end
    # of the lease, renewed while the holder works), cleared with the outcome.
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)


class InboundKey(Base):
    """One row per inbound message seen (Message-ID, Slack event_id, ...): dedupe by unique key."""

    __tablename__ = "inbound_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", "key"),
        # Retention of raw mail reads a tenant's oldest rows first.
        Index("ix_inbound_keys_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"))
    channel: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(300))
    ticket_id: Mapped[int | None] = mapped_column(TicketFK)
    comment_id: Mapped[int | None] = mapped_column(TicketFK)
    outcome: Mapped[str] = mapped_column(String(20), default="ticket")
    # The raw message as received (a blob key), kept for forensics and re-parsing.
    raw_path: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)


class ExternalRef(Base):
    """A ticket's identity elsewhere: an email Message-ID, a Slack thread, a Jira key, ..."""

    __tablename__ = "ticket_external_refs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "value"),
        Index("ix_ticket_external_refs_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"))
    ticket_id: Mapped[int] = mapped_column(
        TicketFK, ForeignKey("support_tickets.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(500))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Notification(Base):
    """An in-app notification for one user (assignment, mention, reply)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "tenant_id", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("auth_user.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(
        TicketFK, ForeignKey("support_tickets.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)
