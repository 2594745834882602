"""The audit trail as a CSV file, streamed a keyset page at a time (both the API and the
console serve it); the export itself is audited (``audit.exported``) before the file starts.
Also ``record_read``: the audit row of a read worth recording (a download, an export), written
from a GET route, whose own session is a read one (maybe a replica)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.responses import StreamingResponse

from core.permissions import Actor, require_admin
from core.services import audit, audit_trail, events
from hub import exports
from hub.context import Hub

AUDIT_EXPORTED = "audit.exported"


def record_read(
    hub: Hub,
    actor: Actor,
    action: str,
    *,
    ip: str = "",
    ticket_id: int | None = None,
    new: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Commit one audit row for a read: the ticket trail when it concerns a ticket, else the
    tenant trail; committed before the answer starts."""
    with hub.session() as s:
        if ticket_id is not None:
            events.audit(s, actor, action=action, ticket_id=ticket_id, new=new, details=details)
        else:
            audit.by_actor(s, actor, action, ip=ip, details=details)
        s.commit()


def _cells(row: dict[str, Any]) -> list[Any]:
    out = []
    for col in audit_trail.CSV_COLUMNS:
        value = row.get(col)
        if col == "details" and value is not None:
            value = json.dumps(value, sort_keys=True)
        elif col == "created_at" and value is not None:
            value = value.isoformat()
        out.append(value)
    return out


def csv_response(
    hub: Hub, actor: Actor, filters: audit_trail.Filters, ip: str
) -> StreamingResponse:
    """Record the export, then stream every matching row as CSV."""
    require_admin(actor, "export the audit log")
    record_read(hub, actor, AUDIT_EXPORTED, ip=ip, details=filters.query())

    def rows() -> Iterator[list[Any]]:
        with hub.read_session() as s:
            for row in audit_trail.stream(s, actor, filters):
                yield _cells(row)

    table = exports.Table("Audit", list(audit_trail.CSV_COLUMNS), rows())
    name = f"audit-{filters.chosen}.csv"
    return StreamingResponse(
        exports.csv_stream([], [table]),
        media_type=exports.MEDIA["csv"],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
