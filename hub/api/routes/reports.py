"""Reports. (SLA policies are served by ``hub.api.routes.sla``.)"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response

from core.errors import Invalid
from core.services import reports
from hub import exports
from hub.api.deps import ActorDep, SessionDep
from hub.api.schemas.common import UtcDateTime
from hub.api.schemas.reports import VolumeReport

router = APIRouter(prefix="/api/v1/support", tags=["reports"])


@router.get("/reports/", response_model=VolumeReport)
def report(
    actor: ActorDep,
    session: SessionDep,
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
) -> dict[str, object]:
    """Ticket volume by status, priority and category for tickets created in [start, end)."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} needs a time zone", field=name)
    return reports.volume(session, actor, start=start, end=end)


MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/reports/export/",
    response_class=Response,
    responses={200: {"description": "the file", "content": {m: {} for m in MEDIA.values()}}},
)
def export(
    actor: ActorDep,
    session: SessionDep,
    format: Literal["csv", "xlsx"] = "csv",
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
) -> Response:
    """The volume report as a CSV or Excel file."""
    data = report(actor, session, start, end)
    rows = exports.volume_rows(data)
    body = exports.to_csv(rows) if format == "csv" else exports.to_xlsx(rows)
    return Response(
        body,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="ticket-volume.{format}"'},
    )
