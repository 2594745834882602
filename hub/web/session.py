"""Who is signed in to the web console, and the CSRF check every POST goes through.

The session cookie is the API's (``hub.api.deps``): a signed ``{user, tenant, csrf}``. Every form
carries the CSRF token of the session (hidden ``csrf_token`` field; htmx sends it as the
``X-CSRF-Token`` header) and every POST compares it in constant time before anything runs.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Forbidden, NotFound
from core.models import Membership, Tenant, User
from core.permissions import Actor
from hub.api.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    HubDep,
    SessionDep,
    read_session_cookie,
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


def _session_data(request: Request, hub: HubDep) -> dict[str, object]:
    value = request.cookies.get(SESSION_COOKIE)
    data = read_session_cookie(hub, value) if value else None
    if data is None:
        raise SignInRequired()
    return data


def _load_user(session: Session, data: dict[str, object]) -> WebUser:
    """User, tenant and membership of the cookie in one query (every page runs it)."""
    try:
        user_id = int(str(data["u"]))
        tenant_id = uuid.UUID(str(data["t"]))
    except (KeyError, ValueError):
        raise SignInRequired() from None
    row = session.execute(
        select(User.email, User.full_name, Membership.role, Tenant.name, Tenant.slug)
        .join(Membership, Membership.user_id == User.id)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(User.id == user_id, User.is_active.is_(True), Membership.tenant_id == tenant_id)
    ).first()
    if row is None:
        raise SignInRequired()  # user gone or membership revoked: the cookie no longer counts
    email, name, role, tenant_name, slug = row
    actor = Actor(tenant_id=tenant_id, user_id=user_id, role=role, email=email, name=name)
    return WebUser(actor=actor, csrf=str(data.get("c", "")), tenant_name=tenant_name,
                   tenant_slug=slug)


def page_user(request: Request, hub: HubDep, session: SessionDep) -> WebUser:
    """The signed-in user of a GET page (redirects to the sign-in page otherwise)."""
    me = _load_user(session, _session_data(request, hub))
    request.state.actor = me.actor
    return me


async def check_csrf(request: Request, hub: HubDep) -> None:
    """Compare the form's (or htmx header's) CSRF token with the session's."""
    data = _session_data(request, hub)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.form()
        sent = str(form.get("csrf_token", ""))
    expected = str(data.get("c", ""))
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise Forbidden("the form has expired or its CSRF token is wrong; reload the page")


def post_user(request: Request, hub: HubDep, session: SessionDep,
              _csrf: Annotated[None, Depends(check_csrf)]) -> WebUser:
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
