"""Per-day sums of the report facts, for the standard reports without filters.

Each of these tables is a sum over ``report_ticket_facts``: ``parts`` says what one fact adds
to which row, the listener adds the difference a change makes to a fact (what it adds after,
less what it added before) in the same transaction, ``forget`` takes a deleted ticket's part
away, and ``rebuild`` sums them again from the facts. Rows whose counts fall to zero stay (they
add nothing); a rebuild leaves none.

- ``report_duration_bins``: durations by bin of minutes (``BOUNDS``), per day and per month, with
  their sum in micro-minutes. A percentile is found exact in two steps: the counts of the bins
  say which bin holds the wanted rank, then the facts' values of that one bin in the range
  (an index on the duration) give the value at that rank. A range reads the months it covers
  whole and the days at its edges.
- ``report_sla_days``, ``report_created_days``, ``report_rating_days``: counts for the SLA, trend
  and satisfaction reports.
"""

from __future__ import annotations

import math
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, literal, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.reports.models import (
    ReportAgentBin,
    ReportAgentDay,
    ReportCreatedDay,
    ReportDurationBin,
    ReportFact,
    ReportRatingDay,
    ReportSlaDay,
)


def _bounds() -> tuple[int, ...]:
    out: list[int] = []
    for low, high, step in (
        (0, 60, 1),
        (60, 240, 2),
        (240, 1440, 10),
        (1440, 4320, 30),
        (4320, 10080, 60),
        (10080, 43200, 240),
        (43200, 525600, 1440),
    ):
        out += range(low, high, step)
    return (*out, 525600)


# Bin b holds the values in [BOUNDS[b], BOUNDS[b + 1]); bin -1 those below 0 and the last bin
# those from a year on. The report buckets' edges are bin edges.
BOUNDS = _bounds()
# The agents' bins: about 8% wide (whole minutes), so that a month of 20 agents' four measures
# is a few thousand rows.
AGENT_BOUNDS = (*sorted({round(1.08**g) - 1 for g in range(200) if 1.08**g < 525600}), 525600)
MICRO = 1_000_000

# measure: (fact column, fact day column)
MEASURES: dict[str, tuple[str, str]] = {
    "fr": ("first_response_minutes", "created_day"),
    "frb": ("first_response_business", "created_day"),
    "res": ("resolution_minutes", "resolved_day"),
    "resb": ("resolution_business", "resolved_day"),
}

TABLES: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    # name: (model, key columns after tenant_id, summed columns)
    "bins": (ReportDurationBin, ("measure", "span", "day", "bin"), ("count", "total")),
    "sla": (
        ReportSlaDay,
        ("day", "policy_id"),
        ("tickets", "responded", "response_met", "resolved", "resolution_met"),
    ),
    "created": (ReportCreatedDay, ("day", "category", "priority", "channel"), ("count",)),
    "ratings": (ReportRatingDay, ("day", "agent", "category", "rating"), ("count",)),
    "agents": (
        ReportAgentDay,
        ("day", "agent"),
        ("assigned", "resolved", "finished", "reopened", "rating_sum", "rated"),
    ),
    "agent_bins": (ReportAgentBin, ("agent", "measure", "span", "day", "bin"), ("count",)),
}

Parts = dict[tuple[Any, ...], tuple[int, ...]]
# The fact columns ``parts`` reads.
PART_COLUMNS = (
    "ticket_id",
    "tenant_id",
    "created_day",
    "resolved_day",
    "category",
    "priority",
    "channel",
    "agent",
    "rating",
    "merged",
    "policy_id",
    "response_target",
    "resolution_target",
    "reopen_count",
    "first_response_minutes",
    "first_response_business",
    "resolution_minutes",
    "resolution_business",
)


def bin_of(value: float, bounds: tuple[int, ...] = BOUNDS) -> int:
    if value < 0:
        return -1
    return min(bisect_right(bounds, value) - 1, len(bounds) - 1)


def bin_range(b: int, bounds: tuple[int, ...] = BOUNDS) -> tuple[float | None, float | None]:
    """[low, high) of a bin; None where it is open."""
    if b < 0:
        return None, 0
    return bounds[b], (bounds[b + 1] if b + 1 < len(bounds) else None)


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _get(fact: Any, name: str) -> Any:
    return fact[name] if isinstance(fact, Mapping) else getattr(fact, name)


