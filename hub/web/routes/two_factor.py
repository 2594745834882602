"""Two-factor in the console: the sign-in step that asks for a code (or enrols a person whose
organisation requires it), and the /account/two-factor page (set up, recovery codes, turn off).

The step between the first factor (password or SSO) and the session is a signed, short-lived
token (like the tenant choice in ``hub.web.routes.auth``) carrying the user, the tenant and how
they signed in; codes are throttled per account and client (``hub.ratelimit``) and every wrong
one is audited. No session exists until the second factor is given.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from core.errors import HubError
from core.models import Tenant, User
from core.services import audit, identity, sessions, two_factor
from hub.api.deps import HubDep, SessionDep, client_ip, current_session_hash
from hub.context import Hub
from hub.ratelimit import signin_throttle
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import LOGIN_CSRF_COOKIE, PageUser, PostUser, WebUser

router = APIRouter()
STEP_MAX_AGE = 300  # seconds to give the code after the password


def _serializer(hub: Hub) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(hub.keyring.session_key, salt="hub-web-two-factor-step")


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (the secret as text is the accessible way)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, border=2, omitsize=False))


def throttle_key(user_id: int) -> str:
    return f"two-factor:{user_id}"


def _step_page(
    request: Request,
    *,
    mode: str,
    pending: str,
    next_url: str,
    status: int = 200,
    error: str | None = None,
    **ctx: Any,
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        None,
        None,
        "two_factor_step.html",
        status=status,
        csrf=token,
        mode=mode,
        pending=pending,
        next_url=next_url,
        error=error,
        **ctx,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


def _enrol_ctx(hub: Hub, session: Session, user: User) -> dict[str, Any]:
    found = two_factor.pending_enrolment(session, user, hub.keyring) or two_factor.begin(
        session, user, hub.keyring
    )
    return {"secret": found.secret, "uri": found.uri, "qr": qr_svg(found.uri)}


def two_factor_step(
    request: Request,
    hub: Hub,
    session: Session,
    user: User,
    tenant: Tenant,
    next_url: str,
    via: str,
) -> Response | None:
    """The code page when the person has two-factor; the enrolment page when the tenant
    requires it of their role and they have none; None when no second factor is due."""
    pending = _serializer(hub).dumps({"u": user.id, "t": tenant.slug, "v": via})
    if two_factor.enrolled(session, user.id):
        return _step_page(request, mode="code", pending=pending, next_url=next_url)
    member = identity.membership(session, tenant.id, user.id)
    if member is not None and two_factor.required(session, tenant.id, member.role):
        return _step_page(
            request,
            mode="enrol",
            pending=pending,
            next_url=next_url,
            **_enrol_ctx(hub, session, user),
        )
    return None


def _check_csrf(request: Request, sent: str) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(sent and expected and secrets.compare_digest(sent, expected))


def _pending(hub: Hub, session: Session, token: str) -> tuple[User, Tenant, str] | None:
    try:
        data = _serializer(hub).loads(token, max_age=STEP_MAX_AGE)
        user = session.get(User, int(data["u"]))
        tenant = identity.tenant_by_slug(session, str(data["t"]))
        via = str(data["v"])
    except (BadSignature, KeyError, TypeError, ValueError, HubError):
        return None
    if user is None or not user.is_active:
        return None
    return user, tenant, via


def _expired(request: Request) -> HTMLResponse:
    from hub.web.routes.auth import _login_page

    return _login_page(request, status=401, error="The sign-in took too long; try again.")


@router.post("/login/two-factor", response_model=None)
def login_code(
    request: Request,
    hub: HubDep,
    session: SessionDep,
    pending: Annotated[str, Form(max_length=2000)] = "",
    code: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The second step: a code from the app or a recovery code, then the session."""
    from hub.web.routes.auth import _safe_next, _sign_in

    if not _check_csrf(request, csrf_token):
        return _expired(request)
    found = _pending(hub, session, pending)
    if found is None:
        return _expired(request)
    user, tenant, via = found
    next_url = _safe_next(next)
    throttle, ip = signin_throttle(hub), client_ip(request)
    refused = throttle.blocked(throttle_key(user.id), ip)
    if refused is not None:
        page = _step_page(
            request,
            mode="code",
            pending=pending,
            next_url=next_url,
            status=429,
            error=refused.message.replace("sign-ins", "codes"),
        )
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    kind = two_factor.verify(session, user, hub.keyring, code)
    if kind is None:
        throttle.failed(throttle_key(user.id), ip)
        audit.record(
            session,
            tenant.id,
            audit.TWO_FACTOR_FAILED,
            actor_id=user.id,
            actor_email=user.email,
            ip=ip,
            target_email=user.email,
            details={"via": via},
        )
        return _step_page(
            request,
            mode="code",
            pending=pending,
            next_url=next_url,
            status=401,
            error="That code is not right (or was used already). Try the newest one.",
        )
    throttle.succeeded(throttle_key(user.id), ip)
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
    return _sign_in(
        request, hub, session, user, tenant.slug, next_url, via=via, second_factor_done=True
    )


