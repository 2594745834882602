"""People and access over the API: offboarding members, the caller's account and sessions, API
tokens (the caller's and, for admins, the tenant's) and the tenant's API rate limit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select

from core.errors import HubError, Unauthenticated
from core.models import Membership, User
from core.permissions import require_admin
from core.services import account, api_limits, identity, offboarding, sessions, tokens
from hub.api.deps import (
    ActorDep,
    HubDep,
    ObjectId,
    SessionDep,
    client_ip,
    current_session_hash,
    token_scope,
)
from hub.api.rate_limit import api_limiter
from hub.api.schemas.access_control import (
    HandoverCreate,
    HandoverPublic,
    MemberPublic,
    MemberUpdate,
    MePublic,
    MeUpdate,
    PasswordChange,
    PasswordChanged,
    RateLimitPublic,
    RateLimitUpdate,
    SessionPublic,
    SessionsRevoke,
    SessionsRevoked,
    TokenCreate,
    TokenCreated,
    TokenPublic,
)
from hub.context import Hub
from hub.ratelimit import signin_throttle

router = APIRouter(prefix="/api/v1", tags=["access"])


def _handover(session: SessionDep, actor: ActorDep, user_id: int, h: Any) -> HandoverPublic:
    row = session.execute(
        select(Membership.deactivated_at, User.is_active)
        .join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == actor.tenant_id, Membership.user_id == user_id)
    ).first()
    return HandoverPublic(
        user_id=user_id,
        member=row is not None,
        active=row is not None and row[0] is None and bool(row[1]),
        tickets=h.tickets,
        reassigned_to=h.reassigned_to,
    )


# ------------------------------------------------------------------ offboarding (admins)


@router.post("/admin/members/{user_id}/deactivate/", response_model=HandoverPublic)
def deactivate_member(
    user_id: ObjectId, body: HandoverCreate, request: Request, actor: ActorDep, session: SessionDep
) -> HandoverPublic:
    """Deactivate a member in this tenant: their sessions and tokens here are refused from the
    next request, they leave the assignment rotation, and their open tickets are unassigned or
    go to ``reassign_to``. 409 for yourself or the last admin."""
    h = offboarding.deactivate(
        session, actor, user_id, reassign_to=body.reassign_to, ip=client_ip(request)
    )
    return _handover(session, actor, user_id, h)


@router.post("/admin/members/{user_id}/reactivate/", response_model=HandoverPublic)
def reactivate_member(
    user_id: ObjectId, request: Request, actor: ActorDep, session: SessionDep
) -> HandoverPublic:
    """Restore a deactivated member's access (they sign in again; their tokens count again)."""
    offboarding.reactivate(session, actor, user_id, ip=client_ip(request))
    return _handover(session, actor, user_id, offboarding.Handover(0, None))


@router.post("/admin/members/{user_id}/remove/", response_model=HandoverPublic)
def remove_member(
    user_id: ObjectId, body: HandoverCreate, request: Request, actor: ActorDep, session: SessionDep
) -> HandoverPublic:
    """Remove a member from this tenant (the account and its other tenants stay): open tickets
    handed over, sessions and tokens here revoked. 409 for yourself or the last admin."""
    h = offboarding.remove(
        session, actor, user_id, reassign_to=body.reassign_to, ip=client_ip(request)
    )
    return _handover(session, actor, user_id, h)


@router.patch("/admin/members/{user_id}/", response_model=MemberPublic)
def change_role(
    user_id: ObjectId, body: MemberUpdate, request: Request, actor: ActorDep, session: SessionDep
) -> MemberPublic:
    """Change a member's role (audited); 409 when it would leave the tenant without an admin."""
    offboarding.set_role(session, actor, user_id, body.role, ip=client_ip(request))
    row = next(r for r in identity.members(session, actor.tenant_id) if r[0] == user_id)
    return MemberPublic(
        id=row[0],
        email=row[1],
        full_name=row[2],
        role=row[3],
        available=bool(row[4]),
        active=bool(row[5]),
    )


@router.get("/admin/tokens/", response_model=list[TokenPublic])
def tenant_tokens(actor: ActorDep, session: SessionDep) -> list[tokens.TokenRow]:
    """Every API token of the tenant (never the token itself), newest first."""
    return tokens.of_tenant(session, actor)


@router.post("/admin/tokens/{token_id}/revoke/", response_model=TokenPublic)
def revoke_tenant_token(
    token_id: ObjectId, request: Request, actor: ActorDep, session: SessionDep
) -> tokens.TokenRow:
    """Revoke any token of the tenant: the next request with it is a 401."""
    require_admin(actor, "revoke other people's tokens")
    return tokens.revoke(session, actor, token_id, ip=client_ip(request))


@router.get("/admin/rate-limit/", response_model=RateLimitPublic)
def rate_limit(actor: ActorDep, session: SessionDep, hub: HubDep) -> RateLimitPublic:
    """The tenant's API rate per token (its own, or the hub's default)."""
    require_admin(actor, "read the API rate limit")
    return _rate(session, actor, hub)


