"""The manager dashboard: volume over time, first response, resolution, SLA and satisfaction
figures, and counts by status, priority and category; server-rendered SVG charts, each with its
data table, and links to the report pages and their exports."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from core import lifecycle
from core.clock import now
from core.errors import Invalid
from core.permissions import Actor
from core.reports import catalog
from core.reports.filters import MAX_DAYS
from core.reports.rollups import tenant_zone
from core.services import reports
from hub.api.deps import SessionDep
from hub.web import charts, i18n
from hub.web.i18n import N_
from hub.web.render import render, request_reader
from hub.web.session import PageUser, readers_only

router = APIRouter()
RANGES = {
    "7": N_("Last 7 days"),
    "30": N_("Last 30 days"),
    "90": N_("Last 90 days"),
    "all": N_("All time"),
}
CACHE_SECONDS = 60
# (tenant, range) -> (computed at, report). The report scans every ticket of the range; a
# dashboard a minute old is fine, and it keeps the page fast at 100,000 tickets and more.
_cache: dict[tuple[uuid.UUID, str], tuple[datetime, dict[str, Any]]] = {}
_lock = threading.Lock()


def _volume(session: SessionDep, actor: Actor, days: str) -> tuple[datetime, dict[str, Any]]:
    key = (actor.tenant_id, days)
    at = now()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and at - hit[0] < timedelta(seconds=CACHE_SECONDS) and at >= hit[0]:
        return hit
    start = None if days == "all" else at.astimezone(UTC) - timedelta(days=int(days))
    data = reports.volume(session, actor, start=start, end=None)
    data["rollups"] = _rollups(session, actor, days)
    fresh = (at, data)
    with _lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = fresh
    return fresh


def report_params(session: SessionDep, actor: Actor, days: str) -> dict[str, str]:
    """The standard reports' query for a dashboard period, in the tenant's days."""
    today = now().astimezone(tenant_zone(session, actor.tenant_id)).date()
    span = MAX_DAYS - 1 if days == "all" else int(days)
    interval = {"7": "day", "30": "day", "90": "week"}.get(days, "month")
    return {
        "start": (today - timedelta(days=span - 1)).isoformat(),
        "end": (today + timedelta(days=1)).isoformat(),
        "interval": interval,
    }


def _rollups(session: SessionDep, actor: Actor, days: str) -> dict[str, Any]:
    params = report_params(session, actor, days)
    plain = {k: v for k, v in params.items() if k != "interval"}
    out: dict[str, Any] = {
        "params": params,
        "volume": catalog.run(session, actor, "volume", params),
        "trends": catalog.run(session, actor, "trends", params),
        "first_response": catalog.run(session, actor, "first-response", plain),
        "resolution": catalog.run(session, actor, "resolution", plain),
        "sla": catalog.run(session, actor, "sla", plain),
    }
    out["charts"] = charts.report_charts(out["volume"]) + charts.report_charts(out["trends"])[:1]
    return out


def _series(counts: dict[str, int], order: tuple[str, ...]) -> list[tuple[str, int, float]]:
    """(label, count, percent of the largest) in the domain's order, zeros included."""
    top = max(counts.values(), default=0) or 1
    return [(k, counts.get(k, 0), round(100 * counts.get(k, 0) / top, 1)) for k in order]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    me: PageUser,
    session: SessionDep,
    days: Annotated[str, Query(max_length=3)] = "30",
) -> HTMLResponse:
    """Managers (and staff) see the volume report of spec section 10."""
    readers_only(me)
    if days not in RANGES:
        raise Invalid("days must be 7, 30, 90 or all", field="days")
    generated, data = _volume(session, me.actor, days)
    counts = []
    # The charts are drawn here, in the reader's words (their labels are stored values).
    with i18n.reading_as(request_reader(request, me)):
        for key, title, series in (
            ("status", N_("Tickets by status"), _series(data["by_status"], lifecycle.STATUSES)),
            (
                "priority",
                N_("Tickets by priority"),
                _series(data["by_priority"], lifecycle.PRIORITIES),
            ),
            (
                "category",
                N_("Tickets by category"),
                _series(data["by_category"], lifecycle.CATEGORIES),
            ),
        ):
            shown = i18n.gettext(title)
            svg = charts.bars(
                shown,
                i18n.translate(
                    N_("%(title)s created in the period; the table beside it has the figures."),
                    title=shown,
                ),
                [i18n.gettext(label) for label, _, _ in series],
                [(i18n.gettext(N_("tickets")), [n for _, n, _ in series])],
            )
            counts.append((key, title, series, svg))
    return render(
        request,
        session,
        me,
        "dashboard.html",
        data=data,
        counts=counts,
        rollups=data["rollups"],
        query=urlencode(data["rollups"]["params"]),
        days=days,
        ranges=RANGES,
        generated=generated,
    )
