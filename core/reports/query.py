"""Shared pieces of the report queries: grouping columns, percentiles, buckets and periods."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column, or_, select, tuple_
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
    if group == "organisation":
        # The requester's organisation in the ticket's tenant as it is now (a person has at
        # most one there); tickets of people in none group under ``none``.
        from core.models import OrganisationPerson

        return (
            select(OrganisationPerson.organisation_id)
            .where(
                OrganisationPerson.tenant_id == ReportFact.tenant_id,
                OrganisationPerson.user_id == ReportFact.requester,
            )
            .scalar_subquery()
        )
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


def _bucket_terms(value: Any) -> list[Any]:
    terms = []
    for _label, low, high in BUCKETS:
        test = value >= low if high is None else (value >= low) & (value < high)
        terms.append(func.sum(case((test, 1), else_=0)))
    return terms


def duration_stats(
    session: Session, conds: list[ColumnElement[bool]], group: Any, value: Any
) -> dict[str, dict[str, Any]]:
    """Count, mean, median, p90 and bucket counts of a duration column, per group."""
    return many_duration_stats(session, conds, group, {"v": value})["v"]


def many_duration_stats(
    session: Session, conds: list[ColumnElement[bool]], group: Any, values: dict[str, Any]
) -> dict[str, dict[str, dict[str, Any]]]:
    """``duration_stats`` of several columns over the same rows. On PostgreSQL it is one scan:
    ``percentile_disc`` (the nearest rank, like ``percentiles``) as ordered-set aggregates next
    to the counts; elsewhere two queries a column (aggregates, then window ranks)."""
    pg = session.get_bind().dialect.name == "postgresql"
    cols: list[Any] = []
    for value in values.values():
        cols += [func.count(value), func.avg(value), *_bucket_terms(value)]
        if pg:
            cols += [
                func.percentile_disc(0.5).within_group(value),
                func.percentile_disc(0.9).within_group(value),
            ]
    stmt = select(group, *cols) if group is not None else select(*cols)
    stmt = stmt.where(*conds)
    if group is not None:
        stmt = stmt.group_by(group)
    ranks = {} if pg else {n: percentiles(session, conds, group, v) for n, v in values.items()}
    out: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in values}
    width = 2 + len(BUCKETS) + (2 if pg else 0)
    for row in session.execute(stmt):
        cells = tuple(row)
        if group is not None:
            k, cells = key(cells[0]), cells[1:]
        else:
            k = ALL
        for i, name in enumerate(values):
            count, mean, *rest = cells[i * width : (i + 1) * width]
            if not count:
                continue
            buckets = rest[: len(BUCKETS)]
            if pg:
                p50, p90 = (None if v is None else float(v) for v in rest[len(BUCKETS) :])
            else:
                p50, p90 = ranks[name].get(k, (None, None))
            out[name][k] = {
                "count": int(count),
                "mean": float(mean),
                "median": p50,
                "p90": p90,
                "buckets": {
                    label: int(n or 0) for (label, _, _), n in zip(BUCKETS, buckets, strict=True)
                },
            }
    return out


def grouped(
    session: Session,
    conds: list[ColumnElement[bool]],
    sets: dict[str, list[Any]],
    measures: list[Any],
) -> dict[str, list[tuple[Any, ...]]]:
    """Several GROUP BYs over the same rows: {name: [(*group values, *measures)]}. On
    PostgreSQL one scan with GROUPING SETS (``GROUPING()`` tells the sets apart); elsewhere a
    query per set."""
    out: dict[str, list[tuple[Any, ...]]] = {name: [] for name in sets}
    if session.get_bind().dialect.name != "postgresql":
        for name, cols in sets.items():
            stmt = select(*cols, *measures).where(*conds).group_by(*cols)
            out[name] = [tuple(r) for r in session.execute(stmt)]
        return out
    columns: list[Any] = []
    for cols in sets.values():
        for c in cols:
            if not any(c is seen for seen in columns):
                columns.append(c)
    marks = [func.grouping(c) for c in columns]
    stmt = (
        select(*columns, *marks, *measures)
        .where(*conds)
        .group_by(func.grouping_sets(*[tuple_(*cols) for cols in sets.values()]))
    )
    # GROUPING(c) is 0 where c is one of the row's set's columns.
    shapes = {
        tuple(0 if any(c is x for x in cols) else 1 for c in columns): name
        for name, cols in sets.items()
    }
    width = len(columns)
    for row in session.execute(stmt):
        cells = tuple(row)
        name = shapes[tuple(int(m) for m in cells[width : 2 * width])]
        values = tuple(cells[i] for i, c in enumerate(columns) if any(c is x for x in sets[name]))
        out[name].append((*values, *cells[2 * width :]))
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
