"""Reports. (SLA policies are served by ``hub.api.routes.sla``.)"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from core.errors import Invalid
from core.services import reports
from hub.api.deps import ActorDep, SessionDep

router = APIRouter(prefix="/api/v1/support", tags=["reports"])


@router.get("/reports/")
def report(actor: ActorDep, session: SessionDep, start: datetime | None = None,
           end: datetime | None = None) -> dict[str, object]:
    """Ticket volume by status, priority and category for tickets created in [start, end)."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} needs a time zone", field=name)
    return reports.volume(session, actor, start=start, end=end)

