"""A ticket's identities elsewhere (external refs): find the ticket of a ref, list a ticket's
refs, record one, keep state in its meta.

A ref is unique per tenant, kind and value: a Slack thread, a Jira issue key, a PagerDuty
dedup key belongs to one ticket of one tenant. Channels also use refs as delivery markers
(``slack_sent``: this notification went out). Every read here is limited to the tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import lifecycle
from core.errors import NotFound
from core.intake import add_ref
from core.models import ExternalRef, Ticket

MAX_VALUE = 500  # the column's length


@dataclass(frozen=True)
class Ref:
    """One external ref of a ticket, as plugins read it."""

    ticket_id: int
    kind: str
    value: str
    meta: dict[str, Any] = field(default_factory=dict)


def _ref(row: ExternalRef) -> Ref:
    return Ref(row.ticket_id, row.kind, row.value, dict(row.meta or {}))


def find_ref(session: Session, tenant_id: uuid.UUID, kind: str, value: str) -> Ref | None:
    """The tenant's ref of this kind and value, with its ticket and meta."""
    row = session.scalar(
        select(ExternalRef).where(
            ExternalRef.tenant_id == tenant_id,
            ExternalRef.kind == kind,
            ExternalRef.value == value[:MAX_VALUE],
        )
    )
    return _ref(row) if row is not None else None


def ticket_by_ref(
    session: Session,
    tenant_id: uuid.UUID,
    kinds: str | Sequence[str],
    values: str | Sequence[str],
) -> int | None:
    """The ticket holding a ref of one of ``kinds`` with one of ``values``, the newest ref
    first."""
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    values = (values,) if isinstance(values, str) else tuple(values)
    return session.scalar(
        select(ExternalRef.ticket_id)
        .where(
            ExternalRef.tenant_id == tenant_id,
            ExternalRef.kind.in_(kinds),
            ExternalRef.value.in_([v[:MAX_VALUE] for v in values]),
        )
        .order_by(ExternalRef.id.desc())
        .limit(1)
    )


def latest_ticket_by_prefix(
    session: Session, tenant_id: uuid.UUID, kind: str, prefix: str, *, open_only: bool = False
) -> int | None:
    """The ticket of the newest ref whose value starts with ``prefix`` (a conversation's
    activities); with ``open_only``, only a ticket that is not resolved or closed."""
    stmt = (
        select(ExternalRef.ticket_id)
        .join(Ticket, Ticket.id == ExternalRef.ticket_id)
        .where(
            ExternalRef.tenant_id == tenant_id,
            Ticket.tenant_id == tenant_id,
            ExternalRef.kind == kind,
            ExternalRef.value.startswith(prefix, autoescape=True),
        )
        .order_by(ExternalRef.id.desc())
        .limit(1)
    )
    if open_only:
        stmt = stmt.where(Ticket.status.not_in(lifecycle.DONE_STATUSES))
    return session.scalar(stmt)


def ticket_refs(session: Session, tenant_id: uuid.UUID, ticket_id: int, kind: str) -> list[Ref]:
    """The ticket's refs of one kind, oldest first."""
    rows = session.scalars(
        select(ExternalRef)
        .where(
            ExternalRef.tenant_id == tenant_id,
            ExternalRef.ticket_id == ticket_id,
            ExternalRef.kind == kind,
        )
        .order_by(ExternalRef.id)
    )
    return [_ref(r) for r in rows]


def add_ticket_ref(
    session: Session,
    tenant_id: uuid.UUID,
    ticket_id: int,
    kind: str,
    value: str,
    meta: dict[str, Any] | None = None,
) -> bool:
    """Record a ref of the ticket once; False (nothing recorded) when the ticket is not the
    tenant's."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.tenant_id != tenant_id:
        return False
    add_ref(session, ticket, kind, value, meta)
    return True


def merge_ref_meta(
    session: Session,
    tenant_id: uuid.UUID,
    ticket_id: int,
    kind: str,
    value: str,
    changes: dict[str, Any],
) -> None:
    """Merge ``changes`` into the meta of the ref, recording the ref on the ticket first when
    it has none (``NotFound`` when the ticket is not the tenant's)."""
    query = select(ExternalRef).where(
        ExternalRef.tenant_id == tenant_id,
        ExternalRef.kind == kind,
        ExternalRef.value == value[:MAX_VALUE],
    )
    row = session.scalar(query)
    if row is None:
        if not add_ticket_ref(session, tenant_id, ticket_id, kind, value):
            raise NotFound(f"ticket {ticket_id} not found")
        session.flush()
        row = session.scalars(query).one()
    # A new dict, so that the JSON column is seen as changed.
    row.meta = {**(row.meta or {}), **changes}
