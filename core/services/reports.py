"""Reports: ticket volume by status, priority and category over a date range."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Forbidden, Invalid
from core.models import Ticket
from core.permissions import Actor


def volume(session: Session, actor: Actor, *, start: datetime | None,
           end: datetime | None) -> dict[str, Any]:
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
    out: dict[str, Any] = {"start": start, "end": end}
    for name in ("status", "priority", "category"):
        col = getattr(Ticket, name)
        rows = session.execute(select(col, func.count()).where(*conds).group_by(col)).all()
        out[f"by_{name}"] = {k: n for k, n in rows}
    out["total"] = sum(out["by_status"].values())
    rated = session.execute(select(func.count(Ticket.satisfaction_rating),
                                   func.avg(Ticket.satisfaction_rating)).where(*conds)).one()
    out["csat"] = {"rated": rated[0], "average": float(rated[1]) if rated[1] is not None else None}
    out["sla_breached"] = session.scalar(
        select(func.count()).where(*conds, Ticket.sla_breached.is_(True)))
    return out
