"""Report pages: the standard reports with their filters, SVG charts, tables and exports."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from core.errors import NotFound
from core.reports import catalog
from core.reports.filters import DIMENSIONS, INTERVALS
from hub.api.deps import SessionDep
from hub.web import charts
from hub.web.helpers import staff_members
from hub.web.render import render
from hub.web.session import PageUser, readers_only

router = APIRouter()
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
    return render(request, session, me, "reports/index.html", items=items)


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
        query=urlencode(params),
    )
