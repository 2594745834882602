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
from core.reports.query import key
from core.reports.rollups import tenant_zone

FEEDBACK_SHOWN = 50


def _averages(session: Session, conds: list[Any], column: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(column, func.avg(ReportFact.rating), func.count(ReportFact.rating))
        .where(*conds)
        .group_by(column)
        .order_by(column)
    )
    return [{"group": key(g), "average": float(a), "count": int(n)} for g, a, n in rows]


def satisfaction(session: Session, actor: Actor, params: Mapping[str, str]) -> dict[str, Any]:
    f = report_filters.parse(session, actor, params, extra=("interval",))
    interval = report_filters.group_of(params, "interval", default="week") or "week"
    conds = f.conditions(ReportFact.created_day) + [ReportFact.rating.is_not(None)]
    avg, count = session.execute(
        select(func.avg(ReportFact.rating), func.count(ReportFact.rating)).where(*conds)
    ).one()
    distribution = {str(n): 0 for n in range(1, 6)}
    for rating, n in session.execute(
        select(ReportFact.rating, func.count()).where(*conds).group_by(ReportFact.rating)
    ):
        distribution[str(rating)] = int(n)
    feedback = [
        {"ticket_id": tid, "rating": rating, "feedback": text, "created_at": at.isoformat()}
        for tid, rating, text, at in session.execute(
            select(Ticket.id, Ticket.satisfaction_rating, Ticket.feedback, Ticket.created_at)
            .join(ReportFact, ReportFact.ticket_id == Ticket.id)
            .where(*conds, Ticket.feedback.is_not(None), Ticket.feedback != "")
            .order_by(Ticket.id.desc())
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
        "by_agent": _averages(session, conds, ReportFact.agent),
        "by_category": _averages(session, conds, ReportFact.category),
        "trend": _averages(session, conds, getattr(ReportFact, f"created_{interval}")),
        "feedback": feedback,
        "kb_deflections": int(deflections or 0),
    }
