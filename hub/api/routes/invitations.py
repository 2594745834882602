"""Invitations through the API: invite, list, resend and cancel (admins of the tenant)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from core.clock import now
from core.models import AuthLink, Tenant
from core.permissions import Actor
from core.services import invitations
from core.services.links import Issued
from hub import auth_links
from hub.api.deps import ActorDep, HubDep, ObjectId, SessionDep, client_ip
from hub.api.schemas.links import InvitationCancelled, InvitationCreate, InvitationPublic
from hub.context import Hub

router = APIRouter(prefix="/api/v1/admin/invitations", tags=["admin"])


def _public(row: AuthLink, *, sent: bool, link: str | None) -> InvitationPublic:
    return InvitationPublic(
        id=row.id,
        email=row.email,
        role=row.role or "",
        created_at=row.created_at,
        expires_at=row.expires_at,
        expired=row.expires_at <= now(),
        sent=sent,
        link=link,
    )


def _send(hub: Hub, session: Session, actor: Actor, issued: Issued) -> InvitationPublic:
    """After the commit: mail the link; the answer carries it only when no mail went out."""
    tenant = session.get(Tenant, actor.tenant_id)
    url = auth_links.invitation_url(hub, issued.token)
    delivery = auth_links.send_invitation(
        hub,
        tenant_id=actor.tenant_id,
        tenant_name=tenant.name if tenant is not None else "",
        inviter=actor.name or actor.email,
        email=issued.link.email,
        role=issued.link.role or "",
        url=url,
        expires=issued.link.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    )
    return _public(issued.link, sent=delivery.sent, link=None if delivery.sent else url)


@router.post("/", status_code=201)
def invite(
    body: InvitationCreate, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> InvitationPublic:
    """Invite an address with a role (409 when already a member); the mail goes out after the
    commit, else the answer carries the link to pass on."""
    issued = invitations.invite(
        session,
        actor,
        email=body.email,
        role=body.role,
        ttl=auth_links.invitation_ttl(hub, session, actor.tenant_id),
        ip=client_ip(request),
    )
    session.commit()
    return _send(hub, session, actor, issued)


@router.get("/")
def pending(actor: ActorDep, session: SessionDep) -> list[InvitationPublic]:
    """Invitations not yet accepted nor cancelled, newest first (expired ones flagged)."""
    return [
        InvitationPublic(
            id=p.id,
            email=p.email,
            role=p.role,
            created_at=p.created_at,
            expires_at=p.expires_at,
            expired=p.expired,
        )
        for p in invitations.pending(session, actor)
    ]


@router.post("/{invitation_id}/resend/")
def resend(
    invitation_id: ObjectId, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> InvitationPublic:
    """A new link for a pending invitation (the old one stops working): a new id and expiry."""
    issued = invitations.resend(
        session,
        actor,
        invitation_id,
        ttl=auth_links.invitation_ttl(hub, session, actor.tenant_id),
        ip=client_ip(request),
    )
    session.commit()
    return _send(hub, session, actor, issued)


@router.post("/{invitation_id}/cancel/")
def cancel(
    invitation_id: ObjectId, request: Request, actor: ActorDep, session: SessionDep
) -> InvitationCancelled:
    """Cancel a pending invitation: its link stops working."""
    link = invitations.cancel(session, actor, invitation_id, ip=client_ip(request))
    return InvitationCancelled(id=link.id, cancelled=True)
