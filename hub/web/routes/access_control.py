"""Console pages of people and access: a person's own account (name, password, sessions, API
tokens) and the admin's controls (per-member role and offboarding, every token, the API rate)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from core.clock import now
from core.errors import HubError, Invalid
from core.permissions import ROLES
from core.services import account, api_limits, offboarding, sessions, tokens
from hub.api.deps import HubDep, ObjectId, SessionDep, client_ip, current_session_hash
from hub.api.rate_limit import api_limiter
from hub.ratelimit import signin_throttle
from hub.web.i18n import N_
from hub.web.render import FlashPart, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only

router = APIRouter()
ROLE_LABELS = {
    "end_user": N_("End user"),
    "agent": N_("Agent"),
    "admin": N_("Admin"),
    "manager": N_("Manager"),
}
EXPIRIES = {"": None, "7": 7, "30": 30, "90": 90, "365": 365}
SCOPES = {
    "read": N_("Read: look only (GET)"),
    "write": N_("Write: read and change tickets"),
    "admin": N_("Admin: everything your role allows"),
}


# ------------------------------------------------------------------ my account


def _account_page(
    request: Request,
    session: SessionDep,
    me: WebUser,
    hub: HubDep,
    *,
    new_token: str = "",
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    user_id = me.actor.user_id or 0
    rows = sessions.live_for_user(
        session, user_id, me.actor.tenant_id, current_session_hash(request, hub)
    )
    return render(
        request,
        session,
        me,
        "account.html",
        status=status,
        sessions=[(r, sessions.device_label(r.user_agent)) for r in rows],
        tokens=tokens.mine(session, me.actor),
        scopes={k: v for k, v in SCOPES.items() if k != "admin" or me.is_admin},
        new_token=new_token,
        **extra,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, me: PageUser, session: SessionDep, hub: HubDep) -> HTMLResponse:
    """Your name, password, sessions and API tokens."""
    return _account_page(request, session, me, hub)


def _done(session: SessionDep, url: str, message: str | list[FlashPart], **args: Any) -> Response:
    session.commit()
    return redirect(url, flash=message, args=args)


def _failed(session: SessionDep, url: str, exc: HubError) -> Response:
    session.rollback()
    return redirect(url, flash=exc.message, error=True)


@router.post("/account/profile", response_model=None)
def save_profile(
    request: Request,
    me: PostUser,
    session: SessionDep,
    full_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Change your name."""
    try:
        account.change_name(session, me.actor, full_name, ip=client_ip(request))
    except HubError as exc:
        return _failed(session, "/account#profile", exc)
    return _done(session, "/account#profile", N_("Your name is saved."))


