"""Console pages of person data: a member's privacy page (export, legal hold, erasure), the
retention settings with dry run and history, and one's own export on My account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from core.errors import HubError, Invalid
from core.privacy import holds, person, policy
from hub import privacy
from hub.api.deps import HubDep, SessionDep
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, admin_only

router = APIRouter()
KINDS = {
    "closed_ticket_days": N_("Closed tickets, days after closing"),
    "raw_mail_days": N_("Raw mail, days kept"),
    "parked_mail_days": N_("Parked mail, days kept"),
    "audit_years": N_("Audit rows, years kept"),
}


@router.get("/admin/people/{user_id}/privacy", response_class=HTMLResponse)
def person_page(
    request: Request, user_id: int, me: PageUser, session: SessionDep, hub: HubDep
) -> HTMLResponse:
    """A member's data: exports with progress, legal holds, and what an erasure removes."""
    admin_only(me)
    who = person.member(session, me.actor.tenant_id, user_id)
    preview = privacy.erasure_preview(hub, me.actor, user_id)
    held = [h for h in holds.active(session, me.actor.tenant_id) if h.user_id == user_id]
    return render(
        request,
        session,
        me,
        "admin/person_privacy.html",
        who=who,
        preview=preview,
        holds=held,
        exports=privacy.exports_for(hub, me.actor.tenant_id, user_id),
        confirm_word=f"erase {user_id}",
    )


@router.post("/admin/people/{user_id}/export", response_model=None)
def person_export(
    user_id: int, me: PostUser, session: SessionDep, hub: HubDep, background: BackgroundTasks
) -> Response:
    """Start an export of the member: built after the answer (and by the periodic
    ``privacy.work`` task if this process stops first); the page shows its progress."""
    admin_only(me)
    session.commit()  # the export writes in its own transactions
    back = f"/admin/people/{user_id}/privacy"
    try:
        export_id = privacy.request_export(hub, me.actor, user_id)
    except HubError as exc:
        return redirect(back, flash=exc.message, error=True)
    background.add_task(privacy.run_export, hub, export_id)
    return redirect(back, flash=N_("The export is being built: its progress is below."))


@router.post("/admin/people/{user_id}/hold", response_model=None)
def person_hold(
    user_id: int,
    me: PostUser,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Place a legal hold on the member."""
    admin_only(me)
    back = f"/admin/people/{user_id}/privacy"
    try:
        holds.place(session, me.actor, reason=reason, user_id=user_id)
    except HubError as exc:
        session.rollback()
        return redirect(back, flash=exc.message, error=True)
    session.commit()
    return redirect(back, flash=N_("Legal hold placed."))


@router.post("/admin/holds", response_model=None)
def ticket_hold(
    me: PostUser,
    session: SessionDep,
    ticket_id: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Place a legal hold on a ticket of the tenant."""
    admin_only(me)
    try:
        if not ticket_id.strip().lstrip("#").isdigit():
            raise Invalid("give the ticket's number", field="ticket_id")
        holds.place(session, me.actor, reason=reason, ticket_id=int(ticket_id.strip().lstrip("#")))
    except HubError as exc:
        session.rollback()
        return redirect("/admin/retention", flash=exc.message, error=True)
    session.commit()
    return redirect("/admin/retention", flash=N_("Legal hold placed."))


@router.post("/admin/holds/{hold_id}/release", response_model=None)
def release(
    hold_id: int,
    me: PostUser,
    session: SessionDep,
    back: Annotated[str, Form(max_length=200)] = "/admin/retention",
) -> Response:
    """Release a legal hold."""
    admin_only(me)
    target = back if back.startswith("/admin/") else "/admin/retention"
    try:
        holds.release(session, me.actor, hold_id)
    except HubError as exc:
        session.rollback()
        return redirect(target, flash=exc.message, error=True)
    session.commit()
    return redirect(target, flash=N_("Legal hold released."))


@router.post("/admin/people/{user_id}/erase", response_model=None)
def person_erase(
    user_id: int,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    confirm: Annotated[str, Form(max_length=50)] = "",
) -> Response:
    """Erase the member once the admin typed the confirmation words."""
    admin_only(me)
    session.commit()  # plugins and core erase in their own transactions
    back = f"/admin/people/{user_id}/privacy"
    try:
        if confirm.strip().lower() != f"erase {user_id}":
            raise Invalid(f"type “erase {user_id}” to confirm", field="confirm")
        done = privacy.erase_person(hub, me.actor, user_id)
    except HubError as exc:
        return redirect(back, flash=exc.message, error=True)
    return redirect(
        "/admin/members",
        flash=N_("Erased; the person is now %(name)s."),
        args={"name": done["pseudonym"]},
    )


@router.get("/admin/retention", response_class=HTMLResponse)
def retention_page(
    request: Request, me: PageUser, session: SessionDep, hub: HubDep
) -> HTMLResponse:
    """Retention settings, a dry run and a run now, the run history and active holds."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/retention.html",
        policy=policy.get(session, me.actor.tenant_id),
        kinds=KINDS,
        runs=privacy.runs(hub, me.actor.tenant_id),
        holds=holds.active(session, me.actor.tenant_id),
    )


@router.post("/admin/retention", response_model=None)
async def retention_save(request: Request, me: PostUser, session: SessionDep) -> Response:
    """Save the retention settings (an empty period keeps that data)."""
    admin_only(me)
    form = await request.form()
    values: dict[str, Any] = {k: str(form.get(k) or "") or None for k in KINDS}
    for key in ("comment_erasure", "closed_ticket_action", "export_days"):
        if form.get(key):
            values[key] = str(form.get(key))
    try:
        await run_in_threadpool(policy.save, session, me.actor, values)
    except HubError as exc:
        await run_in_threadpool(session.rollback)
        return redirect("/admin/retention", flash=exc.message, error=True)
    await run_in_threadpool(session.commit)
    return redirect("/admin/retention", flash=N_("Retention settings saved."))


@router.post("/admin/retention/run", response_model=None)
def retention_run(
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    dry_run: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Run the schedule now, or count what it would remove."""
    admin_only(me)
    session.commit()  # each batch commits on its own
    dry = dry_run == "1"
    privacy.run_retention(hub, me.actor.tenant_id, dry_run=dry, trigger="manual", actor=me.actor)
    return redirect("/admin/retention", flash=N_("Dry run recorded.") if dry else "Retention ran.")


@router.get("/account/privacy", response_class=HTMLResponse)
def own_page(request: Request, me: PageUser, session: SessionDep, hub: HubDep) -> HTMLResponse:
    """Your data: ask for an export and download it."""
    assert me.actor.user_id is not None
    return render(
        request,
        session,
        me,
        "account/privacy.html",
        exports=privacy.exports_for(hub, me.actor.tenant_id, me.actor.user_id),
    )


@router.post("/account/privacy/export", response_model=None)
def own_export(
    me: PostUser, session: SessionDep, hub: HubDep, background: BackgroundTasks
) -> Response:
    """Export your own data (built after the answer, as the API's export is)."""
    assert me.actor.user_id is not None
    session.commit()
    export_id = privacy.request_export(hub, me.actor, me.actor.user_id)
    background.add_task(privacy.run_export, hub, export_id)
    return redirect(
        "/account/privacy", flash=N_("Your export is being built: its progress is below.")
    )
