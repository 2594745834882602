"""In-app notifications: mark read, mark all read, one's preferences, the tenant's defaults."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from core.notifications import inbox, prefs
from core.permissions import require_admin
from hub.api.deps import ActorDep, ObjectId, SessionDep
from hub.api.schemas.notifications import (
    ChoicePublic,
    Choices,
    Marked,
    TenantDefaults,
    TenantDefaultsPublic,
)

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.post("/notifications/{notification_id}/read", response_model=Marked)
def mark_one_read(
    notification_id: ObjectId, actor: ActorDep, session: SessionDep
) -> dict[str, Any]:
    """Mark one of the caller's notifications read (another's: 404)."""
    inbox.mark_read(session, actor, notification_id)
    session.commit()
    return {"ok": True, "marked": 1}


@router.post("/notifications/read-all", response_model=Marked)
def mark_all_read(actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    """Mark every notification of the caller read."""
    count = inbox.mark_all_read(session, actor)
    session.commit()
    return {"ok": True, "marked": count}


@router.get("/notifications/preferences/", response_model=list[ChoicePublic])
def my_preferences(actor: ActorDep, session: SessionDep) -> list[dict[str, Any]]:
    """The caller's notification choices (per kind and channel; ``locked`` ones stay on)."""
    return inbox.sheet(session, actor)


@router.put("/notifications/preferences/", response_model=list[ChoicePublic])
def save_preferences(body: Choices, actor: ActorDep, session: SessionDep) -> list[dict[str, Any]]:
    """Replace the caller's choices (only one's own: there is no route for anyone else's)."""
    assert actor.user_id is not None
    prefs.save_person(session, actor.tenant_id, actor.user_id, body.choices)
    session.commit()
    return inbox.sheet(session, actor)


@router.get("/admin/notifications/", response_model=TenantDefaultsPublic)
def tenant_defaults(actor: ActorDep, session: SessionDep) -> dict[str, Any]:
    """The tenant's notification defaults (admins)."""
    require_admin(actor, "see notification defaults")
    return inbox.defaults_sheet(session, actor)


@router.put("/admin/notifications/", response_model=TenantDefaultsPublic)
def save_tenant_defaults(
    body: TenantDefaults, actor: ActorDep, session: SessionDep
) -> dict[str, Any]:
    """Replace the tenant's notification defaults (admins)."""
    require_admin(actor, "change notification defaults")
    prefs.save_tenant(session, actor.tenant_id, unassigned=body.unassigned, defaults=body.defaults)
    session.commit()
    return inbox.defaults_sheet(session, actor)
