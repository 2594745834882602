"""The read-only dashboard: ticket volume by status, priority and category (charts and tables)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from core import lifecycle
from core.clock import now
from core.errors import Invalid
from core.services import reports
from hub.api.deps import SessionDep
from hub.web.render import render
from hub.web.session import PageUser, readers_only

router = APIRouter()
RANGES = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days", "all": "All time"}


def _series(counts: dict[str, int], order: tuple[str, ...]) -> list[tuple[str, int, float]]:
    """(label, count, percent of the largest) in the domain's order, zeros included."""
    top = max(counts.values(), default=0) or 1
    return [(k, counts.get(k, 0), round(100 * counts.get(k, 0) / top, 1)) for k in order]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, me: PageUser, session: SessionDep,
              days: Annotated[str, Query(max_length=3)] = "30") -> HTMLResponse:
    """Managers (and staff) see the volume report of spec section 10."""
    readers_only(me)
    if days not in RANGES:
        raise Invalid("days must be 7, 30, 90 or all", field="days")
    start = None if days == "all" else now().astimezone(UTC) - timedelta(days=int(days))
    data = reports.volume(session, me.actor, start=start, end=None)
    charts = [
        ("status", "Tickets by status", _series(data["by_status"], lifecycle.STATUSES)),
        ("priority", "Tickets by priority", _series(data["by_priority"], lifecycle.PRIORITIES)),
        ("category", "Tickets by category", _series(data["by_category"], lifecycle.CATEGORIES)),
    ]
    return render(request, session, me, "dashboard.html", data=data, charts=charts, days=days,
                  ranges=RANGES, start=start, generated=datetime.now(UTC))
