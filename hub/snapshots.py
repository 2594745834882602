"""Build the event snapshots plugins receive, in a constant number of queries per event."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Comment, ExternalRef, Membership, OutboxEvent, Ticket, User
from core.types import CommentSnapshot, Person, TicketEvent, TicketSnapshot


def _people(session: Session, ticket: Ticket, ids: set[int]) -> dict[int, Person]:
    rows = session.execute(
        select(User.id, User.email, User.full_name, Membership.role)
        .outerjoin(
            Membership, (Membership.user_id == User.id) & (Membership.tenant_id == ticket.tenant_id)
        )
        .where(User.id.in_(ids))
    ).all()
    return {r[0]: Person(id=r[0], email=r[1], name=r[2], role=r[3]) for r in rows}


def ticket_snapshot(
    session: Session, ticket: Ticket, url: str, people: dict[int, Person] | None = None
) -> TicketSnapshot:
    ids = {ticket.created_by} | ({ticket.assigned_to} if ticket.assigned_to else set())
    people = people if people is not None else _people(session, ticket, ids)
    refs: dict[str, list[str]] = {}
    for kind, value in session.execute(
        select(ExternalRef.kind, ExternalRef.value)
        .where(ExternalRef.ticket_id == ticket.id, ExternalRef.tenant_id == ticket.tenant_id)
        .order_by(ExternalRef.id)
    ):
        refs.setdefault(kind, []).append(value)
    return TicketSnapshot(
        id=ticket.id,
        tenant_id=ticket.tenant_id,
        subject=ticket.subject,
        description=ticket.description,
        category=ticket.category,
        priority=ticket.priority,
        status=ticket.status,
        channel=ticket.channel,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        sla_due_at=ticket.sla_due_at,
        sla_breached=ticket.sla_breached,
        requester=people[ticket.created_by],
        assignee=people.get(ticket.assigned_to) if ticket.assigned_to else None,
        url=url,
        refs=refs,
    )


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
        people = _people(session, ticket, ids)
        snap = ticket_snapshot(session, ticket, url_for(ticket.tenant_id, ticket.id), people)
        if c is not None:
            comment = CommentSnapshot(
                id=c.id,
                author=people[c.user_id],
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
