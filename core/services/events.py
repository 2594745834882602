"""Audit rows and outbox events, written in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from core.clock import now
from core.models import Audit, OutboxEvent
from core.permissions import Actor

# Hot paths insert these rows with Core statements (no objects kept in the session).
AUDIT_TABLE = cast(Table, Audit.__table__)
OUTBOX_TABLE = cast(Table, OutboxEvent.__table__)
# Built once: constructing a statement and its cache key costs more than running it.
_INSERT_AUDIT = insert(AUDIT_TABLE)
_INSERT_OUTBOX = insert(OUTBOX_TABLE)

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


class EventLike(Protocol):
    """What an in-transaction listener reads of an event: an ``OutboxEvent`` row, or the
    ``EventView`` that ``emit_many`` passes (no ORM object per event on the hot path)."""

    @property
    def tenant_id(self) -> uuid.UUID: ...
    @property
    def ticket_id(self) -> int | None: ...
    @property
    def event_type(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class EventView:
    """An event written by ``emit_many``, as its listeners see it (it has no id yet)."""

    tenant_id: uuid.UUID
    ticket_id: int | None
    event_type: str
    payload: dict[str, Any]


Listener = Callable[[Session, EventLike, Actor], None]
_listeners: list[Listener] = []
# Listeners that see a new ticket before its INSERT, to fill in derived columns (the SLA due
# moment) so that the row is written once, not inserted and then updated.
CreationListener = Callable[[Session, Any], None]
_creation_listeners: list[CreationListener] = []


def add_listener(listener: Listener) -> None:
    """Register an in-transaction listener (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


def add_creation_listener(listener: CreationListener) -> None:
    """Register a listener called with each new ticket before it is first flushed."""
    if listener not in _creation_listeners:
        _creation_listeners.append(listener)


def before_create(session: Session, ticket: Any) -> None:
    """Run the creation listeners on a ticket that has no id yet."""
    for listener in list(_creation_listeners):
        listener(session, ticket)


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


def audit_many(session: Session, rows: list[tuple[Actor, dict[str, Any]]]) -> None:
    """Several audit rows (``audit``'s keywords per actor) in one bulk INSERT. Nothing is kept
    in the session: for hot paths that write many rows and never read them back."""
    if not rows:
        return
    at = now()
    session.execute(
        _INSERT_AUDIT,
        [
            {
                "tenant_id": actor.tenant_id,
                "ticket_id": kw.get("ticket_id"),
                "action": kw["action"],
                "performed_by": actor.user_id,
                "old_value": _text(kw.get("old")),
                "new_value": _text(kw.get("new")),
                "details": kw.get("details"),
                "created_at": at,
            }
            for actor, kw in rows
        ],
    )


def emit_many(
    session: Session, items: list[tuple[Actor, str, uuid.UUID, int | None, dict[str, Any]]]
) -> None:
    """Several events (actor, type, tenant, ticket, payload) in one bulk INSERT; the listeners
    still see each event, as a transient ``OutboxEvent`` without an id."""
    if not items:
        return
    rows = [
        _event_values(actor, event_type, tenant_id, ticket_id, payload)
        for actor, event_type, tenant_id, ticket_id, payload in items
    ]
    session.execute(_INSERT_OUTBOX, rows)
    for (actor, *_), row in zip(items, rows, strict=True):
        view = EventView(row["tenant_id"], row["ticket_id"], row["event_type"], row["payload"])
        for listener in list(_listeners):
            listener(session, view, actor)


def _event_values(
    actor: Actor,
    event_type: str,
    tenant_id: uuid.UUID,
    ticket_id: int | None,
    payload: dict[str, Any] | None,
) -> dict[str, Any]:
    body = dict(payload or {})
    body.setdefault("actor_id", actor.user_id)
    body.setdefault("actor_role", actor.role)
    at = now()
    values = {
        "tenant_id": tenant_id,
        "ticket_id": ticket_id,
        "event_type": event_type,
        "payload": body,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "done_plugins": {},
        "created_at": at,
    }
    return values


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
    event = OutboxEvent(**_event_values(actor, event_type, tenant_id, ticket_id, payload))
    session.add(event)
    for listener in list(_listeners):
        listener(session, event, actor)
    return event
