"""Volume: tickets created, resolved, closed and reopened per day, week or month, and the
backlog (tickets not Resolved or Closed) at the end of each period. Without filters it reads
the per-day sums (``report_daily``); with filters, the moves of the range joined to the facts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.lifecycle import OPEN_STATUSES
from core.permissions import Actor
from core.reports import filters as report_filters
from core.reports.filters import Filters
from core.reports.models import ReportDaily, ReportFact, ReportMove
from core.reports.query import period_of, periods

KINDS = ("created", "resolved", "closed", "reopened")


def _moves(f: Filters, *conds: ColumnElement[bool]) -> Any:
    def build(*cols: Any) -> Any:
        stmt = select(*cols).where(ReportMove.tenant_id == f.tenant_id, *conds)
        if f.values:
            stmt = stmt.join(ReportFact, ReportFact.ticket_id == ReportMove.ticket_id).where(
                *f.value_conditions()
            )
        return stmt

    return build


def _from_daily(session: Session, f: Filters) -> tuple[list[Any], int]:
    """Without filters: the per-day sums (a row per day and kind)."""
    own = ReportDaily.tenant_id == f.tenant_id
    rows = session.execute(
        select(ReportDaily.day, ReportDaily.kind, ReportDaily.count, ReportDaily.backlog).where(
            own, ReportDaily.day >= f.start, ReportDaily.day < f.end, ReportDaily.kind.in_(KINDS)
        )
    ).all()
    opening = session.scalar(
        select(func.coalesce(func.sum(ReportDaily.backlog), 0)).where(
            own, ReportDaily.day < f.start
        )
    )
    return list(rows), int(opening or 0)


def _from_moves(session: Session, f: Filters) -> tuple[list[Any], int]:
    """With filters (on the tickets' current fields): the moves joined to their facts."""
    in_range = _moves(f, ReportMove.day >= f.start, ReportMove.day < f.end)
    rows = session.execute(
        in_range(ReportMove.day, ReportMove.kind, func.count(), func.sum(ReportMove.backlog))
        .where(ReportMove.kind.in_(KINDS))
        .group_by(ReportMove.day, ReportMove.kind)
    ).all()
    # The backlog before the range: the tickets open now, less what the days since its start
    # added (reads the facts of open tickets and the moves from ``start`` on, never all moves).
    open_now = session.scalar(
        select(func.count()).where(
            ReportFact.tenant_id == f.tenant_id,
            ReportFact.status.in_(OPEN_STATUSES),
            *f.value_conditions(),
        )
    )
    since = session.scalar(
        _moves(f, ReportMove.day >= f.start)(func.coalesce(func.sum(ReportMove.backlog), 0))
    )
    return list(rows), int(open_now or 0) - int(since or 0)


def volume(session: Session, actor: Actor, params: Mapping[str, str]) -> dict[str, Any]:
    f = report_filters.parse(session, actor, params, extra=("interval",))
    interval = report_filters.group_of(params, "interval", default="day") or "day"
    if f.values:
        rows, opening = _from_moves(session, f)
    else:
        rows, opening = _from_daily(session, f)
    series = {p: {k: 0 for k in KINDS} | {"net": 0} for p in periods(f.start, f.end, interval)}
    for day, kind, count, backlog in rows:
        bucket = series[period_of(day, interval)]
        bucket[kind] += int(count)
        bucket["net"] += int(backlog or 0)
    backlog_now = opening
    out_series = []
    for period, counts in series.items():
        backlog_now += counts.pop("net")
        last = min(_next(period, interval), f.end) - timedelta(days=1)
        out_series.append(
            {
                "period": period.isoformat(),
                "last_day": last.isoformat(),
                **counts,
                "backlog": backlog_now,
            }
        )
    totals = {k: sum(row[k] for row in out_series) for k in KINDS}
    return {
        "report": "volume",
        "filters": f.summary(),
        "interval": interval,
        "opening_backlog": opening,
        "totals": totals,
        "series": out_series,
    }


def _next(period: Any, interval: str) -> Any:
    if interval == "day":
        return period + timedelta(days=1)
    if interval == "week":
        return period + timedelta(days=7)
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)
