"""Likely duplicates of a ticket (staff): list, dismiss, merge from a flag; the tenant's
settings (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from core.duplicates import service
from core.duplicates.service import FlagView
from core.models import Ticket
from core.permissions import require_admin
from hub.api.deps import ActorDep, HubDep, ObjectId, SessionDep, client_ip
from hub.api.schemas.duplicates import (
    DuplicateFlagPublic,
    DuplicateSettingsPublic,
    DuplicateSettingsUpdate,
)
from hub.api.schemas.tickets import TicketPublic

router = APIRouter(prefix="/api/v1", tags=["duplicates"])


def flag_public(view: FlagView) -> DuplicateFlagPublic:
    f = view.flag
    return DuplicateFlagPublic(
        id=f.id,
        ticket_id=view.ticket_id,
        other_ticket_id=view.other_id,
        other_subject=view.other_subject,
        other_status=view.other_status,
        score=f.score,
        reason=view.reason,
        status=f.status,
        created_at=f.created_at,
        decided_by=f.decided_by,
        decided_at=f.decided_at,
    )


@router.get("/support/tickets/{ticket_id}/duplicates/", response_model=list[DuplicateFlagPublic])
def list_duplicates(
    ticket_id: ObjectId, actor: ActorDep, session: SessionDep
) -> list[DuplicateFlagPublic]:
    """The ticket's open possible-duplicate flags, best first (agents, managers, admins)."""
    return [flag_public(v) for v in service.flags_for(session, actor, ticket_id)]


@router.post(
    "/support/tickets/{ticket_id}/duplicates/{flag_id}/dismiss/", response_model=DuplicateFlagPublic
)
def dismiss(
    ticket_id: ObjectId, flag_id: ObjectId, actor: ActorDep, session: SessionDep, hub: HubDep
) -> DuplicateFlagPublic:
    """Not a duplicate: the flag is dismissed on both tickets and the pair never comes back."""
    flag = service.dismiss(session, actor, ticket_id, flag_id)
    view = service.flag_view(session, flag, ticket_id)
    session.commit()
    hub.kick()
    return flag_public(view)


@router.post(
    "/support/tickets/{ticket_id}/duplicates/{flag_id}/merge/", response_model=TicketPublic
)
def merge(
    ticket_id: ObjectId, flag_id: ObjectId, actor: ActorDep, session: SessionDep, hub: HubDep
) -> Ticket:
    """Merge this ticket into the other ticket of the flag; answers the target."""
    target = service.merge_from_flag(session, actor, ticket_id, flag_id)
    session.commit()
    hub.kick()
    return target


@router.get("/admin/duplicates/", response_model=DuplicateSettingsPublic)
def get_settings(actor: ActorDep, session: SessionDep) -> DuplicateSettingsPublic:
    """The tenant's duplicate detection settings (admins)."""
    require_admin(actor, "read duplicate detection settings")
    row = service.settings_for(session, actor.tenant_id)
    return DuplicateSettingsPublic(enabled=row.enabled, window_days=row.window_days)


@router.put("/admin/duplicates/", response_model=DuplicateSettingsPublic)
def put_settings(
    body: DuplicateSettingsUpdate, actor: ActorDep, session: SessionDep, request: Request
) -> DuplicateSettingsPublic:
    """Turn duplicate detection on or off and set how many days back it looks (admins)."""
    row = service.save_settings(
        session, actor, enabled=body.enabled, window_days=body.window_days, ip=client_ip(request)
    )
    session.commit()
    return DuplicateSettingsPublic(enabled=row.enabled, window_days=row.window_days)
