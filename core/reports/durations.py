"""First response and resolution times: count, mean, median, 90th percentile and buckets, in
calendar minutes and in business minutes of each ticket's SLA calendar; and SLA compliance.

First response is measured over tickets created in the range, resolution over tickets whose
latest resolution falls in the range; tickets merged into another are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.permissions import Actor
from core.reports import filters as report_filters
from core.reports import summaries
from core.reports.filters import INTERVALS
from core.reports.labels import label_rows
from core.reports.models import ReportFact, ReportSlaDay
from core.reports.query import (
    ALL,
    BUCKETS,
    group_column,
    key,
    many_duration_stats,
    period_of,
    ratio,
)

MEASURES = {
    "first_response": (
        "created",
        ReportFact.first_response_minutes,
        ReportFact.first_response_business,
    ),
    "resolution": ("resolved", ReportFact.resolution_minutes, ReportFact.resolution_business),
}
# The measures' codes in ``report_duration_bins``: calendar, business.
SUMMED = {"first_response": ("fr", "frb"), "resolution": ("res", "resb")}


def durations(
    session: Session, actor: Actor, params: Mapping[str, str], measure: str
) -> dict[str, Any]:
    f = report_filters.parse(session, actor, params, extra=("group",))
    group = report_filters.group_of(params, default=None)
    dates, calendar_col, business_col = MEASURES[measure]
    day = getattr(ReportFact, f"{dates}_day")
    conds = f.conditions(day) + [ReportFact.merged.is_(False)]
    g = group_column(group, dates)
    if group is None and not f.values:
        # Without filters: the per-day and per-month bins (exact, see ``summaries``).
        codes = SUMMED[measure]
        stats = summaries.duration_stats(
            session,
            f.tenant_id,
            f.start,
            f.end,
            {"calendar": codes[0], "business": codes[1]},
            BUCKETS,
        )
        calendar = {ALL: s} if (s := stats["calendar"]) is not None else {}
        business = {ALL: s} if (s := stats["business"]) is not None else {}
    else:
        found = many_duration_stats(
            session, conds, g, {"calendar": calendar_col, "business": business_col}
        )
        calendar, business = found["calendar"], found["business"]
    rows = [
        {"group": k, "calendar": calendar.get(k), "business": business.get(k)}
        for k in sorted(set(calendar) | set(business))
    ]
    label_rows(session, f.tenant_id, group, rows)
    return {
        "report": measure,
        "filters": f.summary(),
        "group": group,
        "unit": "minutes",
        "rows": rows,
    }


def sla(session: Session, actor: Actor, params: Mapping[str, str]) -> dict[str, Any]:
    """Share of tickets created in the range that met their response and resolution targets
    (business minutes against the targets in force), and breaches by policy."""
    f = report_filters.parse(session, actor, params, extra=("group",))
    group = report_filters.group_of(params, default=None)
    conds = f.conditions(ReportFact.created_day) + [ReportFact.merged.is_(False)]
    response_met = ReportFact.first_response_business <= ReportFact.response_target
    resolution_met = ReportFact.resolution_business <= ReportFact.resolution_target
    response_late = ReportFact.first_response_business > ReportFact.response_target
    resolution_late = ReportFact.resolution_business > ReportFact.resolution_target
    measured = [
        func.count(ReportFact.first_response_business),
        func.sum(case((response_met, 1), else_=0)),
        func.count(ReportFact.resolution_business),
        func.sum(case((resolution_met, 1), else_=0)),
    ]
    if not f.values and group in (None, *INTERVALS):
        return _sla_from_days(session, f, group)
    g = group_column(group, "created")
    stmt = select(g, *measured).group_by(g) if g is not None else select(*measured)
    rows = []
    for row in session.execute(stmt.where(*conds)):
        k, vals = (key(row[0]), row[1:]) if g is not None else (ALL, row)
        responded, r_met, resolved, s_met = (int(v or 0) for v in vals)
        if g is None and not (responded or resolved):
            continue
        rows.append(
            {
                "group": k,
                "responded": responded,
                "response_met": r_met,
                "response_compliance": ratio(r_met, responded),
                "resolved": resolved,
                "resolution_met": s_met,
                "resolution_compliance": ratio(s_met, resolved),
            }
        )
    label_rows(session, f.tenant_id, group, rows)
    by_policy = [
        {
            "policy_id": policy_id,
            "response_breaches": int(r or 0),
            "resolution_breaches": int(s or 0),
        }
        for policy_id, r, s in session.execute(
            select(
                ReportFact.policy_id,
                func.sum(case((response_late, 1), else_=0)),
                func.sum(case((resolution_late, 1), else_=0)),
            )
            .where(*conds)
            .group_by(ReportFact.policy_id)
            .order_by(ReportFact.policy_id)
        )
        if (r or 0) or (s or 0)
    ]
    return {
        "report": "sla",
        "filters": f.summary(),
        "group": group,
        "rows": sorted(rows, key=lambda r: r["group"]),
        "breaches_by_policy": by_policy,
    }


def _sla_row(k: str, sums: list[int]) -> dict[str, Any]:
    _tickets, responded, r_met, resolved, s_met = sums
    return {
        "group": k,
        "responded": responded,
        "response_met": r_met,
        "response_compliance": ratio(r_met, responded),
        "resolved": resolved,
        "resolution_met": s_met,
        "resolution_compliance": ratio(s_met, resolved),
    }


def _sla_from_days(
    session: Session, f: report_filters.Filters, group: str | None
) -> dict[str, Any]:
    """``sla`` without filters, from the per-day counts (``report_sla_days``)."""
    groups: dict[str, list[int]] = {}
    policies: dict[int, list[int]] = {}
    for day, policy_id, *counts in session.execute(
        select(
            ReportSlaDay.day,
            ReportSlaDay.policy_id,
            ReportSlaDay.tickets,
            ReportSlaDay.responded,
            ReportSlaDay.response_met,
            ReportSlaDay.resolved,
            ReportSlaDay.resolution_met,
        ).where(
            ReportSlaDay.tenant_id == f.tenant_id,
            ReportSlaDay.day >= f.start,
            ReportSlaDay.day < f.end,
        )
    ):
        k = ALL if group is None else key(period_of(day, group))
        for into in (groups.setdefault(k, [0] * 5), policies.setdefault(policy_id, [0] * 5)):
            for i, n in enumerate(counts):
                into[i] += int(n)
    rows = [
        _sla_row(k, sums)
        for k, sums in groups.items()
        if sums[0] and (group is not None or sums[1] or sums[3])
    ]
    # The order of the facts' GROUP BY policy_id: no policy last on PostgreSQL, first elsewhere.
    none_last = session.get_bind().dialect.name == "postgresql"
    by_policy = [
        {
            "policy_id": policy_id or None,
            "response_breaches": sums[1] - sums[2],
            "resolution_breaches": sums[3] - sums[4],
        }
        for policy_id, sums in sorted(
            policies.items(), key=lambda kv: ((kv[0] == 0) == none_last, kv[0])
        )
        if sums[1] - sums[2] or sums[3] - sums[4]
    ]
    return {
        "report": "sla",
        "filters": f.summary(),
        "group": group,
        "rows": sorted(rows, key=lambda r: r["group"]),
        "breaches_by_policy": by_policy,
    }
