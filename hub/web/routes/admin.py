"""Tenant administration pages: members and roles, plugins and their settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from core.errors import HubError, Invalid
from core.permissions import ROLES
from core.services import audit_trail, identity, invitations
from hub import audit_export as audit_export_csv
from hub import key_verification, plugin_admin
from hub.api.deps import HubDep, SessionDep, client_ip
from hub.context import Hub
from hub.web.i18n import N_
from hub.web.plugin_form import build_fields, keep_submitted, parse_form
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only

router = APIRouter(prefix="/admin")
ROLE_LABELS = {
    "end_user": N_("End user"),
    "agent": N_("Agent"),
    "admin": N_("Admin"),
    "manager": N_("Manager"),
}


@router.get("/members", response_class=HTMLResponse)
def members(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """Members of the tenant with their roles, per-row role and offboarding controls, and the
    form to add one."""
    admin_only(me)
    rows = identity.members(session, me.actor.tenant_id, by_email=True)
    # Who may take over an offboarded person's open tickets: active agents and admins.
    targets = [(r[0], r[1]) for r in rows if r[3] in ("agent", "admin") and r[5]]
    return render(
        request,
        session,
        me,
        "admin/members.html",
        members=rows,
        roles=ROLE_LABELS,
        targets=targets,
        invitations=invitations.pending(session, me.actor),
    )


@router.post("/members", response_model=None)
def set_member(
    request: Request,
    me: PostUser,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    full_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Add a user to the tenant, or change the role of a member."""
    admin_only(me)
    try:
        if role not in ROLES:
            raise Invalid("choose a role", field="role")
        # An account of another tenant is refused (Conflict): adding it needs its consent.
        user, _ = identity.add_member(
            session,
            me.actor,
            email=email,
            role=role,
            full_name=full_name.strip(),
            ip=client_ip(request),
        )
        if user.id == me.actor.user_id and role != "admin":
            raise Invalid("you cannot take away your own admin role", field="role")
    except HubError as exc:
        session.rollback()
        return redirect("/admin/members", flash=exc.message, error=True)
    session.commit()
    return redirect(
        "/admin/members",
        flash=N_("%(email)s is now %(role)s."),
        args={"email": user.email, "role": ROLE_LABELS[role]},
    )


def _audit_filters(
    trail: str, actor: str, action: str, since: str, until: str, ticket: str
) -> tuple[audit_trail.Filters, dict[str, str]]:
    """The page's filters from its query string (dates are whole UTC days); errors by field."""
    errors: dict[str, str] = {}

    def day(value: str, field: str, shift: int = 0) -> datetime | None:
        if not value:
            return None
        try:
            return datetime.combine(date.fromisoformat(value), time(), UTC) + timedelta(shift)
        except ValueError:
            errors[field] = "enter a date as YYYY-MM-DD"
            return None

    ticket_id = None
    if ticket.strip():
        if ticket.strip().isdigit() and 0 < int(ticket) < 2**63:
            ticket_id = int(ticket)
        else:
            errors["ticket"] = "enter a ticket number"
    flt = audit_trail.Filters(
        trail=trail if trail in audit_trail.TRAILS else "tenant",
        actor=actor[:254],
        action=action[:50],
        since=day(since, "since"),
        until=day(until, "until", 1),
        ticket_id=ticket_id,
    )
    return flt, errors


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    me: PageUser,
    session: SessionDep,
    before: int | None = None,
    trail: str = "tenant",
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    ticket: str = "",
) -> HTMLResponse:
    """The tenant's audit trail (people and access, or tickets and settings), newest first, a
    page at a time, filtered by actor, action, dates and ticket; with a CSV export."""
    admin_only(me)
    flt, errors = _audit_filters(trail, actor, action, since, until, ticket)
    found = audit_trail.page(
        session, me.actor, flt, before=before if before and before > 0 else None
    )
    shown = {"trail": flt.chosen, "actor": actor, "action": action, "since": since,
             "until": until, "ticket": ticket}  # fmt: skip
    query = {k: v for k, v in shown.items() if v}
    return render(
        request,
        session,
        me,
        "admin/audit.html",
        rows=found.rows,
        next_before=found.next_before,
        first_page=before is None,
        filters=shown,
        errors=errors,
        query=urlencode(query),
        next_query=urlencode({**query, "before": found.next_before or ""}),
        status=422 if errors else 200,
    )


@router.get("/audit/export", response_model=None)
def audit_export(
    request: Request,
    me: PageUser,
    hub: HubDep,
    trail: str = "tenant",
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    ticket: str = "",
) -> Response:
    """The filtered trail as a CSV file (streamed; the export is audited)."""
    admin_only(me)
    flt, errors = _audit_filters(trail, actor, action, since, until, ticket)
    if errors:
        raise Invalid(next(iter(errors.values())), field=next(iter(errors)))
    return audit_export_csv.csv_response(hub, me.actor, flt, client_ip(request))


