"""The audit trail as a CSV file, streamed a keyset page at a time (both the API and the
console serve it); the export itself is audited (``audit.exported``) before the file starts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.responses import StreamingResponse

from core.permissions import Actor, require_admin
from core.services import audit, audit_trail
from hub import exports
from hub.context import Hub

AUDIT_EXPORTED = "audit.exported"


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
    with hub.session() as s:
        audit.by_actor(s, actor, AUDIT_EXPORTED, ip=ip, details=filters.query())
        s.commit()

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
