"""The ticket page for requesters and staff, and every action taken from it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from core import lifecycle
from core.automation import escalation, macro_admin
from core.automation import macros as macro_service
from core.errors import HubError, Invalid
from core.groups.service import TIER_TARGET, group_names, next_tier
from core.models import Audit, Ticket
from core.services.attachments import add_attachment, list_attachments
from core.services.comments import add_comment, visible_comments
from core.services.drafts import MAX_DRAFT_CHARS, delete_draft, get_draft, save_draft
from core.services.merge import merge_ticket, merged_sources
from core.services.tickets import UNSET, Changes, get_ticket, update_ticket
from core.services.versions import changes_since, last_audit_id, ticket_etag
from core.sla import countdown as sla_countdown
from hub.api.deps import HubDep, SessionDep
from hub.api.schemas.tickets import EscalationCreate
from hub.context import Hub
from hub.web.helpers import MAX_UPLOAD_FILES, read_uploads, staff_members, user_names
from hub.web.i18n import N_
from hub.web.render import FlashPart, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, staff_only

router = APIRouter()
# Ids beyond BIGINT would reach the database as an error instead of a 404.
TicketId = Annotated[int, Path(ge=1, le=2**63 - 1)]
AUDIT_LIMIT = 200
SEND_AND = ("Pending", "Resolved")  # the reply form's "Send and set ..." choices


def _thread(session: SessionDep, me: WebUser, ticket: Ticket) -> dict[str, Any]:
    """Comments and attachments the user may see, attachments grouped under their comment."""
    comments = visible_comments(session, me.actor, ticket)
    attachments = list_attachments(session, me.actor, ticket)
    by_comment: dict[int | None, list[Any]] = {}
    for a in attachments:
        by_comment.setdefault(a.comment_id, []).append(a)
    return {
        "comments": comments,
        "files_by_comment": by_comment,
        "ticket_files": by_comment.get(None, []),
    }


def _page_context(session: SessionDep, hub: Hub, me: WebUser, ticket: Ticket) -> dict[str, Any]:
    ctx: dict[str, Any] = {"ticket": ticket, **_thread(session, me, ticket)}
    ids: set[int | None] = {ticket.created_by, ticket.assigned_to}
    ids |= {c.user_id for c in ctx["comments"]}
    if me.is_staff:
        ctx["audit"] = list(
            session.scalars(
                select(Audit)
                .where(Audit.ticket_id == ticket.id, Audit.tenant_id == me.actor.tenant_id)
                .order_by(Audit.id.desc())
                .limit(AUDIT_LIMIT)
            )
        )
        ids |= {a.performed_by for a in ctx["audit"]}
        ctx["staff"] = staff_members(session, me.actor.tenant_id)
        ctx["statuses"] = [
            s
            for s in lifecycle.STATUSES
            if s == ticket.status or lifecycle.can_transition(ticket.status, s, staff=True)
        ]
        ctx["targets"] = escalation.offered_targets(session, hub, me.actor, ticket.id)
        # The tier's label is made in core in English; the page words it in the reader's.
        tier = next_tier(session, me.actor.tenant_id, ticket.group_id)
        for target in ctx["targets"]:
            if target["target"] == TIER_TARGET and tier is not None:
                target["tier"], target["group"] = str(tier.tier), tier.name
        ctx["groups"] = group_names(session, me.actor.tenant_id)
        ctx["macros"] = macro_admin.list_macros(session, me.actor, active_only=True)
        # Looking for merged tickets scans (merged_into_id has no index); the audit trail says
        # by index whether anything was ever merged into this ticket.
        merged_in = session.scalar(
            select(Audit.id)
            .where(
                Audit.ticket_id == ticket.id,
                Audit.tenant_id == me.actor.tenant_id,
                Audit.action == "Merged In",
            )
            .limit(1)
        )
        ctx["merged"] = (
            [
                (m, visible_comments(session, me.actor, m))
                for m in merged_sources(session, me.actor, ticket)
            ]
            if merged_in
            else []
        )
        if ticket.merged_into_id:
            ctx["merged_into"] = ticket.merged_into_id
    ctx["names"] = user_names(session, ids)
    if me.reads_all:
        ctx["sla"] = sla_countdown.countdowns(session, me.actor.tenant_id, [ticket])
    ctx["can_reopen"] = (
        not me.is_staff
        and ticket.created_by == me.actor.user_id
        and lifecycle.can_transition(ticket.status, "Reopened", staff=False)
    )
    ctx["can_rate"] = (
        ticket.created_by == me.actor.user_id
        and ticket.status in lifecycle.DONE_STATUSES
        and ticket.satisfaction_rating is None
    )
    ctx["writer"] = me.role != "manager"
    # The version the page's forms were rendered from (the API's ETag), and the newest audit
    # row then, so that a refused save can list what changed in between.
    ctx["version"] = ticket_etag(ticket)
    ctx["seen"] = last_audit_id(session, me.actor, ticket)
    ctx["draft"] = get_draft(session, me.actor, ticket) if ctx["writer"] else None
    ctx["send_and"] = (
        [s for s in SEND_AND if lifecycle.can_transition(ticket.status, s, staff=True)]
        if me.is_staff
        else []
    )
    return ctx


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    ticket_id: TicketId,
    request: Request,
    me: PageUser,
    session: SessionDep,
    hub: HubDep,
    macro: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    """The ticket with its thread: public only for requesters, notes and audit for staff.
    ``?macro=<id>`` (staff) fills the reply form with the macro for this ticket, to review."""
    ticket = get_ticket(session, me.actor, ticket_id)
    ctx = _page_context(session, hub, me, ticket)
    if macro is not None and me.is_staff:
        chosen = macro_service.get_macro(session, me.actor.tenant_id, macro)
        ctx["fill"] = {"macro": chosen, **macro_service.preview(session, me.actor, chosen, ticket)}
    return render(request, session, me, "ticket.html", **ctx)


@router.get("/tickets/{ticket_id}/thread", response_class=HTMLResponse)
def thread(
    ticket_id: TicketId, request: Request, me: PageUser, session: SessionDep
) -> HTMLResponse:
    """The thread alone, refreshed live when a comment arrives."""
    ticket = get_ticket(session, me.actor, ticket_id)
    ctx = _thread(session, me, ticket)
    ctx["names"] = user_names(session, {c.user_id for c in ctx["comments"]})
    return render(request, session, me, "_thread.html", ticket=ticket, **ctx)


def _back(ticket_id: int) -> str:
    return f"/tickets/{ticket_id}"


def _failed(ticket_id: int, exc: HubError, session: SessionDep) -> Response:
    session.rollback()
    return redirect(_back(ticket_id), flash=exc.message, error=True)


@router.post("/tickets/{ticket_id}/reply", response_model=None)
def reply(
    ticket_id: TicketId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    comment: Annotated[str, Form(max_length=100_000)] = "",
    kind: Annotated[str, Form(pattern="^(public|internal)$")] = "public",
    files: Annotated[list[UploadFile] | None, File()] = None,
    set_status: Annotated[str, Form(max_length=20)] = "",
    set_priority: Annotated[str, Form(max_length=20)] = "",
    set_category: Annotated[str, Form(max_length=50)] = "",
    set_assigned_to: Annotated[str, Form(max_length=12)] = "",
    and_status: Annotated[str, Form(max_length=20)] = "",
    version: Annotated[str, Form(max_length=40)] = "",
    seen: Annotated[int, Form(ge=0, le=2**63 - 1)] = 0,
    only_reply: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """A public reply or (staff) an internal note, with attachments, and (staff) the status,
    priority, category or assignee to set with it ("Send and set Pending": ``and_status``), in
    one transaction. Field changes on a ticket changed since ``version`` are refused (409) with
    the other's changes shown; a reply alone is never a conflict. Any refusal re-renders the
    page with everything typed still there; sending deletes the draft."""
    internal = kind == "internal"
    if and_status:
        set_status = and_status
    if only_reply:
        set_status = set_priority = set_category = set_assigned_to = ""
    typed = {
        "comment": comment,
        "kind": kind,
        "set_status": set_status,
        "set_priority": set_priority,
        "set_category": set_category,
        "set_assigned_to": set_assigned_to,
        "files": [n for n in (getattr(f, "filename", "") for f in files or []) if n],
    }
    changes = _reply_changes(me, set_status, set_priority, set_category, set_assigned_to)
    try:
        ticket = get_ticket(session, me.actor, ticket_id, for_update=True)
        if changes is not None and _changed_meanwhile(session, me, ticket, version, seen):
            return _again(request, me, session, hub, ticket_id, typed, seen=seen)
        uploads = read_uploads(files, hub.attachment_policy.max_bytes)
        if len(uploads) > MAX_UPLOAD_FILES:
            raise Invalid(f"attach at most {MAX_UPLOAD_FILES} files at once", field="files")
        row = None
        if comment.strip() or not uploads:
            row = add_comment(
                session, me.actor, ticket, comment=comment, is_internal=internal, channel="web"
            )
        for name, data in uploads:
            typed["rejected"] = name
            add_attachment(
                session,
                me.actor,
                ticket,
                file_name=name,
                data=data,
                store=hub.blob_store,
                policy=hub.attachment_policy,
                comment_id=row.id if row else None,
                is_internal=internal,
            )
        typed.pop("rejected", None)
        if changes is not None:
            for name in ("status", "priority", "category"):
                if getattr(changes, name) == getattr(ticket, name):
                    setattr(changes, name, UNSET)
            update_ticket(session, me.actor, ticket, changes)
        delete_draft(session, me.actor, ticket)
    except HubError as exc:
        return _again(request, me, session, hub, ticket_id, typed, error=exc)
    session.commit()
    hub.kick()
    what: list[FlashPart] = [(N_("Internal note added.") if internal else N_("Reply sent."), {})]
    if changes is not None:
        what.append((N_("The ticket was updated."), {}))
    return redirect(_back(ticket_id) + "#thread", flash=what)


def _changed_meanwhile(
    session: SessionDep, me: WebUser, ticket: Ticket, version: str, seen: int
) -> bool:
    """Whether a field of the ticket changed since the form's ``version`` was rendered. A new
    version alone (a comment, the SLA clock) is no conflict: a field change recorded after the
    form's newest audit row is."""
    if not version or version == ticket_etag(ticket):
        return False
    return bool(changes_since(session, me.actor, ticket, seen))


