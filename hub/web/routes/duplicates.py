"""Likely duplicates in the console: the flags on a ticket's page (an htmx fragment loaded after
the page, staff only) with "Merge into #N" and "Dismiss", and the admin's settings page
``/admin/duplicates`` (on or off, how many days back)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from core.duplicates import service
from core.errors import HubError
from hub.api.deps import HubDep, SessionDep, client_ip
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, admin_only, staff_only

router = APIRouter()
TicketId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SETTINGS_PAGE = "/admin/duplicates"


@router.get("/tickets/{ticket_id}/duplicates", response_class=HTMLResponse)
def ticket_duplicates(
    request: Request, me: PageUser, session: SessionDep, ticket_id: TicketId
) -> HTMLResponse:
    """The ticket's open possible-duplicate flags (managers read them, without the buttons)."""
    flags = service.flags_for(session, me.actor, ticket_id)
    return render(request, session, me, "_duplicates.html", flags=flags, ticket_id=ticket_id)


@router.post("/tickets/{ticket_id}/duplicates/{flag_id}/dismiss", response_model=None)
def dismiss(
    ticket_id: TicketId, flag_id: TicketId, me: PostUser, session: SessionDep, hub: HubDep
) -> Response:
    """Not a duplicate: the flag goes from both tickets and does not come back."""
    staff_only(me)
    try:
        flag = service.dismiss(session, me.actor, ticket_id, flag_id)
    except HubError as exc:
        session.rollback()
        return redirect(f"/tickets/{ticket_id}", flash=exc.message, error=True)
    other = flag.other(ticket_id)
    session.commit()
    hub.kick()
    return redirect(
        f"/tickets/{ticket_id}",
        flash=N_("Dismissed: #%(id)s is not a duplicate of this ticket."),
        args={"id": other},
    )


@router.post("/tickets/{ticket_id}/duplicates/{flag_id}/merge", response_model=None)
def merge(
    ticket_id: TicketId, flag_id: TicketId, me: PostUser, session: SessionDep, hub: HubDep
) -> Response:
    """Merge this ticket into the other of the flag; the target's page opens."""
    staff_only(me)
    try:
        target = service.merge_from_flag(session, me.actor, ticket_id, flag_id)
    except HubError as exc:
        session.rollback()
        return redirect(f"/tickets/{ticket_id}", flash=exc.message, error=True)
    session.commit()
    hub.kick()
    return redirect(
        f"/tickets/{target.id}",
        flash=N_("Ticket #%(id)s was merged into this ticket."),
        args={"id": ticket_id},
    )


@router.get(SETTINGS_PAGE, response_class=HTMLResponse)
def settings_page(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """Duplicate detection settings (admins)."""
    admin_only(me)
    row = service.settings_for(session, me.actor.tenant_id)
    return render(
        request,
        session,
        me,
        "admin/duplicates.html",
        enabled=row.enabled,
        window_days=row.window_days,
        max_days=service.MAX_WINDOW_DAYS,
    )


@router.post(SETTINGS_PAGE, response_model=None)
def save_settings(
    request: Request,
    me: PostUser,
    session: SessionDep,
    window_days: Annotated[int, Form(ge=1, le=service.MAX_WINDOW_DAYS)],
    enabled: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Save the settings."""
    admin_only(me)
    try:
        service.save_settings(
            session,
            me.actor,
            enabled=enabled == "on",
            window_days=window_days,
            ip=client_ip(request),
        )
    except HubError as exc:
        session.rollback()
        return redirect(SETTINGS_PAGE, flash=exc.message, error=True)
    session.commit()
    if enabled == "on":
        return redirect(
            SETTINGS_PAGE,
            flash=N_("Duplicate detection is on, %(n)s days back."),
            args={"n": window_days},
        )
    return redirect(SETTINGS_PAGE, flash=N_("Duplicate detection is off."))
