"""Who is signed in to the web console, and the CSRF check every POST goes through.

The session cookie is the API's (``hub.api.deps``): the signed random id of a server-side session
(``core.services.sessions``), checked against its row on every request, so signing out, expiry
and revocation take effect at once. Every form carries the CSRF token of the session (hidden ``csrf_token`` field; htmx sends it as the
``X-CSRF-Token`` header) and every POST compares it in constant time before anything runs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from core.errors import Forbidden, NotFound
from core.i18n.service import Prefs
from core.permissions import Actor
from hub.api.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    HubDep,
    SessionDep,
    live_session,
    read_session_cookie,
    session_csrf,
)

LOGIN_CSRF_COOKIE = "hub_login_csrf"


class SignInRequired(Exception):
    """Raised by page dependencies when nobody (valid) is signed in; answered by a redirect."""


@dataclass(frozen=True)
class WebUser:
    """The signed-in user of a page: the actor the services need, plus what the layout shows."""

    actor: Actor
    csrf: str
    tenant_name: str
    tenant_slug: str
    available: bool = True
    # The person's language and zone choices, and the tenant's default language.
    prefs: Prefs = Prefs()
    tenant_locale: str | None = None

    @property
    def role(self) -> str:
        return self.actor.role

    @property
    def is_staff(self) -> bool:
        return self.actor.is_staff

    @property
    def is_admin(self) -> bool:
        return self.actor.is_admin

    @property
    def reads_all(self) -> bool:
        return self.actor.reads_all_tickets


def _session_id(request: Request, hub: HubDep) -> str:
    """The session id of the signed cookie (the server-side row decides whether it counts)."""
    value = request.cookies.get(SESSION_COOKIE)
    sid = read_session_cookie(hub, value) if value else None
    if sid is None:
        raise SignInRequired()
    return sid


def _load_user(hub: HubDep, session: Session, sid: str, *, writes: bool) -> WebUser:
    """Session, user, tenant and membership in one query (every page runs it)."""
    found = live_session(hub, session, sid, writes=writes)
    if found is None:
        raise SignInRequired()  # signed out, expired, user gone or membership revoked
    actor = Actor(
        tenant_id=found.tenant_id,
        user_id=found.user_id,
        role=found.role,
        email=found.email,
        name=found.name,
    )
    return WebUser(
        actor=actor,
        csrf=session_csrf(hub, sid),
        tenant_name=found.tenant_name,
        tenant_slug=found.tenant_slug,
        available=found.available,
        prefs=found.prefs,
        tenant_locale=found.tenant_locale,
    )


def page_user(request: Request, hub: HubDep, session: SessionDep) -> WebUser:
    """The signed-in user of a GET page (redirects to the sign-in page otherwise)."""
    # GET and HEAD have a read session (hub.api.deps.get_session); others the request's writer.
    me = _load_user(
        hub, session, _session_id(request, hub), writes=request.method not in ("GET", "HEAD")
    )
    request.state.actor = me.actor
    return me


async def check_csrf(request: Request, hub: HubDep) -> None:
    """Compare the form's (or htmx header's) CSRF token with the session's."""
    sid = _session_id(request, hub)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.form()
        sent = str(form.get("csrf_token", ""))
    expected = session_csrf(hub, sid)
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise Forbidden("the form has expired or its CSRF token is wrong; reload the page")


def post_user(
    request: Request, hub: HubDep, session: SessionDep, _csrf: Annotated[None, Depends(check_csrf)]
) -> WebUser:
    """The signed-in user of a POST, after the CSRF check."""
    return page_user(request, hub, session)


PageUser = Annotated[WebUser, Depends(page_user)]
PostUser = Annotated[WebUser, Depends(post_user)]


def staff_only(me: WebUser) -> None:
    """Agent pages do not exist for end users and managers (404, not a hint that they exist)."""
    if not me.is_staff:
        raise NotFound("page not found")


def admin_only(me: WebUser) -> None:
    if not me.is_admin:
        raise NotFound("page not found")


def readers_only(me: WebUser) -> None:
    if not me.reads_all:
        raise NotFound("page not found")