@router.post("/account/password", response_model=None)
def save_password(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change your password (the current one required); your other sessions end."""
    throttle, ip = signin_throttle(hub), client_ip(request)
    refused = throttle.blocked(me.actor.email, ip)
    if refused is not None:
        return redirect("/account#password", flash=refused.message, error=True)
    try:
        try:
            user = account.check_current(session, me.actor, current_password)
        except HubError:
            throttle.failed(me.actor.email, ip)
            raise
        if new_password != confirm_password:
            raise Invalid("the two new passwords differ", field="confirm_password")
        ended = account.change_password(
            session,
            user,
            me.actor,
            new_password,
            keep_hash=current_session_hash(request, hub),
            ip=ip,
        )
    except HubError as exc:
        return _failed(session, "/account#password", exc)
    parts: list[FlashPart] = [(N_("Your password is changed."), {})]
    if ended:
        parts.append((_sessions_ended(ended), {"n": ended}))
    return _done(session, "/account#password", parts)


@router.post("/account/sessions/{key}/revoke", response_model=None)
def end_session(
    key: str, request: Request, me: PostUser, session: SessionDep, hub: HubDep
) -> Response:
    """Sign out one of your other sessions."""
    try:
        account.sign_out(
            session,
            me.actor,
            key=key[:16],
            keep_hash=current_session_hash(request, hub),
            ip=client_ip(request),
        )
    except HubError as exc:
        return _failed(session, "/account#sessions", exc)
    return _done(session, "/account#sessions", N_("That session is signed out."))


@router.post("/account/sessions/revoke", response_model=None)
def end_sessions(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    which: Annotated[str, Form(pattern="^(others|everywhere)$")] = "others",
) -> Response:
    """Sign out every other session, or everywhere (this one too: back to the sign-in page)."""
    everywhere = which == "everywhere"
    ended = account.sign_out(
        session,
        me.actor,
        keep_hash=current_session_hash(request, hub),
        everywhere=everywhere,
        ip=client_ip(request),
    )
    session.commit()
    if everywhere:
        return redirect("/login", flash=N_("You are signed out everywhere."))
    return redirect("/account#sessions", flash=_sessions_ended(ended), args={"n": ended})


def _sessions_ended(n: int) -> str:
    # One msgid per form (English and German share the rule: one, else other).
    return (
        N_("%(n)s other session signed out.") if n == 1 else N_("%(n)s other sessions signed out.")
    )


@router.post("/account/tokens", response_model=None)
def create_token(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    name: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[str, Form(max_length=10)] = "read",
    expires: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Create a token of yours and show it, once."""
    try:
        if expires not in EXPIRIES:
            raise Invalid("choose an expiry", field="expires")
        days = EXPIRIES[expires]
        token, _ = tokens.create(
            session,
            me.actor,
            name=name,
            scope=scope,
            expires_at=now() + timedelta(days=days) if days else None,
            ip=client_ip(request),
        )
    except HubError as exc:
        return _failed(session, "/account#tokens", exc)
    session.commit()
    return _account_page(request, session, me, hub, new_token=token, status=201)


@router.post("/account/tokens/{token_id}/revoke", response_model=None)
def revoke_token(
    token_id: ObjectId, request: Request, me: PostUser, session: SessionDep
) -> Response:
    """Revoke one of your tokens."""
    try:
        row = tokens.revoke(session, me.actor, token_id, own_only=True, ip=client_ip(request))
    except HubError as exc:
        return _failed(session, "/account#tokens", exc)
    return _done(
        session,
        "/account#tokens",
        N_("Token %(name)s (%(prefix)s…) is revoked."),
        name=row.name,
        prefix=row.prefix,
    )


# ------------------------------------------------------------------ admin: members


def _reassign(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise Invalid("choose who takes over the tickets", field="reassign_to")
    return int(value)


@router.post("/admin/members/{user_id}/role", response_model=None)
def change_role(
    user_id: ObjectId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Change one member's role."""
    admin_only(me)
    try:
        if role not in ROLES:
            raise Invalid("choose a role", field="role")
        offboarding.set_role(session, me.actor, user_id, role, ip=client_ip(request))
    except HubError as exc:
        return _failed(session, "/admin/members", exc)
    return _done(
        session, "/admin/members", [(N_("The role is now %(role)s."), {"role": ROLE_LABELS[role]})]
    )


@router.post("/admin/members/{user_id}/deactivate", response_model=None)
def deactivate(
    user_id: ObjectId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    reassign_to: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Deactivate a member here; their open tickets are unassigned or reassigned."""
    admin_only(me)
    try:
        done = offboarding.deactivate(
            session, me.actor, user_id, reassign_to=_reassign(reassign_to), ip=client_ip(request)
        )
    except HubError as exc:
        return _failed(session, "/admin/members", exc)
    return _done(session, "/admin/members", [(N_("Deactivated."), {}), _handover_text(done)])


@router.post("/admin/members/{user_id}/reactivate", response_model=None)
def reactivate(user_id: ObjectId, request: Request, me: PostUser, session: SessionDep) -> Response:
    """Restore a deactivated member's access."""
    admin_only(me)
    try:
        offboarding.reactivate(session, me.actor, user_id, ip=client_ip(request))
    except HubError as exc:
        return _failed(session, "/admin/members", exc)
    return _done(session, "/admin/members", N_("Reactivated: they can sign in again."))


@router.post("/admin/members/{user_id}/remove", response_model=None)
def remove(
    user_id: ObjectId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    reassign_to: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Remove a member from the organisation; their open tickets are unassigned or reassigned."""
    admin_only(me)
    try:
        done = offboarding.remove(
            session, me.actor, user_id, reassign_to=_reassign(reassign_to), ip=client_ip(request)
        )
    except HubError as exc:
        return _failed(session, "/admin/members", exc)
    return _done(session, "/admin/members", [(N_("Removed."), {}), _handover_text(done)])


def _handover_text(done: offboarding.Handover) -> FlashPart:
    if not done.tickets:
        return N_("They had no open tickets."), {}
    one = done.tickets == 1
    if done.reassigned_to:
        text = N_("%(n)s open ticket reassigned.") if one else N_("%(n)s open tickets reassigned.")
    else:
        text = N_("%(n)s open ticket unassigned.") if one else N_("%(n)s open tickets unassigned.")
    return text, {"n": done.tickets}


# ------------------------------------------------------------------ admin: tokens and rate


@router.get("/admin/tokens", response_class=HTMLResponse)
def tenant_tokens(request: Request, me: PageUser, session: SessionDep, hub: HubDep) -> HTMLResponse:
    """Every API token of the organisation, and the API rate limit per token."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/tokens.html",
        tokens=tokens.of_tenant(session, me.actor),
        tenant_rate=api_limits.rate_of(session, me.actor.tenant_id) or "",
        default_rate=hub.settings.api_rate_limit,
    )


@router.post("/admin/tokens/{token_id}/revoke", response_model=None)
def revoke_any_token(
    token_id: ObjectId, request: Request, me: PostUser, session: SessionDep
) -> Response:
    """Revoke any token of the organisation."""
    admin_only(me)
    try:
        row = tokens.revoke(session, me.actor, token_id, ip=client_ip(request))
    except HubError as exc:
        return _failed(session, "/admin/tokens", exc)
    return _done(
        session,
        "/admin/tokens",
        N_("Token %(name)s (%(prefix)s…) is revoked."),
        name=row.name,
        prefix=row.prefix,
    )


@router.post("/admin/rate-limit", response_model=None)
def set_rate(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    per_token: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """Set the API rate per token ("" goes back to the default)."""
    admin_only(me)
    try:
        value = api_limits.set_rate(session, me.actor, per_token.strip(), ip=client_ip(request))
    except HubError as exc:
        return _failed(session, "/admin/tokens#rate", exc)
    session.commit()
    api_limiter(hub).invalidate(me.actor.tenant_id)
    if value:
        return redirect(
            "/admin/tokens#rate",
            flash=N_("The API rate per token is %(rate)s."),
            args={"rate": value},
        )
    return redirect(
        "/admin/tokens#rate",
        flash=N_("The API rate per token is the default (%(rate)s)."),
        args={"rate": hub.settings.api_rate_limit},
    )