def _plugins(hub: Hub, session: SessionDep, me: WebUser) -> list[dict[str, Any]]:
    described = plugin_admin.describe(hub, session, me.actor)
    for p in described:
        p["fields"] = build_fields(p)
    return described


@router.get("/plugins", response_class=HTMLResponse)
def plugins(request: Request, me: PageUser, session: SessionDep, hub: HubDep) -> HTMLResponse:
    """Every installed plugin with its state for this tenant and its settings form."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/plugins.html",
        plugins=_plugins(hub, session, me),
        errors={},
        tested={},
    )


@router.post("/plugins/{name}/enable", response_model=None)
def enable(name: str, me: PostUser, session: SessionDep, hub: HubDep) -> Response:
    """Enable a plugin for this tenant only."""
    return _set_enabled(name, True, me, session, hub)


@router.post("/plugins/{name}/disable", response_model=None)
def disable(name: str, me: PostUser, session: SessionDep, hub: HubDep) -> Response:
    """Disable a plugin for this tenant; its endpoints then answer 404 here."""
    return _set_enabled(name, False, me, session, hub)


def _set_enabled(name: str, enabled: bool, me: WebUser, session: SessionDep, hub: Hub) -> Response:
    admin_only(me)
    plugin_admin.set_enabled(hub, session, me.actor, name, enabled)
    session.commit()
    hub.tenant_hooks.invalidate(me.actor.tenant_id)
    title = hub.infos[name].title
    return redirect(
        f"/admin/plugins#plugin-{name}",
        flash=N_("%(name)s is enabled for this organisation.")
        if enabled
        else N_("%(name)s is disabled for this organisation."),
        args={"name": title},
    )


@router.post("/plugins/{name}/test", response_class=HTMLResponse)
def test_connection(
    name: str, request: Request, me: PostUser, session: SessionDep, hub: HubDep
) -> HTMLResponse:
    """Ask the vendor with the stored settings; the answer is shown on the plugin's card."""
    admin_only(me)
    result = plugin_admin.check_connection(hub, session, me.actor, name)
    return render(
        request,
        session,
        me,
        "admin/plugins.html",
        plugins=_plugins(hub, session, me),
        errors={},
        tested={name: result},
    )


async def _form(request: Request) -> FormData:
    return await request.form()


@router.post("/plugins/{name}/settings", response_model=None)
def configure(
    name: str,
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    form: Annotated[FormData, Depends(_form)],
) -> Response:
    """Save the settings form (validated by the plugin's own settings model)."""
    admin_only(me)
    described = {p["name"]: p for p in _plugins(hub, session, me)}
    plugin = described.get(name)
    if plugin is None:
        return render(
            request, session, me, "error.html", status=404, message=f"No installed plugin {name}."
        )
    try:
        claims = plugin_admin.configure(
            hub, session, me.actor, name, parse_form(plugin["fields"], form)
        )
    except HubError as exc:
        session.rollback()
        shown = _plugins(hub, session, me)
        for p in shown:
            if p["name"] == name:
                keep_submitted(p["fields"], form, getattr(exc, "field", None), exc.message)
        return render(
            request,
            session,
            me,
            "admin/plugins.html",
            status=exc.status,
            plugins=shown,
            errors={name: exc.message},
        )
    session.commit()
    hub.tenant_hooks.invalidate(me.actor.tenant_id)
    notes = key_verification.send_all(hub, me.actor.tenant_id, me.tenant_name, claims)
    return redirect(
        f"/admin/plugins#plugin-{name}",
        flash=[
            (N_("Settings of %(name)s saved."), {"name": plugin["title"]}),
            *[(n, {}) for n in notes],
        ],
    )


@router.post("/plugins/{name}/keys/verify", response_model=None)
def resend_verification(
    name: str,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    key: Annotated[str, Form(max_length=320)],
) -> Response:
    """Send a pending address's verification mail again (with a new secret)."""
    admin_only(me)
    try:
        claim = plugin_admin.resend_verification(hub, session, me.actor, name, key.strip().lower())
    except HubError as exc:
        session.rollback()
        return redirect(f"/admin/plugins#plugin-{name}", flash=exc.message, error=True)
    session.commit()
    notes = key_verification.send_all(hub, me.actor.tenant_id, me.tenant_name, [claim])
    return redirect(
        f"/admin/plugins#plugin-{name}",
        flash=[(n, {}) for n in notes]
        or [(N_("%(address)s is verified."), {"address": claim.key})],
    )
