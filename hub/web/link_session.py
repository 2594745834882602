"""What the pages behind signed links share: anonymous forms with their own CSRF cookie, the
page a refused link shows, and a console session for the person a link let in."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from core.errors import Forbidden
from core.models import Tenant, User
from hub.context import Hub
from hub.web.render import redirect, render
from hub.web.routes.auth import _sign_in
from hub.web.session import LOGIN_CSRF_COOKIE


def anonymous_page(request: Request, name: str, *, status: int = 200, **ctx: Any) -> HTMLResponse:
    """A page for someone not signed in; its forms carry the sign-in form's CSRF cookie."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, None, None, name, status=status, csrf=token, **ctx)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


def check_csrf(request: Request, sent: str) -> None:
    """The anonymous form's CSRF token against its cookie."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise Forbidden("the form has expired or its CSRF token is wrong; reload the page")


def refused(request: Request, message: str, *, status: int = 401) -> HTMLResponse:
    """The page of a link that cannot be used (expired, used, forged, revoked)."""
    return anonymous_page(request, "links/refused.html", status=status, message=message)


def throttled(request: Request, name: str, retry_after: int, message: str, **ctx: Any) -> Response:
    """A form answered 429 with ``Retry-After``."""
    page = anonymous_page(request, name, status=429, error=message, **ctx)
    page.headers["Retry-After"] = str(retry_after)
    return page


def start_session(
    request: Request,
    hub: Hub,
    session: Session,
    user: User,
    tenant_id: uuid.UUID,
    next_url: str,
    *,
    via: str,
    flash: str | None = None,
) -> Response:
    """Sign the person in as the sign-in page does (``hub.web.routes.auth._sign_in``: the
    tenant's SSO requirement for staff, a second factor when due, an audited server-side
    session, committed), then go on."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        return refused(request, "This organisation no longer exists.", status=404)
    return _sign_in(
        request,
        hub,
        session,
        user,
        tenant.slug,
        next_url,
        via=via,
        response=redirect(next_url, flash=flash),
    )
