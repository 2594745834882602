"""Satisfaction over tickets created in the range: average and distribution of ratings overall,
per agent, per category and over time, the latest feedback texts, and knowledge-base
deflections (searches that ended without a ticket) in the range."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import KbDeflection, Ticket
from core.permissions import Actor
from core.reports import filters as report_filters
from core.reports.filters import Filters
from core.reports.models import ReportFact, ReportRatingDay
from core.reports.query import grouped, key, period_of
from core.reports.rollups import tenant_zone

FEEDBACK_SHOWN = 50


def _averages(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    ordered = sorted(rows, key=lambda r: (r[0] is None, key(r[0])))
    return [{"group": key(g), "average": float(a), "count": int(n)} for g, a, n in ordered]


def satisfaction(session: Session, actor: Actor, params: Mapping[str, str]) -> dict[str, Any]:
    f = report_filters.parse(session, actor, params, extra=("interval",))
    interval = report_filters.group_of(params, "interval", default="week") or "week"
    conds = f.conditions(ReportFact.created_day) + [ReportFact.rating.is_not(None)]
    # One scan on PostgreSQL (GROUPING SETS): per rating, agent, category and period; without
    # filters, of the per-day counts (``report_rating_days``).
    if f.values:
        rows = grouped(
            session,
            conds,
            {
                "rating": [ReportFact.rating],
                "agent": [ReportFact.agent],
                "category": [ReportFact.category],
                "trend": [getattr(ReportFact, f"created_{interval}")],
            },
            [func.avg(ReportFact.rating), func.count(ReportFact.rating)],
        )
    else:
        rows = _from_days(session, f, interval)
    distribution = {str(n): 0 for n in range(1, 6)}
    for rating, _avg, n in rows["rating"]:
        distribution[str(rating)] = int(n)
    count = sum(distribution.values())
    avg = sum(int(k) * n for k, n in distribution.items()) / count if count else None
    feedback = [
        {"ticket_id": tid, "rating": rating, "feedback": text, "created_at": at.isoformat()}
        for tid, rating, text, at in session.execute(
            select(Ticket.id, Ticket.satisfaction_rating, Ticket.feedback, Ticket.created_at)
            .select_from(ReportFact)
            .join(Ticket, Ticket.id == ReportFact.ticket_id)
            .where(*conds, ReportFact.has_feedback.is_(True))
            .order_by(ReportFact.ticket_id.desc())
            .limit(FEEDBACK_SHOWN)
        )
    ]
    zone = tenant_zone(session, f.tenant_id)
    since = datetime.combine(f.start, time(), zone)
    until = datetime.combine(f.end, time(), zone)
    deflections = session.scalar(
        select(func.count()).where(
            KbDeflection.tenant_id == f.tenant_id,
            KbDeflection.created_at >= since,
            KbDeflection.created_at < until,
        )
    )
    return {
        "report": "satisfaction",
        "filters": f.summary(),
        "interval": interval,
        "average": float(avg) if avg is not None else None,
        "count": int(count),
        "distribution": distribution,
        "by_agent": _averages(rows["agent"]),
        "by_category": _averages(rows["category"]),
        "trend": _averages(rows["trend"]),
        "feedback": feedback,
        "kb_deflections": int(deflections or 0),
    }


def _from_days(session: Session, f: Filters, interval: str) -> dict[str, list[tuple[Any, ...]]]:
    r = ReportRatingDay
    found = grouped(
        session,
        [r.tenant_id == f.tenant_id, r.day >= f.start, r.day < f.end],
        {"rating": [r.rating], "agent": [r.agent], "category": [r.category], "trend": [r.day]},
        [func.sum(r.rating * r.count), func.sum(r.count)],
    )
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, rows in found.items():
        sums: dict[Any, list[int]] = {}
        for g, total, n in rows:
            if name == "trend":
                g = period_of(g, interval)
            elif name == "agent":
                g = g or None
            into = sums.setdefault(g, [0, 0])
            into[0] += int(total or 0)
            into[1] += int(n or 0)
        out[name] = [(g, total / n, n) for g, (total, n) in sums.items() if n]
    return out
