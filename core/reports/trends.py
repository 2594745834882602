"""Category and priority trends (tickets created per period and value) and the channel mix
(email, Slack, Teams, chat, web, API...) overall and per period."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.lifecycle import CATEGORIES, PRIORITIES
from core.permissions import Actor
from core.reports import filters as report_filters
from core.reports.models import ReportFact
from core.reports.query import key, periods


def _trend(
    session: Session, conds: list[Any], period_col: Any, column: Any, order: tuple[str, ...]
) -> dict[str, Any]:
    counts: dict[tuple[str, str], int] = {}
    seen: set[str] = set()
    for period, value, n in session.execute(
        select(period_col, column, func.count()).where(*conds).group_by(period_col, column)
    ):
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
    for name, column, order in (
        ("category", ReportFact.category, CATEGORIES),
        ("priority", ReportFact.priority, PRIORITIES),
        ("channel", ReportFact.channel, ("email", "slack", "teams", "chat", "web", "api")),
    ):
        found = _trend(session, conds, period_col, column, order)
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