def parts(fact: Any) -> Parts:
    """What one fact (a ``ReportFact`` or a dict of its columns) adds: {(table, tenant, *key):
    (*amounts)}."""
    out: Parts = {}

    def add(k: tuple[Any, ...], amounts: tuple[int, ...]) -> None:
        old = out.get(k)
        out[k] = amounts if old is None else tuple(a + b for a, b in zip(old, amounts, strict=True))

    tenant = _get(fact, "tenant_id")
    created = _get(fact, "created_day")
    add(
        (
            "created",
            tenant,
            created,
            _get(fact, "category"),
            _get(fact, "priority"),
            _get(fact, "channel"),
        ),
        (1,),
    )
    rating = _get(fact, "rating")
    agent = _get(fact, "agent")
    if rating is not None:
        add(("ratings", tenant, created, agent or 0, _get(fact, "category"), int(rating)), (1,))
    if agent is not None:
        resolved = _get(fact, "resolution_minutes") is not None
        reopened = (_get(fact, "reopen_count") or 0) > 0
        add(
            ("agents", tenant, created, agent),
            (
                1,
                int(resolved),
                int(resolved or reopened),
                int(reopened),
                int(rating or 0),
                int(rating is not None),
            ),
        )
        for measure, (column, _day) in MEASURES.items():
            value = _get(fact, column)
            if value is None or math.isnan(value):
                continue
            b = bin_of(value, AGENT_BOUNDS)
            for span, start in (
                ("d", created),
                ("w", _week(created)),
                ("m", created.replace(day=1)),
            ):
                add(("agent_bins", tenant, agent, measure, span, start, b), (1,))
    if _get(fact, "merged"):
        return out
    frb, resb = _get(fact, "first_response_business"), _get(fact, "resolution_business")
    add(
        ("sla", tenant, created, _get(fact, "policy_id") or 0),
        (
            1,
            int(frb is not None),
            int(frb is not None and frb <= _get(fact, "response_target")),
            int(resb is not None),
            int(resb is not None and resb <= _get(fact, "resolution_target")),
        ),
    )
    for measure, (column, day_column) in MEASURES.items():
        value, day = _get(fact, column), _get(fact, day_column)
        if value is None or day is None or math.isnan(value):
            continue
        b, micro = bin_of(value), round(value * MICRO)
        add(("bins", tenant, measure, "d", day, b), (1, micro))
        add(("bins", tenant, measure, "m", day.replace(day=1), b), (1, micro))
    return out


def difference(before: Parts, after: Parts) -> Parts:
    out: Parts = {}
    for k in before.keys() | after.keys():
        old, new = before.get(k), after.get(k)
        if old is None:
            out[k] = cast(tuple[int, ...], new)
        elif new is None:
            out[k] = tuple(-a for a in old)
        elif old != new:
            out[k] = tuple(b - a for a, b in zip(old, new, strict=True))
    return out


def add_all(into: Parts, more: Parts, sign: int = 1) -> None:
    for k, amounts in more.items():
        old = into.get(k)
        signed = tuple(sign * a for a in amounts)
        into[k] = signed if old is None else tuple(a + b for a, b in zip(old, signed, strict=True))


def apply(session: Session, deltas: Parts) -> None:
    """Add the deltas to their rows: an upsert per table, rows in key order (so that two
    transactions adding to the same rows lock them in the same order)."""
    by_table: dict[str, list[tuple[tuple[Any, ...], tuple[int, ...]]]] = {}
    for k, amounts in deltas.items():
        if any(amounts):
            by_table.setdefault(k[0], []).append((k[1:], amounts))
    pg = session.get_bind().dialect.name == "postgresql"
    for name in sorted(by_table):
        model, keys, sums = TABLES[name]
        rows = sorted(by_table[name], key=lambda r: (str(r[0][0]), r[0][1:]))
        values = [
            {
                "tenant_id": k[0],
                **dict(zip(keys, k[1:], strict=True)),
                **dict(zip(sums, amounts, strict=True)),
            }
            for k, amounts in rows
        ]
        table = cast(Table, model.__table__)
        stmt: Any = postgresql.insert(table) if pg else sqlite.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", *keys],
            set_={c: table.c[c] + stmt.excluded[c] for c in sums},
        )
        session.execute(stmt, values)


