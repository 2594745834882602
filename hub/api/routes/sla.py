"""SLA policies (admins create and edit them) and a ticket's SLA state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from core.sla import policies
from hub.api.deps import ActorDep, ObjectId, SessionDep
from hub.api.schemas.sla import SlaPolicyCreate, SlaPolicyPublic, SlaPolicyUpdate, TicketSlaPublic

router = APIRouter(prefix="/api/v1/support", tags=["slas"])


@router.get("/slas/", response_model=list[SlaPolicyPublic])
def list_slas(actor: ActorDep, session: SessionDep) -> list[SlaPolicyPublic]:
    """The tenant's SLA policies; defaults per priority where the tenant has none."""
    return [SlaPolicyPublic.model_validate(p) for p in policies.list_policies(session, actor)]


@router.post("/slas/", status_code=201, response_model=SlaPolicyPublic)
def create_sla(body: SlaPolicyCreate, actor: ActorDep, session: SessionDep) -> SlaPolicyPublic:
    """Create a policy for a priority (and optionally a category); open tickets are re-timed."""
    return SlaPolicyPublic.model_validate(policies.create_policy(session, actor, body.model_dump()))


@router.patch("/slas/{policy_id}/", response_model=SlaPolicyPublic)
def update_sla(
    policy_id: ObjectId, body: SlaPolicyUpdate, actor: ActorDep, session: SessionDep
) -> SlaPolicyPublic:
    """Change a policy; tickets it covered and now covers are re-timed at once."""
    row = policies.update_policy(session, actor, policy_id, body.model_dump(exclude_unset=True))
    return SlaPolicyPublic.model_validate(row)


@router.delete("/slas/{policy_id}/", status_code=204)
def delete_sla(policy_id: ObjectId, actor: ActorDep, session: SessionDep) -> Response:
    """Remove a policy; its tickets fall back to the next policy or the default."""
    policies.delete_policy(session, actor, policy_id)
    return Response(status_code=204)


@router.get("/tickets/{ticket_id}/sla/", response_model=TicketSlaPublic)
def ticket_sla(ticket_id: ObjectId, actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    """A ticket's SLA state (targets, due moments, paused, breached) and its SLA log."""
    return policies.ticket_sla(session, actor, ticket_id)
