"""SLA targets: which policy applies to a ticket and when it is next due.

This module keeps ``support_tickets.sla_due_at`` equal to the next due moment: the first-response
target until an agent has answered publicly, then the resolution target; nothing once the ticket
is Resolved or Closed. It runs as an in-transaction listener on ticket events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.lifecycle import DONE_STATUSES
from core.models import OutboxEvent, SlaPolicy, Ticket
from core.permissions import Actor
from core.services import events

# Spec section 4: per priority (minutes to first response, minutes to resolution).
DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    "Critical": (60, 4 * 60),
    "High": (4 * 60, 24 * 60),
    "Medium": (8 * 60, 3 * 24 * 60),
    "Low": (24 * 60, 7 * 24 * 60),
}


def policy_for(session: Session, ticket: Ticket) -> SlaPolicy | None:
    """The tenant's policy for the ticket's category and priority; a category-less one otherwise."""
    rows = session.scalars(select(SlaPolicy).where(
        SlaPolicy.tenant_id == ticket.tenant_id, SlaPolicy.priority == ticket.priority,
        SlaPolicy.is_active.is_(True),
        or_(SlaPolicy.category == ticket.category, SlaPolicy.category.is_(None))))
    best = None
    for row in rows:
        if row.category == ticket.category:
            return row
        best = row
    return best


def targets(session: Session, ticket: Ticket) -> tuple[int, int]:
    policy = policy_for(session, ticket)
    if policy is not None:
        return policy.response_minutes, policy.resolution_minutes
    return DEFAULT_TARGETS[ticket.priority]


def due_moments(session: Session, ticket: Ticket) -> tuple[datetime, datetime]:
    """(response due, resolution due), counted 24x7 from creation."""
    response, resolution = targets(session, ticket)
    return (ticket.created_at + timedelta(minutes=response),
            ticket.created_at + timedelta(minutes=resolution))


def recompute(session: Session, ticket: Ticket) -> None:
    """Set ``sla_due_at`` to the next due moment."""
    if ticket.status in DONE_STATUSES:
        ticket.sla_due_at = None
        return
    response_due, resolution_due = due_moments(session, ticket)
    ticket.sla_due_at = resolution_due if ticket.first_response_at else response_due


RECOMPUTE_ON = (events.TICKET_CREATED, events.TICKET_UPDATED, events.COMMENT_ADDED)


def on_event(session: Session, event: OutboxEvent, actor: Actor) -> None:
    """Listener: keep the due moment current as the ticket changes."""
    if event.event_type not in RECOMPUTE_ON or event.ticket_id is None:
        return
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is not None:
        recompute(session, ticket)


events.add_listener(on_event)
