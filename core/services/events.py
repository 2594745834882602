"""Audit rows and outbox events, written in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from core.clock import now
from core.models import Audit, OutboxEvent
from core.permissions import Actor

# Event types written to the outbox; the notification and escalation hooks receive them.
TICKET_CREATED = "ticket.created"
TICKET_UPDATED = "ticket.updated"
COMMENT_ADDED = "comment.added"
ATTACHMENT_ADDED = "attachment.added"
TICKET_MERGED = "ticket.merged"
TICKET_ESCALATED = "ticket.escalated"
SLA_WARNING = "sla.warning"
SLA_BREACHED = "sla.breached"
EVENT_TYPES = (
    TICKET_CREATED,
    TICKET_UPDATED,
    COMMENT_ADDED,
    ATTACHMENT_ADDED,
    TICKET_MERGED,
    TICKET_ESCALATED,
    SLA_WARNING,
    SLA_BREACHED,
)

# In-process listeners run inside the transaction when an event is emitted (SLA recompute,
# automation rules). They are core's own machinery, not plugins: plugins see events through
# the outbox, after commit.
Listener = Callable[[Session, OutboxEvent, Actor], None]
_listeners: list[Listener] = []


def add_listener(listener: Listener) -> None:
    """Register an in-transaction listener (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def audit(
    session: Session,
    actor: Actor,
    *,
    action: str,
    ticket_id: int | None,
    old: Any = None,
    new: Any = None,
    details: dict[str, Any] | None = None,
) -> Audit:
    """Write one ``support_ticket_audit`` row."""
    row = Audit(
        tenant_id=actor.tenant_id,
        ticket_id=ticket_id,
        action=action,
        performed_by=actor.user_id,
        old_value=_text(old),
        new_value=_text(new),
        details=details,
        created_at=now(),
    )
    session.add(row)
    return row


def emit(
    session: Session,
    actor: Actor,
    event_type: str,
    *,
    tenant_id: uuid.UUID,
    ticket_id: int | None,
    payload: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Write one outbox row and run the in-transaction listeners."""
    body = dict(payload or {})
    body.setdefault("actor_id", actor.user_id)
    body.setdefault("actor_role", actor.role)
    event = OutboxEvent(
        tenant_id=tenant_id,
        ticket_id=ticket_id,
        event_type=event_type,
        payload=body,
        status="pending",
        attempts=0,
        next_attempt_at=now(),
        done_plugins={},
        created_at=now(),
    )
    session.add(event)
    for listener in list(_listeners):
        listener(session, event, actor)
    return event