@router.patch("/admin/rate-limit/", response_model=RateLimitPublic)
def set_rate_limit(
    body: RateLimitUpdate, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> RateLimitPublic:
    """Change the tenant's API rate per token (e.g. ``1200/minute``; null: the default)."""
    api_limits.set_rate(session, actor, body.per_token, ip=client_ip(request))
    session.commit()
    api_limiter(hub).invalidate(actor.tenant_id)
    return _rate(session, actor, hub)


def _rate(session: SessionDep, actor: ActorDep, hub: Hub) -> RateLimitPublic:
    own = api_limits.rate_of(session, actor.tenant_id)
    return RateLimitPublic(
        per_token=own or hub.settings.api_rate_limit,
        tenant_rate=own,
        default=hub.settings.api_rate_limit,
        anonymous=hub.settings.api_rate_limit_anonymous,
    )


# ------------------------------------------------------------------ the caller's account


@router.patch("/me", response_model=MePublic)
def update_me(body: MeUpdate, request: Request, actor: ActorDep, session: SessionDep) -> MePublic:
    """Change your own name."""
    user = account.change_name(session, actor, body.full_name, ip=client_ip(request))
    return MePublic(user_id=user.id, email=user.email, name=user.full_name, role=actor.role)


@router.post("/me/password", response_model=PasswordChanged)
def change_password(
    body: PasswordChange, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> PasswordChanged:
    """Change your password: the current one is required (wrong guesses count against the
    sign-in throttle), the policy applies (422 with the reason), every other session ends."""
    throttle, ip = signin_throttle(hub), client_ip(request)
    refused = throttle.blocked(actor.email, ip)
    if refused is not None:
        raise HTTPException(429, refused.message, headers={"Retry-After": str(refused.retry_after)})
    try:
        user = account.check_current(session, actor, body.current_password)
    except HubError:
        throttle.failed(actor.email, ip)
        raise
    ended = account.change_password(
        session,
        user,
        actor,
        body.new_password,
        keep_hash=current_session_hash(request, hub),
        ip=ip,
    )
    return PasswordChanged(other_sessions_ended=ended)


@router.get("/me/sessions/", response_model=list[SessionPublic])
def my_sessions(
    request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> list[SessionPublic]:
    """Your live console sessions in this tenant (``current``: the one asking)."""
    if actor.user_id is None:
        raise Unauthenticated("authentication required")
    rows = sessions.live_for_user(
        session, actor.user_id, actor.tenant_id, current_session_hash(request, hub)
    )
    return [
        SessionPublic(
            key=r.key,
            device=sessions.device_label(r.user_agent),
            user_agent=r.user_agent,
            ip=r.ip,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            current=r.current,
        )
        for r in rows
    ]


@router.post("/me/sessions/{key}/revoke/", response_model=SessionsRevoked)
def revoke_my_session(
    key: str, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> SessionsRevoked:
    """Sign out one of your other sessions (404 for an unknown key or your current one)."""
    ended = account.sign_out(
        session,
        actor,
        key=key,
        keep_hash=current_session_hash(request, hub),
        ip=client_ip(request),
    )
    return SessionsRevoked(ended=ended)


@router.post("/me/sessions/revoke/", response_model=SessionsRevoked)
def revoke_my_sessions(
    body: SessionsRevoke, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> SessionsRevoked:
    """Sign out every other session (``others``) or every session, this one too
    (``everywhere``)."""
    ended = account.sign_out(
        session,
        actor,
        keep_hash=current_session_hash(request, hub),
        everywhere=body.which == "everywhere",
        ip=client_ip(request),
    )
    return SessionsRevoked(ended=ended)


# ------------------------------------------------------------------ the caller's tokens


@router.get("/auth/tokens/", response_model=list[TokenPublic])
def my_tokens(actor: ActorDep, session: SessionDep) -> list[tokens.TokenRow]:
    """Your API tokens in this tenant (never the token itself), newest first."""
    return tokens.mine(session, actor)


@router.post("/auth/tokens/", response_model=TokenCreated, status_code=201)
def create_token(
    body: TokenCreate, request: Request, actor: ActorDep, session: SessionDep
) -> TokenCreated:
    """A new token of yours: the answer is the only time ``token`` is shown. ``admin`` scope
    needs the admin role; a token cannot create a wider one than itself."""
    token, token_id = tokens.create(
        session,
        actor,
        name=body.name,
        scope=body.scope,
        expires_at=body.expires_at,
        max_scope=token_scope(request),
        ip=client_ip(request),
    )
    row = next(r for r in tokens.mine(session, actor) if r.id == token_id)
    return TokenCreated(**TokenPublic.model_validate(row).model_dump(), token=token)


@router.post("/auth/tokens/{token_id}/revoke/", response_model=TokenPublic)
def revoke_token(
    token_id: ObjectId, request: Request, actor: ActorDep, session: SessionDep
) -> tokens.TokenRow:
    """Revoke one of your tokens: the next request with it is a 401."""
    return tokens.revoke(session, actor, token_id, own_only=True, ip=client_ip(request))
