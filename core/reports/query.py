"""Shared pieces of the report queries: grouping columns, percentiles, buckets and periods."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from core.reports.filters import INTERVALS
from core.reports.models import ReportFact
from core.reports.rollups import month_of, week_of

# Duration buckets, in minutes: [low, high) each; the last is open-ended.
BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("under 15 min", 0, 15),
    ("15 min to 1 h", 15, 60),
    ("1 h to 4 h", 60, 240),
    ("4 h to 8 h", 240, 480),
    ("8 h to 24 h", 480, 1440),
    ("1 to 3 days", 1440, 4320),
    ("3 to 7 days", 4320, 10080),
    ("7 days or more", 10080, None),
)
ALL = "all"


def group_column(group: str | None, dates: str) -> Any:
    """The fact column a report groups by; ``dates`` is ``created`` or ``resolved``."""
    if group is None:
        return None
    if group in INTERVALS:
        return getattr(ReportFact, f"{dates}_{group}")
    return getattr(ReportFact, group)


def key(value: Any) -> str:
    """A group's value as a JSON key: dates in ISO form, no agent as ``none``."""
    if value is None:
        return "none"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def percentiles(
    session: Session, conds: list[ColumnElement[bool]], group: Any, value: Any
) -> dict[str, tuple[float | None, float | None]]:
    """Median and 90th percentile of ``value`` per group, by nearest rank (the value at rank
    ceil(p * n) in ascending order), in one query with window functions."""
    partition = {"partition_by": group} if group is not None else {}
    g = group if group is not None else literal_column(f"'{ALL}'")
    inner = (
        select(
            g.label("g"),
            value.label("v"),
            func.row_number().over(order_by=value, **partition).label("rn"),
            func.count().over(**partition).label("n"),
        )
        .where(*conds, value.is_not(None))
        .subquery()
    )
    rows = session.execute(
        select(inner.c.g, inner.c.v, inner.c.rn, inner.c.n).where(
            or_(inner.c.rn == (inner.c.n + 1) // 2, inner.c.rn == (9 * inner.c.n + 9) // 10)
        )
    )
    out: dict[str, tuple[float | None, float | None]] = {}
    for g_value, v, rn, n in rows:
        k = key(g_value) if group is not None else ALL
        p50, p90 = out.get(k, (None, None))
        if rn == (n + 1) // 2:
            p50 = float(v)
        if rn == (9 * n + 9) // 10:
            p90 = float(v)
        out[k] = (p50, p90)
    return out


def duration_stats(
    session: Session, conds: list[ColumnElement[bool]], group: Any, value: Any
) -> dict[str, dict[str, Any]]:
    """Count, mean, median, p90 and bucket counts of a duration column, per group."""
    bucket_terms = []
    for _label, low, high in BUCKETS:
        test = value >= low if high is None else (value >= low) & (value < high)
        bucket_terms.append(func.sum(case((test, 1), else_=0)))
    cols = [func.count(value), func.avg(value), *bucket_terms]
    stmt = select(group, *cols) if group is not None else select(*cols)
    stmt = stmt.where(*conds, value.is_not(None))
    if group is not None:
        stmt = stmt.group_by(group)
    ranks = percentiles(session, conds, group, value)
    out: dict[str, dict[str, Any]] = {}
    for row in session.execute(stmt):
        values = tuple(row)
        if group is not None:
            k, values = key(values[0]), values[1:]
        else:
            k = ALL
        count, mean, *buckets = values
        if not count:
            continue
        p50, p90 = ranks.get(k, (None, None))
        out[k] = {
            "count": int(count),
            "mean": float(mean),
            "median": p50,
            "p90": p90,
            "buckets": {
                label: int(n or 0) for (label, _, _), n in zip(BUCKETS, buckets, strict=True)
            },
        }
    return out


def period_of(day: date, interval: str) -> date:
    if interval == "week":
        return week_of(day)
    if interval == "month":
        return month_of(day)
    return day


def periods(start: date, end: date, interval: str) -> list[date]:
    """The periods that [start, end) touches, in order (a partial first or last one included)."""
    out: list[date] = []
    day = start
    while day < end:
        p = period_of(day, interval)
        if not out or out[-1] != p:
            out.append(p)
        day += timedelta(days=1)
    return out


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def counts_by(rows: Iterable[Any]) -> dict[str, int]:
    return {key(k): int(n) for k, n in rows}