@router.post("/login/two-factor/enrol", response_model=None)
def login_enrol(
    request: Request,
    hub: HubDep,
    session: SessionDep,
    pending: Annotated[str, Form(max_length=2000)] = "",
    code: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Enrolment required by the organisation, before any session: confirm the first code,
    show the recovery codes once, and sign in."""
    from hub.web.routes.auth import _safe_next, _sign_in

    if not _check_csrf(request, csrf_token):
        return _expired(request)
    found = _pending(hub, session, pending)
    if found is None:
        return _expired(request)
    user, tenant, via = found
    next_url = _safe_next(next)
    throttle, ip = signin_throttle(hub), client_ip(request)
    refused = throttle.blocked(throttle_key(user.id), ip)
    try:
        if refused is not None:
            raise HubError(refused.message.replace("sign-ins", "codes"))
        codes = two_factor.confirm(session, user, hub.keyring, code)
    except HubError as exc:
        if refused is None:
            throttle.failed(throttle_key(user.id), ip)
        return _step_page(
            request,
            mode="enrol",
            pending=pending,
            next_url=next_url,
            status=429 if refused is not None else 422,
            error=exc.message,
            **_enrol_ctx(hub, session, user),
        )
    audit.record(
        session,
        tenant.id,
        audit.TWO_FACTOR_ENABLED,
        actor_id=user.id,
        actor_email=user.email,
        ip=ip,
        target_email=user.email,
        details={"at": "sign-in"},
    )
    page = _step_page(request, mode="codes", pending="", next_url=next_url, codes=codes)
    return _sign_in(
        request,
        hub,
        session,
        user,
        tenant.slug,
        next_url,
        via=via,
        second_factor_done=True,
        response=page,
    )


# ---------------------------------------------------------------- /account/two-factor


def _guarded(request: Request, hub: Hub, user: User) -> str | None:
    """Why code checks on the account page are refused now (too many wrong ones), or None."""
    refused = signin_throttle(hub).blocked(throttle_key(user.id), client_ip(request))
    return refused.message.replace("sign-ins", "codes") if refused is not None else None


def _wrong(request: Request, hub: Hub, user: User) -> None:
    signin_throttle(hub).failed(throttle_key(user.id), client_ip(request))


T = TypeVar("T")


class _Refused(Exception):
    """A code check of the account page that failed: the redirect to show instead."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _code_checked(
    request: Request, hub: Hub, session: Session, user: User, check: Callable[[], T]
) -> T:
    """Run a code check of the account page under the code throttle: a wrong code counts
    against it, and either refusal raises ``_Refused`` with the page to go back to."""
    refused = _guarded(request, hub, user)
    if refused is not None:
        raise _Refused(redirect("/account/two-factor", flash=refused, error=True))
    try:
        return check()
    except HubError as exc:
        session.rollback()
        _wrong(request, hub, user)
        raise _Refused(redirect("/account/two-factor", flash=exc.message, error=True)) from None


