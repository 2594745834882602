"""Reports (spec sections 9 and 15) and their exports; SLA policies are in ``hub.api.routes.sla``.

Every report takes the filters of ``core.reports.filters``; a parameter it does not know is a
422 naming the valid ones, never ignored.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from core.errors import Invalid
from core.reports import catalog, saved
from core.reports.tickets import export_headers, ticket_rows
from core.services import reports
from hub import audit_export, exports
from hub.api.deps import ActorDep, HubDep, SessionDep, client_ip
from hub.api.schemas.common import UtcDateTime
from hub.api.schemas.reports import (
    SavedReportCreate,
    SavedReportPublic,
    StandardReport,
    TicketExportQuery,
    VolumeReport,
    ticket_filter,
)

router = APIRouter(prefix="/api/v1/support", tags=["reports"])
# A tenant-trail row per export (which report, which format).
REPORT_EXPORTED = "report.exported"

ReportName = Literal[
    "volume", "first-response", "resolution", "sla", "agents", "trends", "satisfaction"
]
assert set(ReportName.__args__) == set(catalog.REPORTS)  # type: ignore[attr-defined]
Format = Literal["csv", "xlsx", "pdf"]
Text = Annotated[str | None, Query(max_length=500)]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _params(request: Request, *ignore: str) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in ignore}


def _only(request: Request, *names: str) -> None:
    """Refuse a parameter the endpoint does not take (it would look applied and not be)."""
    for key in request.query_params:
        if key not in names:
            raise Invalid(
                f"unknown parameter {key!r}; valid parameters: {', '.join(names)} (the standard"
                " reports, with filters, are at /api/v1/support/reports/{name}/)",
                field=key,
            )


@router.get("/reports/", response_model=VolumeReport)
def report(
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
) -> dict[str, object]:
    """Ticket counts by status, priority and category for tickets created in [start, end).
    The standard reports with filters are at ``/reports/{name}/``."""
    _only(request, "start", "end")
    return reports.volume(session, actor, start=start, end=end)


# What the export routes answer: a file, never JSON.
FILE_CONTENT: dict[str, Any] = {exports.MEDIA[f]: {} for f in ("csv", "xlsx", "pdf")}


@router.get(
    "/reports/export/",
    response_class=Response,
    responses={
        200: {"description": "the file", "content": {exports.MEDIA[f]: {} for f in ("csv", "xlsx")}}
    },
)
def export_volume(
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    hub: HubDep,
    format: Literal["csv", "xlsx"] = "csv",
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
) -> Response:
    """The status/priority/category counts as a CSV or Excel file."""
    _only(request, "format", "start", "end")
    data = reports.volume(session, actor, start=start, end=end)
    rows = exports.volume_rows(data)
    audit_export.record_read(
        hub,
        actor,
        REPORT_EXPORTED,
        ip=client_ip(request),
        details={"report": "volume", "format": format},
    )
    body = exports.to_csv(rows) if format == "csv" else exports.to_xlsx(rows)
    return Response(
        body,
        media_type=exports.MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="ticket-volume.{format}"'},
    )


@router.get("/reports/saved/", response_model=list[SavedReportPublic])
def saved_reports(actor: ActorDep, session: SessionDep) -> list[Any]:
    """The caller's saved reports and those shared with the tenant."""
    return saved.list_saved(session, actor)


@router.post("/reports/saved/", status_code=201, response_model=SavedReportPublic)
def save_report(body: SavedReportCreate, actor: ActorDep, session: SessionDep) -> Any:
    """Save a report and its query by name (for oneself, or ``shared`` with the tenant)."""
    row = saved.save(
        session, actor, name=body.name, report=body.report, query=body.query, shared=body.shared
    )
    session.flush()
    return row


@router.delete("/reports/saved/{saved_id}/", status_code=204)
def delete_saved_report(saved_id: RowId, actor: ActorDep, session: SessionDep) -> Response:
    saved.delete(session, actor, saved_id)
    return Response(status_code=204)


