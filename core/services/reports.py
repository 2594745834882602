"""Reports: ticket volume by status, priority and category over a date range."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.errors import Forbidden, Invalid
from core.models import Ticket
from core.permissions import Actor


def volume(
    session: Session, actor: Actor, *, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """Counts per status, priority and category, plus CSAT, for tickets created in [start, end)."""
    if not actor.reads_all_tickets:
        raise Forbidden("reports are for agents, admins and managers")
    if start and end and start >= end:
        raise Invalid("start must be before end", field="start")
    conds = [Ticket.tenant_id == actor.tenant_id]
    if start:
        conds.append(Ticket.created_at >= start)
    if end:
        conds.append(Ticket.created_at < end)
    # One scan: counts per (status, priority, category), folded into each dimension here.
    rows = session.execute(
        select(
            Ticket.status,
            Ticket.priority,
            Ticket.category,
            func.count(),
            func.count(Ticket.satisfaction_rating),
            func.sum(Ticket.satisfaction_rating),
            func.sum(case((Ticket.sla_breached.is_(True), 1), else_=0)),
        )
        .where(*conds)
        .group_by(Ticket.status, Ticket.priority, Ticket.category)
    ).all()
    out: dict[str, Any] = {
        "start": start,
        "end": end,
        "by_status": {},
        "by_priority": {},
        "by_category": {},
    }
    rated = rating_sum = breached = 0
    for status, priority, category, count, n_rated, r_sum, n_breached in rows:
        for name, value in (("status", status), ("priority", priority), ("category", category)):
            bucket = out[f"by_{name}"]
            bucket[value] = bucket.get(value, 0) + count
        rated += n_rated
        rating_sum += r_sum or 0
        breached += n_breached or 0
    out["total"] = sum(out["by_status"].values())
    out["csat"] = {"rated": rated, "average": rating_sum / rated if rated else None}
    out["sla_breached"] = breached
    return out
