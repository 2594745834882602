"""Reports and SLA policies."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy import select

from core.errors import Forbidden, Invalid
from core.lifecycle import PRIORITIES
from core.models import SlaPolicy
from core.services import reports
from core.sla import DEFAULT_TARGETS
from hub.api.deps import ActorDep, SessionDep
from hub.api.schemas import SlaPolicyPublic

router = APIRouter(prefix="/api/v1/support", tags=["reports", "slas"])


@router.get("/reports/")
def report(actor: ActorDep, session: SessionDep, start: datetime | None = None,
           end: datetime | None = None) -> dict[str, object]:
    """Ticket volume by status, priority and category for tickets created in [start, end)."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} needs a time zone", field=name)
    return reports.volume(session, actor, start=start, end=end)


@router.get("/slas/", response_model=list[SlaPolicyPublic])
def slas(actor: ActorDep, session: SessionDep) -> list[SlaPolicyPublic]:
    """The tenant's SLA policies; defaults per priority where the tenant has none."""
    if not actor.reads_all_tickets:
        raise Forbidden("SLA policies are for agents, admins and managers")
    rows = list(session.scalars(select(SlaPolicy).where(
        SlaPolicy.tenant_id == actor.tenant_id).order_by(SlaPolicy.id)))
    out = [SlaPolicyPublic.model_validate(r) for r in rows]
    covered = {r.priority for r in rows if r.category is None}
    for priority in PRIORITIES:
        if priority not in covered:
            response, resolution = DEFAULT_TARGETS[priority]
            out.append(SlaPolicyPublic(id=None, category=None, priority=priority,
                                       response_minutes=response, resolution_minutes=resolution,
                                       calendar=None, is_default=True))
    return out
