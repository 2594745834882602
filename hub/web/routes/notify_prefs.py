"""Notification preferences: one's own (/account/notifications, staff and end users alike) and
the tenant's defaults (/admin/notifications)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from core.errors import HubError
from core.notifications import inbox, matrix, prefs
from hub.api.deps import SessionDep
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, admin_only

router = APIRouter()


def _checked(form: Mapping[str, object], rows: list[dict[str, Any]]) -> dict[str, bool]:
    """A checkbox per row: present means on (an unchecked box is not sent)."""
    return {
        prefs.key(str(r["kind"]), str(r["channel"])): prefs.key(str(r["kind"]), str(r["channel"]))
        in form
        for r in rows
        if not r.get("locked")
    }


@router.get("/account/notifications", response_class=HTMLResponse)
def my_page(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """What I am told about, per kind and channel."""
    return render(
        request,
        session,
        me,
        "account/notifications.html",
        rows=inbox.sheet(session, me.actor),
        channels=matrix.CHANNEL_LABELS,
    )


@router.post("/account/notifications", response_model=None)
async def save_mine(request: Request, me: PostUser, session: SessionDep) -> Response:
    """Save my choices."""
    form = dict(await request.form())
    rows = inbox.sheet(session, me.actor)
    assert me.actor.user_id is not None
    prefs.save_person(session, me.actor.tenant_id, me.actor.user_id, _checked(form, rows))
    session.commit()
    return redirect("/account/notifications", flash=N_("Your notification choices are saved."))


@router.get("/admin/notifications", response_class=HTMLResponse)
def tenant_page(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """The tenant's defaults and who hears about unassigned tickets."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/notifications.html",
        sheet=inbox.defaults_sheet(session, me.actor),
        channels=matrix.CHANNEL_LABELS,
        table=matrix,
    )


@router.post("/admin/notifications", response_model=None)
async def save_tenant(request: Request, me: PostUser, session: SessionDep) -> Response:
    """Save the tenant's defaults."""
    admin_only(me)
    form = dict(await request.form())
    rows = inbox.defaults_sheet(session, me.actor)["defaults"]
    try:
        prefs.save_tenant(
            session,
            me.actor.tenant_id,
            unassigned=str(form.get("unassigned", "")),
            defaults=_checked(form, rows),
        )
    except HubError as exc:
        return redirect("/admin/notifications", flash=exc.message, error=True)
    session.commit()
    return redirect("/admin/notifications", flash=N_("The notification defaults are saved."))
