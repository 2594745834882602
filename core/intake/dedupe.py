"""Seen this delivery before? One unique key per tenant, channel and message (Message-ID, Slack
event_id, ...), written in the same transaction as the ticket or comment it became."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select
from sqlalchemy.orm import Session

from core.intake.message import InboundMessage, IngestResult
from core.models import InboundKey

Key = tuple[uuid.UUID, str, str]


def key_of(tenant_id: uuid.UUID, msg: InboundMessage) -> Key:
    """The message's dedupe key as stored (tenant, channel, key cut to the column's size)."""
    return (tenant_id, msg.channel, msg.dedupe_key[:300])


def find_duplicate(
    session: Session, tenant_id: uuid.UUID, msg: InboundMessage
) -> IngestResult | None:
    """What an earlier delivery of this message became, or None when it is new."""
    row = session.scalar(
        select(InboundKey).where(
            InboundKey.tenant_id == tenant_id,
            InboundKey.channel == msg.channel,
            InboundKey.key == msg.dedupe_key[:300],
        )
    )
    if row is None:
        return None
    return IngestResult(
        outcome="duplicate",
        ticket_id=row.ticket_id,
        comment_id=row.comment_id,
        reason=f"already received as {row.outcome}",
    )


# Built once: building a statement and its cache key costs more than running it here
# (expanding parameters take the lists). Plain columns: nothing needs a loaded ``InboundKey``.
_TABLE = cast(Table, InboundKey.__table__)
_KEYS = select(
    _TABLE.c.tenant_id,
    _TABLE.c.channel,
    _TABLE.c.key,
    _TABLE.c.ticket_id,
    _TABLE.c.comment_id,
    _TABLE.c.outcome,
).where(
    _TABLE.c.tenant_id == bindparam("tenant"),
    _TABLE.c.channel == bindparam("channel"),
    _TABLE.c.key.in_(bindparam("keys", expanding=True)),
)
_INSERT_KEYS = insert(_TABLE)


def stored_keys(
    session: Session, items: list[tuple[uuid.UUID, InboundMessage]]
) -> dict[Key, IngestResult]:
    """``find_duplicate`` for a batch: one query per tenant and channel of the batch."""
    found: dict[Key, IngestResult] = {}
    wanted: dict[tuple[uuid.UUID, str], set[str]] = {}
    for tenant_id, msg in items:
        wanted.setdefault((tenant_id, msg.channel), set()).add(msg.dedupe_key[:300])
    for (tenant_id, channel), values in wanted.items():
        for row in session.execute(
            _KEYS, {"tenant": tenant_id, "channel": channel, "keys": sorted(values)}
        ):
            found[(row.tenant_id, row.channel, row.key)] = IngestResult(
                outcome="duplicate",
                ticket_id=row.ticket_id,
                comment_id=row.comment_id,
                reason=f"already received as {row.outcome}",
            )
    return found


def record_keys(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """The dedupe key rows of a batch, in one statement (a concurrent second delivery of one of
    them fails on the unique constraint, and the caller reports it as a duplicate)."""
    if rows:
        connection.execute(_INSERT_KEYS, rows)