def _again(
    request: Request,
    me: WebUser,
    session: SessionDep,
    hub: Hub,
    ticket_id: int,
    typed: dict[str, Any],
    *,
    error: HubError | None = None,
    seen: int | None = None,
) -> Response:
    """The ticket page again after a refused save, with everything typed in the reply form:
    the error (and the rejected file), or (``seen``) the changes someone else made since the
    form was rendered (409). Files are named: the browser cannot send them again by itself."""
    session.rollback()
    try:
        ticket = get_ticket(session, me.actor, ticket_id)
    except HubError as exc:
        return _failed(ticket_id, exc, session)
    ctx = _page_context(session, hub, me, ticket)
    ctx["typed"] = typed
    status = 409
    if seen is not None:
        ctx["conflict"] = changes_since(session, me.actor, ticket, seen)
        ctx["names"].update(user_names(session, {c.by for c in ctx["conflict"]}))
    else:
        assert error is not None
        status = error.status
        ctx["reply_error"] = error.message
        if error.field not in ("file", "files"):
            typed.pop("rejected", None)
    return render(request, session, me, "ticket.html", status=status, **ctx)


def _reply_changes(
    me: WebUser, status: str, priority: str, category: str, assigned_to: str
) -> Changes | None:
    """The field changes sent with a reply ("" keeps a field as it is); None when there are
    none. Only staff change fields this way."""
    if not me.is_staff or not (status or priority or category or assigned_to):
        return None
    changes = Changes()
    changes.status = status or UNSET
    changes.priority = priority or UNSET
    changes.category = category or UNSET
    if assigned_to == "none":
        changes.assigned_to = None
    elif assigned_to.isdigit():
        changes.assigned_to = int(assigned_to)
    return changes