def forget(session: Session, ticket_ids: Iterable[int]) -> None:
    """Take the facts of tickets about to be deleted out of the sums."""
    ids = list(ticket_ids)
    if not ids:
        return
    deltas: Parts = {}
    cols = [getattr(ReportFact, c) for c in PART_COLUMNS]
    with session.no_autoflush:
        for row in session.execute(select(*cols).where(ReportFact.ticket_id.in_(ids))):
            add_all(deltas, parts(row._mapping), -1)
    apply(session, deltas)


def clear(session: Session, tenant_id: uuid.UUID) -> None:
    for model, _keys, _sums in TABLES.values():
        session.execute(delete(model).where(model.tenant_id == tenant_id))


# ---------------------------------------------------------------- reading


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def pieces(start: date, end: date, *, weeks: bool = False) -> list[tuple[str, date, date]]:
    """[start, end) as the whole months in it ("m"), then (``weeks``) the whole ISO weeks of
    what is left at its edges ("w"), then days ("d"): [(span, first, last)], first and last
    the first days of the periods, last excluded."""
    out: list[tuple[str, date, date]] = []
    first = start if start.day == 1 else _next_month(start)
    last = end.replace(day=1)
    edges = [(start, end)]
    if first < last:
        out.append(("m", first, last))
        edges = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    for a, b in edges:
        monday = a + timedelta(days=(7 - a.weekday()) % 7)
        final = _week(b)
        if weeks and monday < final:
            out.append(("w", monday, final))
            out += [("d", x, y) for x, y in ((a, monday), (final, b)) if x < y]
        else:
            out.append(("d", a, b))
    return out


def _span_conditions(model: Any, start: date, end: date, *, weeks: bool = False) -> Any:
    return or_(
        *(
            and_(model.span == span, model.day >= a, model.day < b)
            for span, a, b in pieces(start, end, weeks=weeks)
        )
    )


