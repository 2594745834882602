"""Agent groups and tiers: staff read them, admins create, change and delete them."""

from __future__ import annotations

from fastapi import APIRouter, Response

from core.groups import service
from hub.api.deps import ActorDep, ObjectId, SessionDep
from hub.api.schemas.groups import GroupCreate, GroupPublic, GroupUpdate

router = APIRouter(prefix="/api/v1/support", tags=["groups"])


def _public(view: service.GroupView) -> GroupPublic:
    return GroupPublic(
        id=view.id,
        name=view.name,
        description=view.description,
        tier=view.tier,
        members=list(view.member_ids),
        open_tickets=view.open_tickets,
    )


@router.get("/groups/", response_model=list[GroupPublic])
def list_groups(actor: ActorDep, session: SessionDep) -> list[GroupPublic]:
    """The tenant's agent groups, the tiers in order first, with members and open tickets."""
    return [_public(v) for v in service.list_groups(session, actor)]


@router.post("/groups/", status_code=201, response_model=GroupPublic)
def create_group(body: GroupCreate, actor: ActorDep, session: SessionDep) -> GroupPublic:
    """Create a group (admins): a name, an optional tier and its members (agents, admins)."""
    row = service.create_group(
        session,
        actor,
        name=body.name,
        description=body.description,
        tier=body.tier,
        members=body.members,
    )
    session.commit()
    return _public(service.get_group(session, actor, row.id))


@router.get("/groups/{group_id}/", response_model=GroupPublic)
def show_group(group_id: ObjectId, actor: ActorDep, session: SessionDep) -> GroupPublic:
    """One group."""
    return _public(service.get_group(session, actor, group_id))


@router.patch("/groups/{group_id}/", response_model=GroupPublic)
def update_group(
    group_id: ObjectId, body: GroupUpdate, actor: ActorDep, session: SessionDep
) -> GroupPublic:
    """Change a group (admins); fields left out keep their value, ``tier: null`` removes it."""
    current = service.get_group(session, actor, group_id)
    sent = body.model_fields_set
    service.update_group(
        session,
        actor,
        group_id,
        name=body.name if body.name is not None else current.name,
        description=body.description if body.description is not None else current.description,
        tier=body.tier if "tier" in sent else current.tier,
        members=list(body.members) if body.members is not None else list(current.member_ids),
    )
    session.commit()
    return _public(service.get_group(session, actor, group_id))


@router.delete("/groups/{group_id}/", status_code=204)
def delete_group(group_id: ObjectId, actor: ActorDep, session: SessionDep) -> Response:
    """Delete a group that owns no open ticket (admins)."""
    service.delete_group(session, actor, group_id)
    session.commit()
    return Response(status_code=204)
