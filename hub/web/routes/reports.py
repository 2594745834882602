"""Report pages: the standard reports with their filters, SVG charts, tables and exports."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from core.errors import Conflict, NotFound
from core.groups.service import group_names
from core.organisations.service import list_organisations
from core.reports import catalog, saved
from core.reports.filters import DIMENSIONS, INTERVALS
from hub.api.deps import SessionDep
from hub.web import charts
from hub.web.helpers import staff_members
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, readers_only

router = APIRouter()
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# Which of the shared form fields each report takes besides the filters.
OPTIONS = {
    "volume": "interval",
    "trends": "interval",
    "satisfaction": "interval",
    "first-response": "group",
    "resolution": "group",
    "sla": "group",
    "agents": None,
}


@router.get("/reports", response_class=HTMLResponse)
def index(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """The list of standard reports."""
    readers_only(me)
    items = [(name, title) for name, (title, _) in catalog.REPORTS.items()]
    # Sorted: PostgreSQL's JSONB keeps no key order, and one saved report has one address.
    mine = [
        (row, urlencode(sorted(row.query.items()))) for row in saved.list_saved(session, me.actor)
    ]
    return render(request, session, me, "reports/index.html", items=items, saved=mine)


@router.post("/reports/saved", response_model=None)
def save_report(
    me: PostUser,
    session: SessionDep,
    report: Annotated[str, Form(max_length=40)],
    name: Annotated[str, Form(max_length=80)] = "",
    query: Annotated[str, Form(max_length=2000)] = "",
    shared: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Save the report on screen, with its filters, under a name."""
    readers_only(me)
    back = f"/reports/{report}?{query}" if report in catalog.REPORTS else "/reports"
    if not name.strip():
        return redirect(back, flash=N_("Give the report a name."), error=True)
    params = {k: v for k, v in parse_qsl(query) if v != ""}
    try:
        saved.save(session, me.actor, name=name, report=report, query=params, shared=bool(shared))
    except Conflict as exc:
        return redirect(back, flash=str(exc), error=True)
    session.commit()
    return redirect(back, flash=N_("Report “%(name)s” saved."), args={"name": name.strip()})


@router.post("/reports/saved/{saved_id}/delete", response_model=None)
def delete_report(saved_id: RowId, me: PostUser, session: SessionDep) -> Response:
    """Delete a saved report (one's own; an admin also a shared one)."""
    readers_only(me)
    saved.delete(session, me.actor, saved_id)
    session.commit()
    return redirect("/reports", flash=N_("Saved report deleted."))


@router.get("/reports/{name}", response_class=HTMLResponse)
def report_page(
    request: Request,
    me: PageUser,
    session: SessionDep,
    name: Annotated[str, Path(max_length=40)],
) -> HTMLResponse:
    """One report: the filter form (empty fields are no filter), charts, tables, exports."""
    readers_only(me)
    if name not in catalog.REPORTS:
        raise NotFound("page not found")
    params = {k: v for k, v in request.query_params.items() if v != ""}
    data = catalog.run(session, me.actor, name, params)
    organisations, _more = list_organisations(session, me.actor, limit=200)
    return render(
        request,
        session,
        me,
        "reports/report.html",
        report=name,
        data=data,
        charts=charts.report_charts(data),
        params=params,
        option=OPTIONS[name],
        intervals=INTERVALS,
        groups=INTERVALS + DIMENSIONS,
        staff=staff_members(session, me.actor.tenant_id),
        agent_groups=group_names(session, me.actor.tenant_id),
        organisations=[(o.id, o.name) for o in organisations],
        query=urlencode(params),
    )
