"""The outbox page (admins): events the plugins could not deliver, with their last error and a
Retry button, and the ones still waiting."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from hub import outbox
from hub.api.deps import HubDep, SessionDep
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, admin_only

router = APIRouter(prefix="/admin/outbox")
PAGE = 100


@router.get("", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    me: PageUser,
    session: SessionDep,
    status: Annotated[str, Query(pattern="^(pending|delivered|failed)$")] = "failed",
) -> HTMLResponse:
    """Outbox events of the tenant by status, newest first (failed by default)."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/outbox.html",
        events=outbox.events_by_status(session, me.actor.tenant_id, status, PAGE),
        sel_status=status,
    )


@router.post("/{event_id}/retry", response_model=None)
def retry(
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    event_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> Response:
    """Queue a failed event again; the plugins that had delivered it are not called twice."""
    admin_only(me)
    if not outbox.retry(session, me.actor.tenant_id, event_id):
        return redirect(
            "/admin/outbox",
            flash=N_("Event %(id)s is not a failed event of this tenant."),
            args={"id": event_id},
            error=True,
        )
    session.commit()
    hub.kick()
    return redirect(
        "/admin/outbox", flash=N_("Event %(id)s is queued again."), args={"id": event_id}
    )
