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
from core.reports.models import ReportFact
from core.reports.query import grouped, key, periods


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
    rows = grouped(
        session, conds, {n: [period_col, col] for n, (col, _) in dims.items()}, [func.count()]
    )
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