def _me(session: Session, me: WebUser) -> User:
    user = session.get(User, me.actor.user_id)
    assert user is not None  # a live session's user exists
    return user


def _account_page(
    request: Request, session: Session, me: WebUser, status: int = 200, **ctx: Any
) -> HTMLResponse:
    state = two_factor.status(session, int(me.actor.user_id or 0))
    required = two_factor.required(session, me.actor.tenant_id, me.role)
    return render(
        request,
        session,
        me,
        "account/two_factor.html",
        status=status,
        state=state,
        required=required,
        **ctx,
    )


@router.get("/account/two-factor", response_class=HTMLResponse)
def account(request: Request, me: PageUser, session: SessionDep, hub: HubDep) -> HTMLResponse:
    """Whether two-factor is on, and the ways to set it up or turn it off."""
    user = _me(session, me)
    pending = two_factor.pending_enrolment(session, user, hub.keyring)
    ctx: dict[str, Any] = {}
    if pending is not None:
        ctx = {"secret": pending.secret, "uri": pending.uri, "qr": qr_svg(pending.uri)}
    return _account_page(request, session, me, **ctx)


@router.post("/account/two-factor/begin", response_model=None)
def account_begin(request: Request, me: PostUser, session: SessionDep, hub: HubDep) -> Response:
    """A new secret to scan; nothing changes until it is confirmed with a code."""
    try:
        two_factor.begin(session, _me(session, me), hub.keyring)
    except HubError as exc:
        session.rollback()
        return redirect("/account/two-factor", flash=exc.message, error=True)
    session.commit()
    return redirect("/account/two-factor")


@router.post("/account/two-factor/confirm", response_model=None)
def account_confirm(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Turn two-factor on with a first code; the recovery codes are shown this once."""
    user = _me(session, me)
    try:
        codes = _code_checked(
            request,
            hub,
            session,
            user,
            lambda: two_factor.confirm(session, user, hub.keyring, code),
        )
    except _Refused as refused:
        return refused.response
    # Two-factor now guards the account: sessions opened without it (elsewhere) end.
    sessions.revoke_for_user(session, user.id, keep_hash=current_session_hash(request, hub))
    audit.by_actor(
        session,
        me.actor,
        audit.TWO_FACTOR_ENABLED,
        ip=client_ip(request),
        target_email=user.email,
    )
    session.commit()
    return _account_page(request, session, me, codes=codes)


@router.post("/account/two-factor/recovery-codes", response_model=None)
def account_codes(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """New recovery codes against a current code (the old ones stop working)."""
    user = _me(session, me)
    try:
        codes = _code_checked(
            request,
            hub,
            session,
            user,
            lambda: two_factor.regenerate_codes(session, user, hub.keyring, code),
        )
    except _Refused as refused:
        return refused.response
    session.commit()
    return _account_page(request, session, me, codes=codes)


@router.post("/account/two-factor/disable", response_model=None)
def account_disable(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    code: Annotated[str, Form(max_length=40)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Turn two-factor off, with a current code or the password."""
    user = _me(session, me)
    try:
        _code_checked(
            request,
            hub,
            session,
            user,
            lambda: two_factor.disable(
                session,
                user,
                hub.keyring,
                code=code,
                password_ok=bool(password) and identity.check_password(user, password),
            ),
        )
    except _Refused as refused:
        return refused.response
    audit.by_actor(
        session,
        me.actor,
        audit.TWO_FACTOR_DISABLED,
        ip=client_ip(request),
        target_email=user.email,
    )
    session.commit()
    return redirect("/account/two-factor", flash=N_("Two-factor sign-in is off."))
