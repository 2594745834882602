"""Two-factor through the API: a person's own TOTP (``/api/v1/me/two-factor/...``) and the
second step of an API sign-in (``/api/v1/auth/login/two-factor``).

A sign-in of someone with two-factor answers ``{"two_factor_required": true, "pending": ...}``
instead of a session; the pending token is signed, names the user and tenant, and lasts five
minutes. Codes are throttled per account and client like passwords (``hub.ratelimit``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from core.errors import Forbidden, HubError, Unauthenticated
from core.models import Tenant, User
from core.services import audit, identity, sessions, two_factor
from hub.api.deps import ActorDep, HubDep, SessionDep, client_ip, current_session_hash
from hub.api.schemas.access import (
    RecoveryCodesPublic,
    TwoFactorCode,
    TwoFactorDisable,
    TwoFactorEnrolmentPublic,
    TwoFactorLogin,
    TwoFactorStatusPublic,
)
from hub.api.schemas.auth import SessionPublic
from hub.context import Hub
from hub.ratelimit import signin_throttle

router = APIRouter(prefix="/api/v1", tags=["two-factor"])
STEP_MAX_AGE = 300


def _serializer(hub: Hub) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(hub.keyring.session_key, salt="hub-api-two-factor-step")


def pending_step(
    hub: Hub, session: Session, user: User, tenant_id: uuid.UUID, slug: str, role: str
) -> dict[str, Any] | None:
    """The answer asking for a code when the user has two-factor; ``Forbidden`` when the
    tenant requires it of their role and they have none; None when no code is due."""
    if two_factor.enrolled(session, user.id):
        return {
            "two_factor_required": True,
            "pending": _serializer(hub).dumps({"u": user.id, "t": slug}),
        }
    if two_factor.required(session, tenant_id, role):
        raise Forbidden(
            "this organisation requires two-factor sign-in for agents and admins: sign in on "
            "the console once to set it up"
        )
    return None


def _throttle_key(user_id: int) -> str:
    return f"two-factor:{user_id}"


@router.post("/auth/login/two-factor", response_model=SessionPublic)
def login_two_factor(
    body: TwoFactorLogin, request: Request, session: SessionDep, hub: HubDep, response: Response
) -> dict[str, Any]:
    """The code (or a recovery code) after the password; sets the session like a sign-in."""
    from hub.api.routes.auth import start_session

    try:
        data = _serializer(hub).loads(body.pending, max_age=STEP_MAX_AGE)
        user = session.get(User, int(data["u"]))
        tenant: Tenant = identity.tenant_by_slug(session, str(data["t"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Unauthenticated("the sign-in took too long or the pending token is wrong") from None
    member = identity.membership(session, tenant.id, user.id) if user is not None else None
    if user is None or not user.is_active or member is None:
        raise Unauthenticated("the sign-in took too long or the pending token is wrong")
    throttle, ip = signin_throttle(hub), client_ip(request)
    refused = throttle.blocked(_throttle_key(user.id), ip)
    if refused is not None:
        raise HTTPException(
            429, "too many wrong codes", headers={"Retry-After": str(refused.retry_after)}
        )
    kind = two_factor.verify(session, user, hub.keyring, body.code)
    if kind is None:
        throttle.failed(_throttle_key(user.id), ip)
        audit.record(
            session,
            tenant.id,
            audit.TWO_FACTOR_FAILED,
            actor_id=user.id,
            actor_email=user.email,
            ip=ip,
            target_email=user.email,
            details={"via": "api"},
        )
        session.commit()  # the request's transaction rolls back with the 401
        raise Unauthenticated("wrong or already used code")
    throttle.succeeded(_throttle_key(user.id), ip)
    if kind == "recovery":
        audit.record(
            session,
            tenant.id,
            audit.RECOVERY_CODE_USED,
            actor_id=user.id,
            actor_email=user.email,
            ip=ip,
            target_email=user.email,
            details={"left": two_factor.status(session, user.id).recovery_codes_left},
        )
    return start_session(request, session, hub, response, user, tenant.id, tenant.slug, member.role)


def _checked(hub: Hub, request: Request, user: User, check: Any) -> Any:
    """Run a code check under the throttle: 429 once too many were wrong, each wrong counted."""
    throttle, ip = signin_throttle(hub), client_ip(request)
    refused = throttle.blocked(_throttle_key(user.id), ip)
    if refused is not None:
        raise HTTPException(
            429, "too many wrong codes", headers={"Retry-After": str(refused.retry_after)}
        )
    try:
        return check()
    except HubError:
        throttle.failed(_throttle_key(user.id), ip)
        raise


def _user(session: Session, actor: Any) -> User:
    user = session.get(User, actor.user_id)
    if user is None:
        raise Unauthenticated("authentication required")
    return user


@router.get("/me/two-factor/")
def status(actor: ActorDep, session: SessionDep) -> TwoFactorStatusPublic:
    """Whether the caller has two-factor on, and how many recovery codes are left."""
    found = two_factor.status(session, int(actor.user_id or 0))
    return TwoFactorStatusPublic(
        enabled=found.enabled,
        pending=found.pending,
        recovery_codes_left=found.recovery_codes_left,
        required=two_factor.required(session, actor.tenant_id, actor.role),
    )


@router.post("/me/two-factor/enrol")
def enrol(actor: ActorDep, session: SessionDep, hub: HubDep) -> TwoFactorEnrolmentPublic:
    """A new secret and its otpauth URI for an app; inactive until confirmed (409 when on)."""
    found = two_factor.begin(session, _user(session, actor), hub.keyring)
    session.commit()
    return TwoFactorEnrolmentPublic(secret=found.secret, otpauth_uri=found.uri)


@router.post("/me/two-factor/confirm")
def confirm(
    body: TwoFactorCode, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> RecoveryCodesPublic:
    """Turn two-factor on with a first code; answers the ten recovery codes, this once."""
    user = _user(session, actor)
    codes = _checked(
        hub, request, user, lambda: two_factor.confirm(session, user, hub.keyring, body.code)
    )
    # Two-factor now guards the account: sessions opened without it end (not the caller's own).
    sessions.revoke_for_user(session, user.id, keep_hash=current_session_hash(request, hub))
    audit.by_actor(
        session, actor, audit.TWO_FACTOR_ENABLED, ip=client_ip(request), target_email=user.email
    )
    session.commit()
    return RecoveryCodesPublic(recovery_codes=codes)


@router.post("/me/two-factor/recovery-codes")
def recovery_codes(
    body: TwoFactorCode, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> RecoveryCodesPublic:
    """New recovery codes against a current code; the old ones stop working."""
    user = _user(session, actor)
    codes = _checked(
        hub,
        request,
        user,
        lambda: two_factor.regenerate_codes(session, user, hub.keyring, body.code),
    )
    session.commit()
    return RecoveryCodesPublic(recovery_codes=codes)


@router.post("/me/two-factor/disable")
def disable(
    body: TwoFactorDisable, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> TwoFactorStatusPublic:
    """Turn two-factor off with a current code or the password (403 when the organisation
    requires it of the caller's role)."""
    user = _user(session, actor)
    password_ok = bool(body.password) and identity.check_password(user, body.password or "")
    _checked(
        hub,
        request,
        user,
        lambda: two_factor.disable(
            session, user, hub.keyring, code=body.code or "", password_ok=password_ok
        ),
    )
    ip = client_ip(request)
    audit.by_actor(session, actor, audit.TWO_FACTOR_DISABLED, ip=ip, target_email=user.email)
    session.commit()
    return TwoFactorStatusPublic(
        enabled=False, pending=False, recovery_codes_left=0, required=False
    )
