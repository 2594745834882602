"""The version of a ticket that a reader saw, for optimistic concurrency: the API's ETag and the
console's hidden ``version`` field are the same digest, and what changed since a version is read
from the ticket's audit trail."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from core.models import Audit, Ticket
from core.permissions import Actor

# The audit actions that are changes of the ticket's fields (comments are not: they never
# overwrite anything, so a reply on a changed ticket is no conflict).
FIELD_ACTIONS = {
    "Status Change": "Status",
    "Priority Change": "Priority",
    "Category Change": "Category",
    "Assignment": "Assignee",
}
CHANGES_SHOWN = 50


def ticket_etag(ticket: Ticket) -> str:
    """A strong ETag of the ticket's stored state: a digest of every column, so that any change
    (by an agent, a rule, the SLA sweep) gives a new one."""
    values = {
        attr.key: _canonical(getattr(ticket, attr.key)) for attr in inspect(Ticket).column_attrs
    }
    digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode())
    return f'"{digest.hexdigest()[:32]}"'


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    return value


def if_match_holds(header: str, current: str) -> bool:
    """RFC 9110 If-Match: ``*`` or a list of entity tags, compared strongly."""
    tags = [t.strip() for t in header.split(",") if t.strip()]
    return "*" in tags or current in tags


def last_audit_id(session: Session, actor: Actor, ticket: Ticket) -> int:
    """The newest audit row of the ticket (0 if none): a form carries it so that a refused save
    can list what happened after the form was rendered (one indexed lookup)."""
    return int(
        session.scalar(
            select(func.max(Audit.id)).where(
                Audit.ticket_id == ticket.id, Audit.tenant_id == actor.tenant_id
            )
        )
        or 0
    )


@dataclass
class FieldChange:
    """One change another person (or the system) made after a form was rendered."""

    field: str
    old: str | None
    new: str | None
    by: int | None
    at: datetime


def changes_since(
    session: Session, actor: Actor, ticket: Ticket, after_audit_id: int
) -> list[FieldChange]:
    """The field changes of the ticket recorded after ``after_audit_id``, oldest first."""
    rows = session.scalars(
        select(Audit)
        .where(
            Audit.ticket_id == ticket.id,
            Audit.tenant_id == actor.tenant_id,
            Audit.id > after_audit_id,
            Audit.action.in_(list(FIELD_ACTIONS)),
        )
        .order_by(Audit.id)
        .limit(CHANGES_SHOWN)
    )
    return [
        FieldChange(FIELD_ACTIONS[a.action], a.old_value, a.new_value, a.performed_by, a.created_at)
        for a in rows
    ]
