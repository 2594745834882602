"""The ticket list as export rows: keyset pages of plain columns, so memory stays flat."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from core.errors import Forbidden
from core.models import Ticket
from core.permissions import Actor
from core.services.tickets import TicketFilter, ticket_query

COLUMNS = (
    ("id", Ticket.id),
    ("subject", Ticket.subject),
    ("status", Ticket.status),
    ("priority", Ticket.priority),
    ("category", Ticket.category),
    ("channel", Ticket.channel),
    ("requester", Ticket.created_by),
    ("assigned_to", Ticket.assigned_to),
    ("created_at", Ticket.created_at),
    ("updated_at", Ticket.updated_at),
    ("first_response_at", Ticket.first_response_at),
    ("resolved_at", Ticket.resolved_at),
    ("closed_at", Ticket.closed_at),
    ("sla_due_at", Ticket.sla_due_at),
    ("sla_breached", Ticket.sla_breached),
    ("satisfaction_rating", Ticket.satisfaction_rating),
)
HEADERS = tuple(name for name, _ in COLUMNS)


def ticket_rows(
    session: Session, actor: Actor, flt: TicketFilter, *, chunk: int = 5000
) -> Iterator[tuple[Any, ...]]:
    """Every ticket the filter selects, oldest first, ``chunk`` rows per query."""
    if not actor.reads_all_tickets:
        raise Forbidden("ticket exports are for agents, admins and managers")
    base = ticket_query(actor, flt, session).with_only_columns(*(c for _, c in COLUMNS))
    last_id = 0
    while True:
        rows = session.execute(
            base.where(Ticket.id > last_id).order_by(Ticket.id).limit(chunk)
        ).all()
        for row in rows:
            yield tuple(row)
        if len(rows) < chunk:
            return
        last_id = rows[-1].id
