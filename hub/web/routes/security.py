"""The admin's Security page (/admin/security): the tenant's single sign-on provider and
whether its agents and admins must use SSO or two-factor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from core.errors import HubError
from core.services import security
from hub import sso
from hub.api.deps import HubDep, SessionDep, client_ip
from hub.web.i18n import N_
from hub.web.render import FlashPart, redirect, render
from hub.web.routes.admin import ROLE_LABELS
from hub.web.session import PageUser, PostUser, admin_only

router = APIRouter(prefix="/admin")


@router.get("/security", response_class=HTMLResponse)
def page(request: Request, me: PageUser, session: SessionDep, hub: HubDep) -> HTMLResponse:
    """The SSO settings (the secret only as set or not) and the two-factor policy."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/security.html",
        sso=security.sso_settings(session, me.actor),
        two_factor_required=security.two_factor_required(session, me.actor),
        redirect_uri=sso.redirect_uri(hub),
        login_link=hub.settings.base_url.rstrip("/") + f"/login?org={me.tenant_slug}",
        roles=ROLE_LABELS,
    )


@router.post("/security/sso", response_model=None)
def save_sso(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    issuer: Annotated[str, Form(max_length=500)] = "",
    client_id: Annotated[str, Form(max_length=255)] = "",
    client_secret: Annotated[str, Form(max_length=2000)] = "",
    label: Annotated[str, Form(max_length=100)] = "",
    allowed_domains: Annotated[str, Form(max_length=2000)] = "",
    default_role: Annotated[str, Form(max_length=20)] = "end_user",
    enabled: Annotated[str, Form(max_length=5)] = "",
    require_sso_for_staff: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Save the SSO settings; an empty secret field keeps the stored secret."""
    admin_only(me)
    try:
        if issuer.strip():
            sso.check_issuer(hub.egress, issuer.strip())
        security.update_sso(
            session,
            me.actor,
            hub.keyring,
            {
                "issuer": issuer,
                "client_id": client_id,
                "client_secret": client_secret or None,
                "label": label,
                "allowed_domains": allowed_domains.replace(",", " ").split(),
                "default_role": default_role,
                "enabled": bool(enabled),
                "require_sso_for_staff": bool(require_sso_for_staff),
            },
            ip=client_ip(request),
        )
    except HubError as exc:
        session.rollback()
        return redirect("/admin/security", flash=exc.message, error=True)
    session.commit()
    return redirect("/admin/security", flash=N_("Single sign-on settings saved."))


@router.post("/security/two-factor", response_model=None)
def save_two_factor(
    request: Request,
    me: PostUser,
    session: SessionDep,
    required: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Require (or not) two-factor of agents and admins."""
    admin_only(me)
    try:
        ended = security.set_two_factor_required(
            session, me.actor, bool(required), ip=client_ip(request)
        )
    except HubError as exc:
        session.rollback()
        return redirect("/admin/security", flash=exc.message, error=True)
    session.commit()
    parts: list[FlashPart] = [
        (
            N_("Two-factor is required for agents and admins.")
            if required
            else N_("Two-factor is no longer required for agents and admins."),
            {},
        )
    ]
    if ended:
        parts.append(
            (
                N_("%(n)s session ended.") if ended == 1 else N_("%(n)s sessions ended."),
                {"n": ended},
            )
        )
    return redirect("/admin/security", flash=parts)
