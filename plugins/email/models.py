"""The email plugin's own tables: parked messages, mailbox leases, sent mail, bounces."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.api import Base, BigId, JSONType, now


class ParkedMessage(Base):
    """A message that could not be turned into a ticket, kept with the reason for an admin."""

    __tablename__ = "email_parked_messages"
    __table_args__ = (
        Index("ix_email_parked_messages_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(300))  # "smtp" or "imap:<user>@<host>/<folder>"
    uid: Mapped[int | None] = mapped_column(Integer, default=None)
    message_id: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(String(255), default="")
    reason: Mapped[str] = mapped_column(Text)
    # The raw message as a blob key (the hub's blob store), never inline in the table.
    raw_path: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)


class MailboxLease(Base):
    """Who polls a mailbox right now: one poller per mailbox across processes."""

    __tablename__ = "email_mailbox_leases"
    __table_args__ = (UniqueConstraint("tenant_id", "mailbox"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    mailbox: Mapped[str] = mapped_column(String(300))
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column()


class SentMail(Base):
    """A mail we sent for an outbox event: makes a retried event send nothing twice, and counts
    automatic mail per recipient for the loop limit."""

    __tablename__ = "email_sent"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        Index(
            "ix_email_sent_tenant_id_recipient_created_at", "tenant_id", "recipient", "created_at"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigId)
    ticket_id: Mapped[int | None] = mapped_column(BigId, default=None)
    recipient: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(500))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Bounce(Base):
    """A delivery failure report received: which addresses failed (those users are marked)."""

    __tablename__ = "email_bounces"
    __table_args__ = (UniqueConstraint("tenant_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(String(300))
    recipients: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    marked: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=now)


class FailingAddress(Base):
    """An address whose mail bounced, for one tenant: no mail goes to it from that tenant until
    a later message from it arrives or an admin clears it (migration email_0002)."""

    __tablename__ = "email_failing_addresses"
    __table_args__ = (UniqueConstraint("tenant_id", "address"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(254))
    bounces: Mapped[int] = mapped_column(Integer, default=1)
    last_bounce_at: Mapped[datetime] = mapped_column(default=now)