def duration_stats(
    session: Session,
    tenant_id: uuid.UUID,
    start: date,
    end: date,
    measures: dict[str, str],
    buckets: tuple[tuple[str, float, float | None], ...],
) -> dict[str, dict[str, Any] | None]:
    """Count, mean, median, p90 and buckets of each measure ({name: measure code}) over the
    facts not merged whose day is in [start, end), from the bins: exact (the percentiles are
    the facts' values at their nearest rank; the mean to a micro-minute)."""
    codes = list(measures.values())
    hist: dict[str, list[tuple[int, int, int]]] = {c: [] for c in codes}
    for code, b, n, total in session.execute(
        select(
            ReportDurationBin.measure,
            ReportDurationBin.bin,
            func.sum(ReportDurationBin.count),
            func.sum(ReportDurationBin.total),
        )
        .where(
            ReportDurationBin.tenant_id == tenant_id,
            ReportDurationBin.measure.in_(codes),
            _span_conditions(ReportDurationBin, start, end),
        )
        .group_by(ReportDurationBin.measure, ReportDurationBin.bin)
    ):
        if n:
            hist[code].append((int(b), int(n), int(total)))
    # The ranks wanted and the bins that hold them; then one query for all their values.
    wanted: list[tuple[str, str, int, int]] = []  # (code, which, bin, offset in the bin)
    for code in codes:
        rows = sorted(hist[code])
        count = sum(n for _, n, _ in rows)
        for which, rank in (("median", (count + 1) // 2), ("p90", (9 * count + 9) // 10)):
            if not count:
                continue
            seen = 0
            for b, n, _ in rows:
                if seen + n >= rank:
                    wanted.append((code, which, b, rank - seen - 1))
                    break
                seen += n
    values = _values_at(session, tenant_id, start, end, wanted)
    out: dict[str, dict[str, Any] | None] = {}
    for name, code in measures.items():
        rows = sorted(hist[code])
        count = sum(n for _, n, _ in rows)
        if not count:
            out[name] = None
            continue
        counts = {b: n for b, n, _ in rows}
        out[name] = {
            "count": count,
            "mean": sum(t for _, _, t in rows) / MICRO / count,
            "median": values.get((code, "median")),
            "p90": values.get((code, "p90")),
            "buckets": {
                label: sum(
                    n
                    for b, n in counts.items()
                    if b >= 0 and BOUNDS[b] >= low and (high is None or BOUNDS[b] < high)
                )
                for label, low, high in buckets
            },
        }
    return out


def _values_at(
    session: Session,
    tenant_id: uuid.UUID,
    start: date,
    end: date,
    wanted: list[tuple[str, str, int, int]],
) -> dict[tuple[str, str], float]:
    if not wanted:
        return {}
    selects = []
    for i, (code, _which, b, offset) in enumerate(wanted):
        column_name, day_name = MEASURES[code]
        value, day = getattr(ReportFact, column_name), getattr(ReportFact, day_name)
        low, high = bin_range(b)
        conds = [
            ReportFact.tenant_id == tenant_id,
            day >= start,
            day < end,
            ReportFact.merged.is_(False),
            value.is_not(None),
        ]
        if low is not None:
            conds.append(value >= low)
        if high is not None:
            conds.append(value < high)
        inner = select(value.label("v")).where(*conds).order_by(value).offset(offset).limit(1)
        sub = inner.subquery()
        selects.append(select(literal(i).label("i"), sub.c.v))
    stmt = selects[0] if len(selects) == 1 else union_all(*selects)
    out: dict[tuple[str, str], float] = {}
    for i, v in session.execute(stmt):
        code, which, _b, _o = wanted[int(i)]
        out[(code, which)] = float(v)
    return out


# ---------------------------------------------------------------- filling from the facts


def _pg_fill(tenant_id: uuid.UUID | None) -> list[tuple[str, dict[str, Any]]]:
    where = "tenant_id = :tenant" if tenant_id is not None else "true"
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "bounds": list(map(float, BOUNDS)),
        "agent_bounds": list(map(float, AGENT_BOUNDS)),
    }
    out = [
        (
            "INSERT INTO report_created_days (tenant_id, day, category, priority, channel, count) "
            "SELECT tenant_id, created_day, category, priority, channel, count(*) "
            f"FROM report_ticket_facts WHERE {where} GROUP BY 1, 2, 3, 4, 5",
            params,
        ),
        (
            "INSERT INTO report_rating_days (tenant_id, day, agent, category, rating, count) "
            "SELECT tenant_id, created_day, coalesce(agent, 0), category, rating, count(*) "
            f"FROM report_ticket_facts WHERE {where} AND rating IS NOT NULL "
            "GROUP BY 1, 2, 3, 4, 5",
            params,
        ),
        (
            "INSERT INTO report_sla_days (tenant_id, day, policy_id, tickets, responded, "
            "response_met, resolved, resolution_met) "
            "SELECT tenant_id, created_day, coalesce(policy_id, 0), count(*), "
            "count(first_response_business), "
            "count(*) FILTER (WHERE first_response_business <= response_target), "
            "count(resolution_business), "
            "count(*) FILTER (WHERE resolution_business <= resolution_target) "
            f"FROM report_ticket_facts WHERE {where} AND NOT merged GROUP BY 1, 2, 3",
            params,
        ),
    ]
    out += [(sql, params) for sql in _agent_fill(where)]
    for code, (column, day) in MEASURES.items():
        out.append(
            (
                "WITH v AS (SELECT tenant_id, "
                f"{day} AS day, width_bucket({column}, CAST(:bounds AS float8[])) - 1 AS bin, "
                f"CAST(round({column} * {MICRO}) AS bigint) AS micro "
                f"FROM report_ticket_facts WHERE {where} AND NOT merged "
                f"AND {column} IS NOT NULL AND {day} IS NOT NULL "
                f"AND {column} <> CAST('NaN' AS float8)) "
                "INSERT INTO report_duration_bins "
                "(tenant_id, measure, span, day, bin, count, total) "
                f"SELECT tenant_id, '{code}', 'd', day, bin, count(*), sum(micro) "
                "FROM v GROUP BY tenant_id, day, bin "
                f"UNION ALL SELECT tenant_id, '{code}', 'm', "
                "CAST(date_trunc('month', day) AS date), bin, count(*), sum(micro) "
                "FROM v GROUP BY tenant_id, CAST(date_trunc('month', day) AS date), bin",
                params,
            )
        )
    return out


def refill(session: Session, tenant_id: uuid.UUID | None = None, *, chunk: int = 20000) -> None:
    """Sum the sums again from the facts (of one tenant, or all): in SQL on PostgreSQL, by
    ``parts`` in chunks elsewhere (the same sums: a test compares them)."""
    from sqlalchemy import text

    if tenant_id is not None:
        clear(session, tenant_id)
    else:
        for model, _keys, _sums in TABLES.values():
            session.execute(delete(model))
    if session.get_bind().dialect.name == "postgresql":
        for sql, params in _pg_fill(tenant_id):
            session.execute(text(sql), params)
        return
    cols = [getattr(ReportFact, c) for c in PART_COLUMNS]
    last = None
    while True:
        stmt = select(*cols).order_by(ReportFact.ticket_id).limit(chunk)
        if tenant_id is not None:
            stmt = stmt.where(ReportFact.tenant_id == tenant_id)
        if last is not None:
            stmt = stmt.where(ReportFact.ticket_id > last)
        rows = session.execute(stmt).all()
        if not rows:
            return
        sums: Parts = {}
        for row in rows:
            add_all(sums, parts(row._mapping))
        apply(session, sums)
        last = rows[-1].ticket_id


def _agent_fill(where: str) -> list[str]:
    out = [
        "INSERT INTO report_agent_days (tenant_id, day, agent, assigned, resolved, finished, "
        "reopened, rating_sum, rated) "
        "SELECT tenant_id, created_day, agent, count(*), count(resolution_minutes), "
        "count(*) FILTER (WHERE resolution_minutes IS NOT NULL OR reopen_count > 0), "
        "count(*) FILTER (WHERE reopen_count > 0), coalesce(sum(rating), 0), count(rating) "
        f"FROM report_ticket_facts WHERE {where} AND agent IS NOT NULL GROUP BY 1, 2, 3"
    ]
    for code, (column, _day) in MEASURES.items():
        for span, start in (
            ("d", "created_day"),
            ("w", "CAST(date_trunc('week', created_day) AS date)"),
            ("m", "CAST(date_trunc('month', created_day) AS date)"),
        ):
            out.append(
                "INSERT INTO report_agent_bins (tenant_id, agent, measure, span, day, bin, count) "
                f"SELECT tenant_id, agent, '{code}', '{span}', {start}, "
                f"width_bucket({column}, CAST(:agent_bounds AS float8[])) - 1, count(*) "
                f"FROM report_ticket_facts WHERE {where} AND agent IS NOT NULL "
                f"AND {column} IS NOT NULL AND {column} <> CAST('NaN' AS float8) "
                "GROUP BY 1, 2, 5, 6"
            )
    return out


AGENT_MEASURES = {
    "first_response": "fr",
    "first_response_business": "frb",
    "resolution": "res",
    "resolution_business": "resb",
}


def agent_stats(
    session: Session, tenant_id: uuid.UUID, start: date, end: date
) -> dict[int, dict[str, Any]]:
    """The agents report's figures per agent over tickets created in [start, end), from the
    sums: counts, rating average, and the exact medians (the bins say which bin holds the
    rank, the facts' values of that bin for that agent give the value)."""
    d = ReportAgentDay
    rows: dict[int, dict[str, Any]] = {}
    for agent, assigned, resolved, finished, reopened, rating_sum, rated in session.execute(
        select(
            d.agent,
            func.sum(d.assigned),
            func.sum(d.resolved),
            func.sum(d.finished),
            func.sum(d.reopened),
            func.sum(d.rating_sum),
            func.sum(d.rated),
        )
        .where(d.tenant_id == tenant_id, d.day >= start, d.day < end)
        .group_by(d.agent)
    ):
        if not assigned:
            continue
        rated, reopened = int(rated or 0), int(reopened or 0)
        rows[int(agent)] = {
            "agent": int(agent),
            "assigned": int(assigned),
            "resolved": int(resolved or 0),
            "replied": 0,
            "reopened": reopened,
            "reopen_rate": reopened / int(finished) if finished else None,
            "rating_average": int(rating_sum or 0) / rated if rated else None,
            "rating_count": rated,
        }
    b = ReportAgentBin
    hist: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for agent, code, bin_, n in session.execute(
        select(b.agent, b.measure, b.bin, func.sum(b.count))
        .where(b.tenant_id == tenant_id, _span_conditions(b, start, end, weeks=True))
        .group_by(b.agent, b.measure, b.bin)
    ):
        if n:
            hist.setdefault((int(agent), code), []).append((int(bin_), int(n)))
    wanted: list[tuple[int, str, int, int]] = []
    for (agent, code), found in hist.items():
        found.sort()
        count = sum(n for _, n in found)
        rank, seen = (count + 1) // 2, 0
        for bin_, n in found:
            if seen + n >= rank:
                wanted.append((agent, code, bin_, rank - seen - 1))
                break
            seen += n
    medians = _agent_values_at(session, tenant_id, start, end, wanted)
    for agent, row in rows.items():
        for name, code in AGENT_MEASURES.items():
            row[f"median_{name}"] = medians.get((agent, code))
    return rows


def _agent_values_at(
    session: Session,
    tenant_id: uuid.UUID,
    start: date,
    end: date,
    wanted: list[tuple[int, str, int, int]],
) -> dict[tuple[int, str], float]:
    if not wanted:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        return _agent_values_pg(session, tenant_id, start, end, wanted)
    selects = []
    for i, (agent, code, bin_, offset) in enumerate(wanted):
        value = getattr(ReportFact, MEASURES[code][0])
        low, high = bin_range(bin_, AGENT_BOUNDS)
        conds = [
            ReportFact.tenant_id == tenant_id,
            ReportFact.agent == agent,
            ReportFact.created_day >= start,
            ReportFact.created_day < end,
            value.is_not(None),
        ]
        if low is not None:
            conds.append(value >= low)
        if high is not None:
            conds.append(value < high)
        sub = select(value.label("v")).where(*conds).order_by(value).offset(offset).limit(1)
        selects.append(select(literal(i).label("i"), sub.subquery().c.v))
    stmt = selects[0] if len(selects) == 1 else union_all(*selects)
    out: dict[tuple[int, str], float] = {}
    for i, v in session.execute(stmt):
        agent, code, _b, _o = wanted[int(i)]
        out[(agent, code)] = float(v)
    return out


def _agent_values_pg(
    session: Session,
    tenant_id: uuid.UUID,
    start: date,
    end: date,
    wanted: list[tuple[int, str, int, int]],
) -> dict[tuple[int, str], float]:
    """PostgreSQL: one statement, a LATERAL index scan per wanted value (arrays of the agents,
    bin edges and offsets of each measure)."""
    from sqlalchemy import text

    parts_sql, params = [], {"tenant": tenant_id, "start": start, "end": end}
    for code, (column, _day) in MEASURES.items():
        mine = [w for w in wanted if w[1] == code]
        if not mine:
            continue
        edges = [bin_range(b, AGENT_BOUNDS) for _a, _c, b, _o in mine]
        params |= {
            f"{code}_agents": [a for a, _c, _b, _o in mine],
            f"{code}_lows": [float("-inf") if lo is None else float(lo) for lo, _hi in edges],
            f"{code}_highs": [float("inf") if hi is None else float(hi) for _lo, hi in edges],
            f"{code}_offsets": [o for _a, _c, _b, o in mine],
        }
        parts_sql.append(
            f"SELECT '{code}' AS code, w.agent, x.v FROM unnest(CAST(:{code}_agents AS int[]), "
            f"CAST(:{code}_lows AS float8[]), CAST(:{code}_highs AS float8[]), "
            f"CAST(:{code}_offsets AS int[])) AS w(agent, lo, hi, off) "
            f"CROSS JOIN LATERAL (SELECT {column} AS v FROM report_ticket_facts "
            "WHERE tenant_id = :tenant AND agent = w.agent AND created_day >= :start "
            f"AND created_day < :end AND {column} >= w.lo AND {column} < w.hi "
            f"ORDER BY {column} OFFSET w.off LIMIT 1) AS x"
        )
    out: dict[tuple[int, str], float] = {}
    for code, agent, v in session.execute(text(" UNION ALL ".join(parts_sql)), params):
        out[(int(agent), code)] = float(v)
    return out
