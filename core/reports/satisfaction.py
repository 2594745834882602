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
from core.reports.models import ReportFact
from core.reports.query import grouped, key
from core.reports.rollups import tenant_zone

FEEDBACK_SHOWN = 50


def _averages(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    ordered = sorted(rows, key=lambda r: (r[0] is None, key(r[0])))
    return [{"group": key(g), "average": float(a), "count": int(n)} for g, a, n in ordered]


def satisfaction(session: Session, actor: Actor, params: Mapping[str, str]) -> dict[str, Any]:
    f = report_filters.parse(session, actor, params, extra=("interval",))
    interval = report_filters.group_of(params, "interval", default="week") or "week"
    conds = f.conditions(ReportFact.created_day) + [ReportFact.rating.is_not(None)]
    # One scan on PostgreSQL (GROUPING SETS): per rating, agent, category and period.
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
