"""Seen-once for inbound deliveries: "have I handled this delivery?" over the dedupe keys.

A channel records the key of a delivery (a webhook id, a signed body's hash, a comment id it
posted) in the transaction of its effects; the unique index on (tenant, channel, key) makes a
concurrent second delivery fail on commit, and ``seen`` answers a later one before any work.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.models import InboundKey

MAX_KEY = 300  # the column's length


def seen(session: Session, tenant_id: uuid.UUID, channel: str, key: str) -> bool:
    """Whether a delivery with this key was recorded for the tenant and channel."""
    return (
        session.scalar(
            select(InboundKey.id).where(
                InboundKey.tenant_id == tenant_id,
                InboundKey.channel == channel,
                InboundKey.key == key[:MAX_KEY],
            )
        )
        is not None
    )


def record_seen(
    session: Session,
    tenant_id: uuid.UUID,
    channel: str,
    key: str,
    *,
    outcome: str,
    ticket_id: int | None = None,
    comment_id: int | None = None,
    raw_path: str | None = None,
) -> None:
    """Record a delivery's key in the caller's transaction (``outcome`` says what it became;
    ``raw_path`` is the blob key of the raw message, when one was kept)."""
    session.add(
        InboundKey(
            tenant_id=tenant_id,
            channel=channel,
            key=key[:MAX_KEY],
            ticket_id=ticket_id,
            comment_id=comment_id,
            outcome=outcome,
            raw_path=raw_path,
            created_at=now(),
        )
    )


def key_of_comment(
    session: Session, tenant_id: uuid.UUID, channel: str, comment_id: int
) -> str | None:
    """The key of the delivery a comment came in with on ``channel``; None when it did not."""
    return session.scalar(
        select(InboundKey.key)
        .where(
            InboundKey.tenant_id == tenant_id,
            InboundKey.channel == channel,
            InboundKey.comment_id == comment_id,
        )
        .limit(1)
    )


def opening_raw(session: Session, tenant_id: uuid.UUID, ticket_id: int) -> str | None:
    """The blob key of the raw message that opened the ticket, when one was kept."""
    return session.scalar(
        select(InboundKey.raw_path)
        .where(
            InboundKey.tenant_id == tenant_id,
            InboundKey.ticket_id == ticket_id,
            InboundKey.outcome == "ticket",
        )
        .limit(1)
    )
