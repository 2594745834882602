"""In-app notifications: mark read, mark all read, one's preferences, the tenant's defaults."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from core.notifications import inbox, prefs
from core.permissions import require_admin
from hub.api.deps import ActorDep, ObjectId, SessionDep

router = APIRouter(prefix="/api/v1", tags=["notifications"])


class Choices(BaseModel):
    """On/off per ``"kind:channel"`` (e.g. ``"assigned:email": false``)."""

    choices: dict[str, bool] = Field(default_factory=dict, max_length=200)


class TenantDefaults(BaseModel):
    """Who hears about unassigned tickets, and the tenant's default on/off per kind:channel."""

    unassigned: str = "all_agents"
    defaults: dict[str, bool] = Field(default_factory=dict, max_length=200)


@router.post("/notifications/{notification_id}/read")
def mark_one_read(
    notification_id: ObjectId, actor: ActorDep, session: SessionDep
) -> dict[str, bool]:
    """Mark one of the caller's notifications read (another's: 404)."""
    inbox.mark_read(session, actor, notification_id)
    session.commit()
    return {"ok": True}


@router.post("/notifications/read-all")
def mark_all_read(actor: ActorDep, session: SessionDep) -> dict[str, int]:
    """Mark every notification of the caller read."""
    count = inbox.mark_all_read(session, actor)
    session.commit()
    return {"marked": count}


@router.get("/notifications/preferences/")
def my_preferences(actor: ActorDep, session: SessionDep) -> list[dict[str, Any]]:
    """The caller's notification choices (per kind and channel; ``locked`` ones stay on)."""
    return inbox.sheet(session, actor)


@router.put("/notifications/preferences/")
def save_preferences(body: Choices, actor: ActorDep, session: SessionDep) -> list[dict[str, Any]]:
    """Replace the caller's choices (only one's own: there is no route for anyone else's)."""
    assert actor.user_id is not None
    prefs.save_person(session, actor.tenant_id, actor.user_id, body.choices)
    session.commit()
    return inbox.sheet(session, actor)


@router.get("/admin/notifications/")
def tenant_defaults(actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    """The tenant's notification defaults (admins)."""
    require_admin(actor, "see notification defaults")
    return inbox.defaults_sheet(session, actor)


@router.put("/admin/notifications/")
def save_tenant_defaults(
    body: TenantDefaults, actor: ActorDep, session: SessionDep
) -> dict[str, Any]:
    """Replace the tenant's notification defaults (admins)."""
    require_admin(actor, "change notification defaults")
    prefs.save_tenant(session, actor.tenant_id, unassigned=body.unassigned, defaults=body.defaults)
    session.commit()
    return inbox.defaults_sheet(session, actor)
