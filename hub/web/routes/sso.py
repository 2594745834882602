"""Single sign-on in the console: start at the tenant's OpenID provider, come back signed in.

``/login/sso?tenant=SLUG`` (the button ``/login?org=SLUG`` shows, or the sign-in page's
organisation field) sends the browser to the provider with PKCE, a state and a nonce, all kept
in a signed cookie bound to this browser for ten minutes; ``/login/sso/callback`` (the one
redirect URI registered with every provider) checks the state, exchanges the code, checks the
ID token (``hub.sso``), the verified email and its domain, finds or creates the person and signs
them in (then any second factor). Refusals are audited with their reason. The callback is a GET
that writes, so it uses a write session of its own, committed before the answer.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Tenant
from core.services import audit, security
from hub import sso
from hub.api.deps import HubDep, client_ip
from hub.context import Hub
from hub.web.render import redirect
from hub.web.routes.auth import _login_page, _safe_next, _sign_in

router = APIRouter()
FLOW_COOKIE = "hub_sso_flow"
FLOW_MAX_AGE = 600
NOT_AVAILABLE = "That organisation does not offer single sign-on here."


def _serializer(hub: Hub) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(hub.keyring.session_key, salt="hub-web-sso-flow")


def _tenant_and_row(session: Session, slug: str) -> tuple[Tenant | None, Any]:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug.strip().lower()))
    if tenant is None:
        return None, None
    return tenant, security.active_sso(session, tenant.id)


@router.get("/login/sso", response_model=None)
def start(request: Request, hub: HubDep, tenant: str = "", next: str = "/") -> Response:
    """Send the browser to the organisation's provider (an unknown organisation and one
    without SSO get the same answer)."""
    slug = tenant.strip().lower()[:63]
    with hub.read_session() as session:
        found, row = _tenant_and_row(session, slug) if slug else (None, None)
        if found is None or row is None:
            return _login_page(request, status=404, error=NOT_AVAILABLE)
        try:
            url, flow = sso.start(hub, row)
        except sso.SsoError as exc:
            return _login_page(
                request, status=502, error=f"Single sign-on is not working: {exc.message}."
            )
    value = _serializer(hub).dumps(
        {"t": slug, "s": flow.state, "n": flow.nonce, "v": flow.verifier, "x": _safe_next(next)}
    )
    response = redirect(url)
    response.set_cookie(
        FLOW_COOKIE,
        value,
        max_age=FLOW_MAX_AGE,
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to us
        secure=hub.settings.cookie_secure,
        path="/login/sso",
    )
    return response


def _refuse(
    request: Request,
    session: Session,
    tenant: Tenant,
    reason: str,
    message: str,
    email: str = "",
) -> HTMLResponse:
    audit.record(
        session,
        tenant.id,
        audit.SSO_REFUSED,
        ip=client_ip(request),
        target_email=email[:254],
        details={"reason": reason},
    )
    session.commit()
    page = _login_page(request, status=403, error=message, org=tenant.slug)
    page.delete_cookie(FLOW_COOKIE, path="/login/sso")
    return page


@router.get("/login/sso/callback", response_model=None)
def callback(
    request: Request,
    hub: HubDep,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    """The provider's answer: check everything, then sign the person in."""
    try:
        flow: dict[str, str] = _serializer(hub).loads(
            request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE
        )
    except BadSignature:
        return _login_page(
            request, status=400, error="The single sign-on took too long or was not started here."
        )
    if not state or not secrets.compare_digest(state, str(flow.get("s", ""))):
        return _login_page(request, status=400, error="The single sign-on answer does not match.")
    with hub.session() as session:
        tenant, row = _tenant_and_row(session, str(flow.get("t", "")))
        if tenant is None or row is None:
            return _login_page(request, status=404, error=NOT_AVAILABLE)
        if error or not code:
            return _refuse(
                request,
                session,
                tenant,
                "provider_denied",
                "The sign-in was cancelled or refused at your organisation's provider.",
            )
        try:
            claims = sso.finish(
                hub, row, sso.Flow(state=flow["s"], nonce=flow["n"], verifier=flow["v"]), code
            )
        except sso.SsoError as exc:
            return _refuse(
                request, session, tenant, exc.reason, f"Single sign-on failed: {exc.message}."
            )
        email = str(claims.get("email") or "")
        if not email or "@" not in email:
            return _refuse(
                request, session, tenant, "no_email", "Your provider did not give an email address."
            )
        if claims.get("email_verified") is not True:
            return _refuse(
                request,
                session,
                tenant,
                "email_not_verified",
                "Your provider has not verified your email address.",
                email,
            )
        if not security.email_domain_allowed(row, email):
            return _refuse(
                request,
                session,
                tenant,
                "domain_not_allowed",
                "Addresses of that domain cannot sign in to this organisation.",
                email,
            )
        try:
            user, _role = security.provision(
                session, row, email=email, name=str(claims.get("name") or "")
            )
        except security.SsoRefused as exc:
            session.rollback()
            return _refuse(request, session, tenant, exc.reason, exc.message, email)
        response = _sign_in(
            request, hub, session, user, tenant.slug, str(flow.get("x") or "/"), via="sso"
        )
        session.commit()  # the step page's writes (an enrolment) too, before the answer
    response.delete_cookie(FLOW_COOKIE, path="/login/sso")
    return response
