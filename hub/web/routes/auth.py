"""Sign-in (email + password, then a tenant when the user belongs to several) and sign-out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from core.clock import now
from core.errors import Forbidden
from core.models import Membership, Tenant, User
from core.services import audit, identity, security, sessions
from hub.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    HubDep,
    SessionDep,
    client_ip,
    make_session_cookie,
    read_session_cookie,
)
from hub.context import Hub
from hub.ratelimit import signin_throttle
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.routes.two_factor import two_factor_step
from hub.web.session import LOGIN_CSRF_COOKIE, PostUser
from hub.web.sso_button import sso_button

router = APIRouter()
PENDING_MAX_AGE = 300  # seconds between the password step and the tenant step


def _pending(hub: Hub) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(hub.keyring.session_key, salt="hub-web-pending-login")


def _login_page(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    tenants: list[tuple[str, str]] | None = None,
    pending: str = "",
    next_url: str = "/",
    org: str = "",
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        None,
        None,
        "login.html",
        status=status,
        csrf=token,
        error=error,
        email=email,
        tenants=tenants,
        pending=pending,
        next_url=next_url,
        sso=sso_button(request.app.state.hub, org) if org else None,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


def _check_login_csrf(request: Request, sent: str) -> None:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise Forbidden("the form has expired or its CSRF token is wrong; reload the page")


def _safe_next(value: str) -> str:
    """Only local paths: never an open redirect."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"  # "//host" and "/\\host" are other sites to a browser
    return value


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", org: str = "") -> HTMLResponse:
    """The sign-in form; ``?org=SLUG`` adds that organisation's "Sign in with ..." button."""
    return _login_page(request, next_url=_safe_next(next), org=org[:63])


def _tenants_of(session: SessionDep, user: User) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Tenant.slug, Tenant.name)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == user.id, Membership.deactivated_at.is_(None))
        .order_by(Tenant.name)
    ).all()
    return [(r[0], r[1]) for r in rows]


def _sign_in(
    request: Request,
    hub: Hub,
    session: SessionDep,
    user: User,
    slug: str,
    next_url: str,
    *,
    via: str = "console",
    second_factor_done: bool = False,
    response: Response | None = None,
) -> Response:
    """Open a session in the tenant, unless SSO is required of the person (a password sign-in)
    or a second factor is still due (``hub.web.routes.two_factor``: its step page instead)."""
    tenant = identity.tenant_by_slug(session, slug)
    member = identity.membership(session, tenant.id, user.id)
    # A password chosen or checked here (sign-in, invitation, reset) is refused when the
    # tenant requires SSO of the person's role.
    if via in ("console", "invitation", "password_reset") and member is not None:
        refused = security.password_refusal(session, tenant.id, member.role)
        if refused is not None:
            return _login_page(
                request, status=403, error=refused, email=user.email, org=tenant.slug
            )
    if not second_factor_done:
        step = two_factor_step(request, hub, session, user, tenant, next_url, via)
        if step is not None:
            return step
    user.last_login = now()
    audit.record(
        session,
        tenant.id,
        audit.SIGNIN,
        actor_id=user.id,
        actor_email=user.email,
        ip=client_ip(request),
        target_email=user.email,
        details={"via": via},
    )
    value, csrf = make_session_cookie(
        hub,
        user_id=user.id,
        tenant_id=tenant.id,
        session=session,
        user_agent=request.headers.get("user-agent", ""),
        ip=client_ip(request),
    )
    session.commit()
    response = response or redirect(next_url)
    secure = hub.settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE, value, httponly=True, samesite="lax", secure=secure, max_age=SESSION_MAX_AGE
    )
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, samesite="strict", secure=secure)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/login", response_model=None)
def login(
    request: Request,
    hub: HubDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check email and password (argon2); ask for the tenant when there are several."""
    _check_login_csrf(request, csrf_token)
    next_url = _safe_next(next)
    throttle, ip = signin_throttle(hub), client_ip(request)
    refused = throttle.blocked(email, ip)
    if refused is not None:
        page = _login_page(
            request, status=429, error=refused.message, email=email, next_url=next_url
        )
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    user = identity.user_by_email(session, email) if email else None
    # check_password first: it costs one argon2 verification whether the user exists or not.
    if not identity.check_password(user, password) or user is None or not user.is_active:
        throttle.failed(email, ip)
        if user is not None:
            audit.failed_signin(session, user.id, user.email, ip)  # committed with the page
        return _login_page(
            request, status=401, error="Wrong email or password.", email=email, next_url=next_url
        )
    throttle.succeeded(email, ip)
    tenants = _tenants_of(session, user)
    if not tenants:
        return _login_page(
            request,
            status=403,
            email=email,
            next_url=next_url,
            error="This account does not belong to any organisation.",
        )
    if len(tenants) == 1:
        return _sign_in(request, hub, session, user, tenants[0][0], next_url)
    pending = _pending(hub).dumps({"u": user.id})
    return _login_page(request, email=email, tenants=tenants, pending=pending, next_url=next_url)


@router.post("/login/tenant", response_model=None)
def login_tenant(
    request: Request,
    hub: HubDep,
    session: SessionDep,
    pending: Annotated[str, Form()],
    tenant: Annotated[str, Form(max_length=63)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Second step for users of several tenants: the chosen tenant names the session."""
    _check_login_csrf(request, csrf_token)
    try:
        data = _pending(hub).loads(pending, max_age=PENDING_MAX_AGE)
    except BadSignature:
        return _login_page(request, status=401, error="The sign-in took too long; try again.")
    user = session.get(User, int(data["u"]))
    if user is None or not user.is_active:
        return _login_page(request, status=401, error="Wrong email or password.")
    tenants = _tenants_of(session, user)
    if tenant not in {slug for slug, _ in tenants}:
        return _login_page(
            request,
            status=422,
            error="Choose one of your organisations.",
            email=user.email,
            tenants=tenants,
            pending=pending,
            next_url=_safe_next(next),
        )
    return _sign_in(request, hub, session, user, tenant, _safe_next(next))


@router.post("/logout", response_model=None)
def logout(request: Request, hub: HubDep, session: SessionDep, me: PostUser) -> Response:
    """Sign out: revoke the server-side session (a copy of the cookie no longer counts), drop
    the session cookies."""
    sid = read_session_cookie(hub, request.cookies.get(SESSION_COOKIE, ""))
    if sid is not None:
        sessions.revoke(session, sid)
        session.commit()
    response = redirect("/login", flash=N_("You are signed out."))
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response
