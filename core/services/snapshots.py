"""Tickets as plugins read them: a ``TicketSnapshot`` (people, refs), never the ORM row.

Event snapshots (``hub.snapshots``) and a channel's ticket card are built here, in a constant
number of queries.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import ExternalRef, Membership, Ticket, User
from core.types import Person, TicketSnapshot


def people(session: Session, tenant_id: uuid.UUID, ids: set[int]) -> dict[int, Person]:
    """Users by id, each with their role in the tenant (None for a non-member)."""
    rows = session.execute(
        select(User.id, User.email, User.full_name, Membership.role)
        .outerjoin(
            Membership, (Membership.user_id == User.id) & (Membership.tenant_id == tenant_id)
        )
        .where(User.id.in_(ids))
    ).all()
    return {r[0]: Person(id=r[0], email=r[1], name=r[2], role=r[3]) for r in rows}


def snapshot_of(
    session: Session, ticket: Ticket, url: str, known: dict[int, Person] | None = None
) -> TicketSnapshot:
    """The snapshot of a loaded ticket; ``known`` people save their query."""
    ids = {ticket.created_by} | ({ticket.assigned_to} if ticket.assigned_to else set())
    found = known if known is not None else people(session, ticket.tenant_id, ids)
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
        requester=found[ticket.created_by],
        assignee=found.get(ticket.assigned_to) if ticket.assigned_to else None,
        url=url,
        refs=refs,
        group_id=ticket.group_id,
    )


def ticket_snapshot(
    session: Session, tenant_id: uuid.UUID, ticket_id: int, url: str
) -> TicketSnapshot | None:
    """The tenant's ticket as a snapshot (a channel's card); None when it is not the tenant's."""
    ticket = session.scalar(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.tenant_id == tenant_id)
    )
    return snapshot_of(session, ticket, url) if ticket is not None else None


def ticket_exists(session: Session, tenant_id: uuid.UUID, ticket_id: int) -> bool:
    """Whether the tenant has this ticket."""
    found = session.scalar(
        select(Ticket.id).where(Ticket.id == ticket_id, Ticket.tenant_id == tenant_id)
    )
    return found is not None