def _apply(
    ticket_id: int, me: WebUser, session: SessionDep, hub: Hub, changes: Changes, done: str
) -> Response:
    try:
        ticket = get_ticket(session, me.actor, ticket_id, for_update=True)
        # The properties form sends every field; an unchanged one is not a change (so that
        # assigning a New ticket still opens it, as the service does when status is left alone).
        for name in ("status", "priority", "category"):
            if getattr(changes, name) == getattr(ticket, name):
                setattr(changes, name, UNSET)
        changed = update_ticket(session, me.actor, ticket, changes)
    except HubError as exc:
        return _failed(ticket_id, exc, session)
    session.commit()
    hub.kick()
    return redirect(_back(ticket_id), flash=done if changed else N_("Nothing changed."))


@router.post("/tickets/{ticket_id}/reopen", response_model=None)
def reopen(ticket_id: TicketId, me: PostUser, session: SessionDep, hub: HubDep) -> Response:
    """The requester reopens a Resolved or Closed ticket (spec section 3)."""
    return _apply(
        ticket_id,
        me,
        session,
        hub,
        Changes(status="Reopened", reason="reopened"),
        N_("The ticket was reopened."),
    )


@router.post("/tickets/{ticket_id}/rate", response_model=None)
def rate(
    ticket_id: TicketId,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    rating: Annotated[int, Form(ge=1, le=5)],
    feedback: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """CSAT: a rating from 1 to 5 with optional feedback, once Resolved or Closed."""
    changes = Changes(satisfaction_rating=rating)
    if feedback.strip():
        changes.feedback = feedback.strip()
    return _apply(ticket_id, me, session, hub, changes, N_("Thank you for your rating."))


@router.post("/tickets/{ticket_id}/update", response_model=None)
def update(
    ticket_id: TicketId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    status: Annotated[str, Form(max_length=20)] = "",
    priority: Annotated[str, Form(max_length=20)] = "",
    category: Annotated[str, Form(max_length=50)] = "",
    assigned_to: Annotated[str, Form(max_length=12)] = "",
    version: Annotated[str, Form(max_length=40)] = "",
    seen: Annotated[int, Form(ge=0, le=2**63 - 1)] = 0,
    comment: Annotated[str, Form(max_length=100_000)] = "",
    kind: Annotated[str, Form(pattern="^(public|internal)$")] = "public",
) -> Response:
    """Status, priority, category and assignment from the ticket page (staff). The reply being
    typed comes along (``comment``, ``kind``) and is kept as the draft, never dropped; a ticket
    changed since ``version`` is refused (409) with the changes shown and everything kept."""
    staff_only(me)
    changes = Changes()
    changes.status = status or UNSET
    changes.priority = priority or UNSET
    changes.category = category or UNSET
    if assigned_to == "none":
        changes.assigned_to = None
    elif assigned_to.isdigit():
        changes.assigned_to = int(assigned_to)
    typed = {"comment": comment, "kind": kind, "files": []}
    try:
        ticket = get_ticket(session, me.actor, ticket_id, for_update=True)
        # The properties form sends every field; an unchanged one is not a change.
        for name in ("status", "priority", "category"):
            if getattr(changes, name) == getattr(ticket, name):
                setattr(changes, name, UNSET)
        if changes.assigned_to == ticket.assigned_to:
            changes.assigned_to = UNSET
        typed.update(
            set_status=status if changes.status is not UNSET else "",
            set_priority=priority if changes.priority is not UNSET else "",
            set_category=category if changes.category is not UNSET else "",
            set_assigned_to=assigned_to if changes.assigned_to is not UNSET else "",
        )
        wants = any(
            getattr(changes, f) is not UNSET
            for f in ("status", "priority", "category", "assigned_to")
        )
        if wants and _changed_meanwhile(session, me, ticket, version, seen):
            return _again(request, me, session, hub, ticket_id, typed, seen=seen)
        changed = update_ticket(session, me.actor, ticket, changes)
        kept = comment.strip() and save_draft(session, me.actor, ticket, body=comment, kind=kind)
    except HubError as exc:
        return _again(request, me, session, hub, ticket_id, typed, error=exc)
    session.commit()
    hub.kick()
    done: list[FlashPart] = [
        (N_("The ticket was updated.") if changed else N_("Nothing changed."), {})
    ]
    if kept:
        done.append(
            (N_("Your reply was kept as a draft in the reply form; it has not been sent."), {})
        )
    return redirect(_back(ticket_id), flash=done)


@router.post("/tickets/{ticket_id}/draft", response_class=HTMLResponse)
def draft(
    ticket_id: TicketId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    comment: Annotated[str, Form(max_length=MAX_DRAFT_CHARS)] = "",
    kind: Annotated[str, Form(pattern="^(public|internal)$")] = "public",
) -> HTMLResponse:
    """Keep the reply being typed (htmx, as the person types): one draft per person and ticket,
    private to them; an empty message deletes it. Answers the "Draft saved" status after the
    commit."""
    ticket = get_ticket(session, me.actor, ticket_id)
    saved = save_draft(session, me.actor, ticket, body=comment, kind=kind)
    session.commit()
    return render(request, session, me, "_draft_status.html", saved=saved)


@router.post("/tickets/{ticket_id}/group", response_model=None)
def move_to_group(
    ticket_id: TicketId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    group_id: Annotated[str, Form(max_length=12)] = "",
    version: Annotated[str, Form(max_length=40)] = "",
    seen: Annotated[int, Form(ge=0, le=2**63 - 1)] = 0,
    comment: Annotated[str, Form(max_length=100_000)] = "",
    kind: Annotated[str, Form(pattern="^(public|internal)$")] = "public",
) -> Response:
    """Move the ticket to another agent group (staff), or to none. As with the properties form,
    a ticket changed since ``version`` is refused (409) with the changes shown, and the reply
    being typed comes along and is kept as the draft."""
    staff_only(me)
    if group_id != "none" and not group_id.isdigit():
        return _failed(ticket_id, Invalid("choose a group", field="group_id"), session)
    target = int(group_id) if group_id.isdigit() else None
    typed: dict[str, Any] = {"comment": comment, "kind": kind, "files": []}
    try:
        ticket = get_ticket(session, me.actor, ticket_id, for_update=True)
        if target == ticket.group_id:
            return redirect(_back(ticket_id), flash=N_("Nothing changed."))
        if _changed_meanwhile(session, me, ticket, version, seen):
            return _again(request, me, session, hub, ticket_id, typed, seen=seen)
        changed = update_ticket(session, me.actor, ticket, Changes(group_id=target))
        kept = comment.strip() and save_draft(session, me.actor, ticket, body=comment, kind=kind)
    except HubError as exc:
        return _again(request, me, session, hub, ticket_id, typed, error=exc)
    session.commit()
    hub.kick()
    done: list[FlashPart] = [
        (N_("The ticket moved to another group.") if changed else N_("Nothing changed."), {})
    ]
    if kept:
        done.append(
            (N_("Your reply was kept as a draft in the reply form; it has not been sent."), {})
        )
    return redirect(_back(ticket_id), flash=done)


@router.post("/tickets/{ticket_id}/merge", response_model=None)
def merge(
    ticket_id: TicketId,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    target_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    """Merge this ticket into another (staff); the page of the target opens."""
    staff_only(me)
    try:
        target = merge_ticket(session, me.actor, ticket_id, target_id)
    except HubError as exc:
        return _failed(ticket_id, exc, session)
    session.commit()
    hub.kick()
    return redirect(
        _back(target.id),
        flash=N_("Ticket #%(id)s was merged into this ticket."),
        args={"id": ticket_id},
    )


@router.post("/tickets/{ticket_id}/escalate", response_model=None)
def escalate(
    ticket_id: TicketId,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    target: Annotated[str, Form(max_length=40)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Escalate through a target an enabled plugin offers (the same service as the API)."""
    staff_only(me)
    try:
        body = EscalationCreate(target=target, note=note.strip())
        escalation.request_escalation(
            session, hub, me.actor, ticket_id, target=body.target, note=body.note
        )
    except HubError as exc:
        return _failed(ticket_id, exc, session)
    session.commit()
    hub.kick()
    return redirect(
        _back(ticket_id),
        flash=N_("Escalation to %(target)s was requested."),
        args={"target": target},
    )


@router.post("/tickets/{ticket_id}/macro", response_model=None)
def apply_macro(
    ticket_id: TicketId,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    macro_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    """Apply a macro: its reply (public or internal) and its field changes, in one go."""
    staff_only(me)
    try:
        ticket = get_ticket(session, me.actor, ticket_id, for_update=True)
        macro = macro_service.get_macro(session, me.actor.tenant_id, macro_id)
        macro_service.apply_macro(session, me.actor, macro, ticket)
    except HubError as exc:
        return _failed(ticket_id, exc, session)
    session.commit()
    hub.kick()
    return redirect(
        _back(ticket_id), flash=N_("Macro “%(name)s” applied."), args={"name": macro.name}
    )
