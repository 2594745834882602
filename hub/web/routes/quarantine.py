"""The admin's Quarantine page (/admin/quarantine): files held by the malware scan (infected,
or kept unscanned while the scanner was down), released or deleted one by one, and the tenant's
choice of what happens to a file when the scanner is down."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from core.errors import HubError
from core.services import quarantine
from core.services.attachments import when_scanner_down
from hub.api.deps import HubDep, ObjectId, SessionDep, client_ip
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, admin_only

router = APIRouter(prefix="/admin")
PAGE = "/admin/quarantine"


@router.get("/quarantine", response_class=HTMLResponse)
def page(request: Request, me: PageUser, session: SessionDep, hub: HubDep) -> HTMLResponse:
    """Held files with their signature, file name and ticket; the scanner-down policy."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/quarantine.html",
        held=quarantine.held_files(session, me.actor),
        when_down=when_scanner_down(session, me.actor.tenant_id),
        scanning=hub.scanning,
    )


@router.post("/quarantine/{attachment_id}/release", response_model=None)
def release(attachment_id: ObjectId, me: PostUser, session: SessionDep, hub: HubDep) -> Response:
    """Make a held file downloadable again (audited on its ticket)."""
    admin_only(me)
    try:
        row = quarantine.release(session, me.actor, attachment_id)
    except HubError as exc:
        session.rollback()
        return redirect(PAGE, flash=exc.message, error=True)
    name = row.file_name
    session.commit()
    hub.kick()
    return redirect(
        PAGE, flash=N_("%(name)s was released: it can be downloaded again."), args={"name": name}
    )


@router.post("/quarantine/{attachment_id}/delete", response_model=None)
def delete(attachment_id: ObjectId, me: PostUser, session: SessionDep, hub: HubDep) -> Response:
    """Delete a held file for good (audited on its ticket)."""
    admin_only(me)
    try:
        gone = quarantine.delete(session, me.actor, attachment_id)
    except HubError as exc:
        session.rollback()
        return redirect(PAGE, flash=exc.message, error=True)
    session.commit()
    if gone.blob:
        hub.blob_store.delete(gone.blob)
    hub.kick()
    return redirect(PAGE, flash=N_("%(name)s was deleted."), args={"name": gone.file_name})


@router.post("/quarantine/policy", response_model=None)
def policy(
    request: Request,
    me: PostUser,
    session: SessionDep,
    when_down: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """What happens to a file when the scanner is down: refused, or held unscanned."""
    admin_only(me)
    try:
        quarantine.set_when_down(session, me.actor, when_down, ip=client_ip(request))
    except HubError as exc:
        session.rollback()
        return redirect(PAGE, flash=exc.message, error=True)
    session.commit()
    said = (
        N_("Files are now refused when the scanner is down.")
        if when_down == "refuse"
        else N_("Files are now kept held until a rescan when the scanner is down.")
    )
    return redirect(PAGE, flash=said)
