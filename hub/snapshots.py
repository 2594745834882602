"""Build the event snapshots plugins receive, in a constant number of queries per event."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from core.models import Comment, OutboxEvent, Ticket
from core.services.snapshots import people, snapshot_of
from core.types import CommentSnapshot, TicketEvent


def event_snapshot(
    session: Session, row: OutboxEvent, url_for: Callable[[uuid.UUID, int], str]
) -> TicketEvent:
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    comment = None
    snap = None
    if ticket is not None:
        comment_id = row.payload.get("comment_id")
        c = session.get(Comment, comment_id) if comment_id else None
        ids = {ticket.created_by} | ({ticket.assigned_to} if ticket.assigned_to else set())
        if c is not None:
            ids.add(c.user_id)
        known = people(session, ticket.tenant_id, ids)
        snap = snapshot_of(session, ticket, url_for(ticket.tenant_id, ticket.id), known)
        if c is not None:
            comment = CommentSnapshot(
                id=c.id,
                author=known[c.user_id],
                body=c.comment,
                is_internal=c.is_internal,
                channel=c.channel,
                created_at=c.created_at,
            )
    return TicketEvent(
        id=row.id,
        type=row.event_type,
        tenant_id=row.tenant_id,
        ticket=snap,
        comment=comment,
        actor_id=row.payload.get("actor_id"),
        payload=dict(row.payload),
        created_at=row.created_at,
    )
