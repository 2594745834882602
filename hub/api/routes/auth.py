"""Sign-in by password (session cookie), the caller's identity and notifications."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Forbidden, Invalid, Unauthenticated
from core.models import Membership, Notification, Tenant, User
from core.services import audit, identity, security, sessions
from hub.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ActorDep,
    HubDep,
    SessionDep,
    client_ip,
    make_session_cookie,
    read_session_cookie,
)
from hub.api.routes import two_factor as two_factor_routes
from hub.api.schemas.auth import (
    NotificationPublic,
    OkPublic,
    SessionCreate,
    SessionPublic,
    TwoFactorStepPublic,
    WhoAmIPublic,
)
from hub.context import Hub
from hub.ratelimit import signin_throttle

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/login", response_model=SessionPublic | TwoFactorStepPublic)
def login(
    body: SessionCreate, request: Request, session: SessionDep, hub: HubDep, response: Response
) -> dict[str, Any]:
    """Check email and password; set the session and CSRF cookies.

    Failed attempts are throttled per account and client (``hub.ratelimit``): 429 with
    ``Retry-After`` once the limit is used up."""
    throttle = signin_throttle(hub)
    ip = client_ip(request)
    refused = throttle.blocked(body.email, ip)
    if refused is not None:
        raise HTTPException(429, refused.message, headers={"Retry-After": str(refused.retry_after)})
    user = identity.user_by_email(session, body.email)
    # check_password first: it costs one argon2 verification whether the user exists or not.
    if not identity.check_password(user, body.password) or user is None or not user.is_active:
        throttle.failed(body.email, ip)
        if user is not None:
            # Committed here: the request's transaction rolls back with the 401.
            audit.failed_signin(session, user.id, user.email, ip)
            session.commit()
        raise Unauthenticated("wrong email or password")
    throttle.succeeded(body.email, ip)
    tenants = list(
        session.execute(
            select(Tenant.id, Tenant.slug, Membership.role)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == user.id, Membership.deactivated_at.is_(None))
            .order_by(Tenant.slug)
        ).all()
    )
    if not tenants:
        raise Unauthenticated("this account belongs to no tenant")
    if body.tenant:
        chosen = [t for t in tenants if t[1] == body.tenant]
        if not chosen:
            raise Invalid("not a member of that tenant", field="tenant")
    elif len(tenants) > 1:
        raise Invalid("choose a tenant: " + ", ".join(t[1] for t in tenants), field="tenant")
    else:
        chosen = tenants
    tenant_id, slug, role = chosen[0]
    sso_only = security.password_refusal(session, tenant_id, role)
    if sso_only is not None:
        raise Forbidden(sso_only)
    step = two_factor_routes.pending_step(hub, session, user, tenant_id, slug, role)
    if step is not None:
        return step
    return start_session(request, session, hub, response, user, tenant_id, slug, role)


def start_session(
    request: Request,
    session: Session,
    hub: Hub,
    response: Response,
    user: User,
    tenant_id: uuid.UUID,
    slug: str,
    role: str,
) -> dict[str, Any]:
    """Sign the user in to the tenant: audit row, session row, cookies, and the answer."""
    ip = client_ip(request)
    user.last_login = now()
    audit.record(
        session,
        tenant_id,
        audit.SIGNIN,
        actor_id=user.id,
        actor_email=user.email,
        ip=ip,
        target_email=user.email,
        details={"via": "api"},
    )
    value, csrf = make_session_cookie(
        hub,
        user_id=user.id,
        tenant_id=tenant_id,
        session=session,
        user_agent=request.headers.get("user-agent", ""),
        ip=ip,
    )
    secure = hub.settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE, value, httponly=True, samesite="lax", secure=secure, max_age=14 * 24 * 3600
    )
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, samesite="strict", secure=secure)
    return {
        "user_id": user.id,
        "email": user.email,
        "tenant": slug,
        "role": role,
        "csrf_token": csrf,
    }


@router.post("/auth/logout", response_model=OkPublic)
def logout(
    request: Request, hub: HubDep, session: SessionDep, response: Response
) -> dict[str, bool]:
    """Revoke the server-side session of the cookie (any copy of it stops counting) and drop
    the session cookies."""
    sid = read_session_cookie(hub, request.cookies.get(SESSION_COOKIE, ""))
    if sid is not None:
        sessions.revoke(session, sid)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return {"ok": True}


@router.get("/me", response_model=WhoAmIPublic)
def me(actor: ActorDep) -> dict[str, Any]:
    """Who the caller is, in which tenant, with which role."""
    return {
        "user_id": actor.user_id,
        "email": actor.email,
        "name": actor.name,
        "role": actor.role,
        "tenant_id": str(actor.tenant_id),
    }


@router.get("/notifications/", response_model=list[NotificationPublic])
def notifications(
    actor: ActorDep, session: SessionDep, unread: bool = True
) -> list[dict[str, Any]]:
    """The caller's in-app notifications, newest first."""
    stmt = select(Notification).where(
        Notification.tenant_id == actor.tenant_id, Notification.user_id == actor.user_id
    )
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return [
        {
            "id": n.id,
            "ticket_id": n.ticket_id,
            "url": f"/tickets/{n.ticket_id}" if n.ticket_id else None,
            "kind": n.kind,
            "text": n.text,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in session.scalars(stmt.order_by(Notification.id.desc()).limit(100))
    ]


@router.post("/notifications/read", response_model=OkPublic)
def mark_read(actor: ActorDep, session: SessionDep) -> dict[str, bool]:
    """Mark all the caller's notifications read (also ``/notifications/read-all``)."""
    from core.notifications import inbox

    inbox.mark_all_read(session, actor)
    session.commit()
    return {"ok": True}