@router.get("/reports/{name}/", response_model=StandardReport)
def standard_report(
    name: ReportName,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    start: Annotated[str | None, Query(max_length=10, description="first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, Query(max_length=10, description="day after the last")] = None,
    requester: Text = None,
    agent: Text = None,
    category: Text = None,
    priority: Text = None,
    channel: Text = None,
    status: Text = None,
    group: Text = None,
    interval: Text = None,
) -> dict[str, Any]:
    """One standard report over a range of days of the tenant's time zone."""
    return catalog.run(session, actor, name, _params(request))


@router.get(
    "/reports/{name}/export/",
    response_class=Response,
    responses={200: {"description": "the file", "content": FILE_CONTENT}},
)
def export_report(
    name: ReportName,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    hub: HubDep,
    format: Format = "csv",
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    requester: Text = None,
    agent: Text = None,
    category: Text = None,
    priority: Text = None,
    channel: Text = None,
    status: Text = None,
    group: Text = None,
    interval: Text = None,
) -> Response:
    """A standard report as CSV, Excel or PDF, with its filter summary."""
    data = catalog.run(session, actor, name, _params(request, "format"))
    audit_export.record_read(
        hub,
        actor,
        REPORT_EXPORTED,
        ip=client_ip(request),
        details={"report": name, "format": format},
    )
    filename = f"report-{name}-{data['filters']['start']}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "pdf":
        from hub.report_pdf import report_pdf

        return Response(report_pdf([data]), media_type=exports.MEDIA["pdf"], headers=headers)
    summary = exports.summary_rows(data["title"], data["filters"])
    return StreamingResponse(
        exports.stream(format, summary, exports.report_tables(data)),
        media_type=exports.MEDIA[format],
        headers=headers,
    )


PDF_ROWS = 5000


@router.get(
    "/exports/tickets/",
    response_class=Response,
    responses={200: {"description": "the file", "content": FILE_CONTENT}},
)
def export_tickets(
    request: Request,
    hub: HubDep,
    actor: ActorDep,
    query: Annotated[TicketExportQuery, Query()],
) -> Response:
    """Every ticket the queue's filters select, as CSV or Excel (streamed, no row cap) or PDF
    (up to ``PDF_ROWS`` tickets)."""
    flt = ticket_filter(query, actor.user_id)
    shown = {
        k: ",".join(v) if isinstance(v, list) else str(v)
        for k, v in query.model_dump(exclude={"format"}).items()
        if v
    }
    summary = exports.summary_rows("Tickets", shown)
    with hub.read_sessions() as session:
        headers, keys = export_headers(session, actor.tenant_id)

    def rows() -> Any:
        with hub.read_sessions() as session:
            yield from ticket_rows(session, actor, flt, field_keys=keys)

    # Checked before the answer starts: a reader without the right gets a 403, not a cut file.
    with hub.read_sessions() as session:
        next(iter(ticket_rows(session, actor, flt, chunk=1)), None)
    audit_export.record_read(
        hub,
        actor,
        REPORT_EXPORTED,
        ip=client_ip(request),
        details={"report": "tickets", "format": query.format},
    )
    if query.format == "pdf":
        # A PDF is laid out whole: for lists a person reads, not for millions of rows.
        with hub.read_sessions() as session:
            listed = list(
                itertools.islice(ticket_rows(session, actor, flt, field_keys=keys), PDF_ROWS + 1)
            )
        if len(listed) > PDF_ROWS:
            raise Invalid(
                f"a PDF lists at most {PDF_ROWS:,} tickets; narrow the filters or export csv or"
                " xlsx (no limit)",
                field="format",
            )
        from hub.report_pdf import table_pdf

        body = table_pdf("Tickets", shown, exports.Table("Tickets", headers, listed))
        return Response(
            body,
            media_type=exports.MEDIA["pdf"],
            headers={"Content-Disposition": 'attachment; filename="tickets.pdf"'},
        )
    table = exports.Table("Tickets", headers, rows())
    return StreamingResponse(
        exports.stream(query.format, summary, [table]),
        media_type=exports.MEDIA[query.format],
        headers={"Content-Disposition": f'attachment; filename="tickets.{query.format}"'},
    )
