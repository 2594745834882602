"""Category and priority trends (tickets created per period and value) and the channel mix
(email, Slack, Teams, chat, web, API...) overall and per period."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from core.lifecycle import CATEGORIES, PRIORITIES
from core.permissions import Actor
from core.reports import filters as report_filters
from core.reports.filters import Filters
from core.reports.models import ReportCreatedDay, ReportFact
from core.reports.query import grouped, key, period_of, periods


def _trend(rows: list[tuple[Any, ...]], order: tuple[str, ...]) -> dict[str, Any]:
    counts: dict[tuple[str, str], int] = {}
    seen: set[str] = set()
    for period, value, n in rows:
        counts[(key(period), key(value))] = int(n)
        seen.add(key(value))
    values = [v for v in order if v in seen] + sorted(seen - set(order))
    return {"values": values, "counts": counts}


def trends(session: Session, actor: Actor, params: Mapping[str, str]) -> dict[str, Any]:
    f = report_filters.parse(session, actor, params, extra=("interval",))
    interval = report_filters.group_of(params, "interval", default="week") or "week"
    conds = f.conditions(ReportFact.created_day)
    period_col = getattr(ReportFact, f"created_{interval}")
    names = [p.isoformat() for p in periods(f.start, f.end, interval)]
    out: dict[str, Any] = {
        "report": "trends",
        "filters": f.summary(),
        "interval": interval,
        "periods": names,
    }
    dims = {
        "category": (ReportFact.category, CATEGORIES),
        "priority": (ReportFact.priority, PRIORITIES),
        "channel": (ReportFact.channel, ("email", "slack", "teams", "chat", "web", "api")),
    }
    if f.values:
        rows = grouped(
            session, conds, {n: [period_col, col] for n, (col, _) in dims.items()}, [func.count()]
        )
    else:
        rows = _from_days(session, f, interval, tuple(dims))
    for name, (_column, order) in dims.items():
        found = _trend(rows[name], order)
        out[name] = {
            "values": found["values"],
            "totals": {
                v: sum(found["counts"].get((p, v), 0) for p in names) for v in found["values"]
            },
            "series": [
                {"period": p, **{v: found["counts"].get((p, v), 0) for v in found["values"]}}
                for p in names
            ],
        }
    return out


def _from_days(
    session: Session, f: Filters, interval: str, names: tuple[str, ...]
) -> dict[str, list[tuple[Any, ...]]]:
    """Without filters: the per-day counts (``report_created_days``), summed per period."""
    day = ReportCreatedDay.day
    found = grouped(
        session,
        [ReportCreatedDay.tenant_id == f.tenant_id, day >= f.start, day < f.end],
        {n: [day, getattr(ReportCreatedDay, n)] for n in names},
        [func.sum(ReportCreatedDay.count)],
    )
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, rows in found.items():
        sums: dict[tuple[Any, Any], int] = {}
        for d, value, n in rows:
            k = (period_of(d, interval), value)
            sums[k] = sums.get(k, 0) + int(n or 0)
        out[name] = [(p, v, n) for (p, v), n in sums.items() if n]
    return out
