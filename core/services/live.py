"""What a transaction announces to the live streams once it commits.

Services note small facts here as they write (a ticket created or changed, a comment added, a
person's notifications changed); the facts wait in ``session.info`` and the hub's live bus
(``hub.live_bus``) publishes them once the transaction commits and forgets them on rollback, so
nothing uncommitted is ever announced. Each fact carries what a stream needs to decide, without a
query, whether its person may see it: the tenant, the ticket's requester, whether it is internal,
and the recipient of a notification. Facts name ids only; the page refetches what it shows.

Kinds: ``t`` a new ticket, ``u`` a ticket changed, ``c`` a comment (or attachment) added,
``n`` a person's notifications changed.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from core.models import Ticket
from core.permissions import Actor
from core.services import events

PENDING = "hub.live.pending"  # the session.info key of a transaction's facts

# Outbox event types and the kind of fact each one is for the streams.
_KIND = {
    events.TICKET_CREATED: "t",
    events.TICKET_UPDATED: "u",
    events.TICKET_MERGED: "u",
    events.TICKET_ESCALATED: "u",
    events.SLA_WARNING: "u",
    events.SLA_BREACHED: "u",
    events.COMMENT_ADDED: "c",
    events.ATTACHMENT_ADDED: "c",
}


def note(session: Session, fact: dict[str, Any]) -> None:
    """Keep one fact until the transaction ends."""
    session.info.setdefault(PENDING, []).append(fact)


def take(session: Session) -> list[dict[str, Any]]:
    """The facts noted so far, forgotten by the session."""
    return session.info.pop(PENDING, None) or []


def notified(session: Session, tenant_id: uuid.UUID, user_id: int) -> None:
    """A person's notifications changed (one added, or read): their unread count did."""
    note(session, {"k": "n", "tenant": str(tenant_id), "user": user_id})


def _requester(session: Session, ticket_id: int) -> int | None:
    """The ticket's requester when the session already holds the ticket (no query)."""
    ticket = session.identity_map.get(identity_key(Ticket, ticket_id))
    return None if ticket is None else getattr(ticket, "created_by", None)


def _on_event(session: Session, event: events.EventLike, actor: Actor) -> None:
    kind = _KIND.get(event.event_type)
    if kind is None or event.ticket_id is None:
        return
    payload = event.payload or {}
    fact: dict[str, Any] = {
        "k": kind,
        "tenant": str(event.tenant_id),
        "ticket": event.ticket_id,
        "req": _requester(session, event.ticket_id),  # None: the bus looks it up, once a commit
        "internal": bool(payload.get("is_internal", False)),
        "by": actor.user_id,
    }
    if event.event_type == events.COMMENT_ADDED and payload.get("comment_id") is not None:
        fact["comment"] = int(payload["comment_id"])
    note(session, fact)


events.add_listener(_on_event)
