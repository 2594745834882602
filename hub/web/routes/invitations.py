"""Invitations in the console: admins invite, resend and cancel on the members page; the
invited person accepts at ``/invite/<token>`` and arrives signed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from core.errors import HubError, Invalid
from core.permissions import ROLES
from core.services import identity, invitations
from core.services.links import MAX_TOKEN_LENGTH, Issued, LinkRefused
from hub import auth_links
from hub.api.deps import HubDep, SessionDep, client_ip
from hub.context import Hub
from hub.mailer import Delivery
from hub.ratelimit import signin_throttle
from hub.web.i18n import N_
from hub.web.link_session import anonymous_page, check_csrf, refused, start_session
from hub.web.render import redirect, render
from hub.web.routes.admin import ROLE_LABELS
from hub.web.session import PostUser, WebUser, admin_only

router = APIRouter()
Token = Annotated[str, Path(max_length=MAX_TOKEN_LENGTH)]


def _mail(hub: Hub, me: WebUser, issued: Issued, expires: str) -> Delivery:
    link = issued.link
    return auth_links.send_invitation(
        hub,
        tenant_id=me.actor.tenant_id,
        tenant_name=me.tenant_name,
        inviter=me.actor.name or me.actor.email,
        email=link.email,
        role=link.role or "",
        url=auth_links.invitation_url(hub, issued.token),
        expires=expires,
    )


def _after_send(
    request: Request,
    session: SessionDep,
    hub: Hub,
    me: WebUser,
    issued: Issued,
    what: str,
) -> Response:
    """Committed already: send the mail, then say what became of it: ``what`` (a message with
    ``%(email)s`` and ``%(expires)s`` places), or the link to copy when no mail went out."""
    expires = issued.link.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    email = issued.link.email
    delivery = _mail(hub, me, issued, expires)
    if delivery.sent:
        return redirect(
            "/admin/members",
            flash=what,
            args={"email": email, "expires": expires},
        )
    return render(
        request,
        session,
        me,
        "admin/members.html",
        members=identity.members(session, me.actor.tenant_id, by_email=True),
        roles=ROLE_LABELS,
        invitations=invitations.pending(session, me.actor),
        invite_link={
            "email": email,
            "url": auth_links.invitation_url(hub, issued.token),
            "expires": expires,
        },
    )


@router.post("/admin/invitations", response_model=None)
def invite(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Invite an address with a role; the mail goes out after the commit."""
    admin_only(me)
    try:
        if role not in ROLES:
            raise Invalid("choose a role", field="role")
        issued = invitations.invite(
            session,
            me.actor,
            email=email,
            role=role,
            ttl=auth_links.invitation_ttl(hub, session, me.actor.tenant_id),
            ip=client_ip(request),
        )
    except HubError as exc:
        session.rollback()
        return redirect("/admin/members", flash=exc.message, error=True)
    session.commit()
    return _after_send(
        request,
        session,
        hub,
        me,
        issued,
        N_("Invitation sent to %(email)s; it expires %(expires)s."),
    )


@router.post("/admin/invitations/{invitation_id}/resend", response_model=None)
def resend(
    request: Request,
    invitation_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
) -> Response:
    """A new link (and mail) for a pending invitation; the old link stops working."""
    admin_only(me)
    issued = invitations.resend(
        session,
        me.actor,
        invitation_id,
        ttl=auth_links.invitation_ttl(hub, session, me.actor.tenant_id),
        ip=client_ip(request),
    )
    session.commit()
    return _after_send(
        request,
        session,
        hub,
        me,
        issued,
        N_("Invitation sent again to %(email)s; it expires %(expires)s."),
    )


@router.post("/admin/invitations/{invitation_id}/cancel", response_model=None)
def cancel(
    request: Request,
    invitation_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    me: PostUser,
    session: SessionDep,
) -> Response:
    """Cancel a pending invitation: its link stops working."""
    admin_only(me)
    link = invitations.cancel(session, me.actor, invitation_id, ip=client_ip(request))
    session.commit()
    return redirect(
        "/admin/members",
        flash=N_("The invitation of %(email)s is cancelled."),
        args={"email": link.email},
    )


def _form(
    request: Request, session: SessionDep, token: str, *, status: int = 200, error: str = ""
) -> HTMLResponse:
    link, user = invitations.opened(session, token)
    tenant = invitations.tenant_name(session, link.tenant_id)
    return anonymous_page(
        request,
        "links/invite.html",
        status=status,
        token=token,
        email=link.email,
        role=ROLE_LABELS.get(link.role or "", link.role),
        tenant_name=tenant,
        existing=invitations.needs_password(user),
        error=error,
    )


@router.get("/invite/{token}", response_class=HTMLResponse)
def invitation_page(request: Request, token: Token, session: SessionDep) -> HTMLResponse:
    """The invitation: choose a name and password (or give the existing account's password)."""
    try:
        return _form(request, session, token)
    except LinkRefused as exc:
        return refused(request, exc.message)


@router.post("/invite/{token}", response_model=None)
def accept(
    request: Request,
    token: Token,
    session: SessionDep,
    hub: HubDep,
    password: Annotated[str, Form(max_length=1000)] = "",
    full_name: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Accept: the membership, the account's password and name, and a signed-in session."""
    check_csrf(request, csrf_token)
    ip = client_ip(request)
    try:
        link, existing = invitations.opened(session, token)
    except LinkRefused as exc:
        return refused(request, exc.message)
    # An existing account's password is checked here: throttled like the sign-in form, so an
    # invitation is no way around the sign-in throttle.
    throttle = signin_throttle(hub) if invitations.needs_password(existing) else None
    if throttle is not None:
        blocked = throttle.blocked(link.email, ip)
        if blocked is not None:
            page = _form(request, session, token, status=429, error=blocked.message)
            page.headers["Retry-After"] = str(blocked.retry_after)
            return page
    try:
        user, member = invitations.accept(
            session, token, password=password, full_name=full_name, ip=ip
        )
    except LinkRefused as exc:
        session.rollback()
        return refused(request, exc.message)
    except HubError as exc:
        session.rollback()
        if throttle is not None:
            throttle.failed(link.email, ip)
        try:
            return _form(request, session, token, status=exc.status, error=exc.message)
        except LinkRefused as gone:
            return refused(request, gone.message)
    if throttle is not None:
        throttle.succeeded(link.email, ip)
    return start_session(
        request,
        hub,
        session,
        user,
        member.tenant_id,
        "/",
        via="invitation",
        flash=N_("Welcome! Your invitation is accepted."),
    )
