"""The ticket list as export rows: keyset pages of plain columns, so memory stays flat."""

from __future__ import annotations

import uuid
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


def export_headers(session: Session, tenant_id: uuid.UUID) -> tuple[list[str], list[str]]:
    """(the export's headers, the custom field keys): the plain columns, ``tags``, then a
    ``field.<key>`` column per active custom field in its order."""
    from core.fields.service import definitions

    keys = [d.key for d in definitions(session, tenant_id)]
    return [*HEADERS, "tags", *(f"field.{k}" for k in keys)], keys


def _with_extras(
    session: Session, rows: list[Any], field_keys: list[str]
) -> Iterator[tuple[Any, ...]]:
    """Each row with its tags and field values: one query per chunk of rows."""
    from core.fields.extras import page_extras
    from core.fields.service import display

    tags, values = page_extras(session, [r.id for r in rows])
    for row in rows:
        mine = values.get(row.id, {})
        yield (
            *row,
            ", ".join(tags.get(row.id, [])),
            *(display(mine.get(k)) for k in field_keys),
        )


def ticket_rows(
    session: Session,
    actor: Actor,
    flt: TicketFilter,
    *,
    chunk: int = 5000,
    field_keys: list[str] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Every ticket the filter selects, oldest first, ``chunk`` rows per query; with
    ``field_keys`` (from ``export_headers``) each row ends with its tags and field values."""
    if not actor.reads_all_tickets:
        raise Forbidden("ticket exports are for agents, admins and managers")
    base = ticket_query(actor, flt).with_only_columns(*(c for _, c in COLUMNS))
    last_id = 0
    while True:
        rows = session.execute(
            base.where(Ticket.id > last_id).order_by(Ticket.id).limit(chunk)
        ).all()
        if field_keys is not None:
            yield from _with_extras(session, list(rows), field_keys)
        else:
            for row in rows:
                yield tuple(row)
        if len(rows) < chunk:
            return
        last_id = rows[-1].id
