"""The end-user portal: the home redirect, "my tickets" and the new-ticket form."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from core import lifecycle
from core.errors import HubError, Invalid
from core.fields import extras
from core.fields import service as field_service
from core.kb.deflections import record_deflection
from core.kb.suggestions import suggest
from core.organisations.people import requester_for
from core.permissions import MANAGER
from core.services.attachments import add_attachment
from core.services.tickets import TicketFilter, create_ticket, list_tickets, search_matches
from hub.api.deps import HubDep, SessionDep
from hub.web import custom_fields
from hub.web.helpers import MAX_UPLOAD_FILES, read_uploads
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, WebUser

router = APIRouter()
PAGE_SIZE = 25


@router.get("/", response_model=None)
def home(me: PageUser) -> Response:
    """Each role starts on its own page."""
    if me.is_staff:
        return redirect("/queue")
    if me.role == MANAGER:
        return redirect("/dashboard")
    return redirect("/tickets")


@router.get("/tickets", response_class=HTMLResponse, response_model=None)
def my_tickets(
    request: Request,
    me: PageUser,
    session: SessionDep,
    status: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The requester's own tickets with status badges, a status filter and search."""
    if me.reads_all:
        return redirect("/queue" if me.is_staff else "/dashboard")
    flt = TicketFilter(q=q.strip() or None)
    if status == "open":
        flt.status = list(lifecycle.OPEN_STATUSES)
    elif status == "done":
        flt.status = list(lifecycle.DONE_STATUSES)
    elif status in lifecycle.STATUSES:
        flt.status = [status]
    search_error = ""
    try:
        rows, next_cursor = list_tickets(session, me.actor, flt, limit=PAGE_SIZE, cursor=cursor)
    except Invalid as exc:
        if exc.field != "q":
            raise
        rows, next_cursor, search_error, flt.q = [], None, exc.message, None
    return render(
        request,
        session,
        me,
        "portal/list.html",
        tickets=rows,
        matches=search_matches(session, me.actor, flt.q, rows),
        search_error=search_error,
        next_cursor=next_cursor,
        sel_status=status,
        q=q,
        paged=bool(cursor),
    )


@router.get("/tickets/new", response_class=HTMLResponse)
def new_ticket_form(
    request: Request,
    me: PageUser,
    session: SessionDep,
    hub: HubDep,
    requester_email: Annotated[str, Query(max_length=254)] = "",
) -> HTMLResponse:
    """The form to open a ticket (and the chat, where the tenant has the chatbot on)."""
    if not me.is_staff and me.role == MANAGER:
        return render(
            request,
            session,
            me,
            "error.html",
            status=403,
            message="Managers have read-only access.",
        )
    chat_url = (
        f"/plugins/chatbot/chat?tenant={quote(me.tenant_slug)}"
        if hub.is_enabled(me.actor.tenant_id, "chatbot")
        else None
    )
    return render(
        request,
        session,
        me,
        "portal/new.html",
        form={"requester_email": requester_email} if me.is_staff else {},
        error=None,
        chat_url=chat_url,
        **_portal_fields(session, me),
    )


def _portal_fields(
    session: SessionDep,
    me: WebUser,
    typed: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    category: str = "",
) -> dict[str, Any]:
    """The custom fields the admin shows on this form, with what was typed and the errors."""
    defs = [d for d in field_service.definitions(session, me.actor.tenant_id) if d.show_on_portal]
    return {
        "cf_defs": defs,
        "cf_typed": typed or {},
        "cf_errors": errors or {},
        "cf_category": category,
        "cf_prefix": "cf-",
    }


async def _posted(request: Request) -> FormData:
    return await request.form()


@router.get("/tickets/new/suggestions", response_class=HTMLResponse)
def suggestions(
    request: Request,
    me: PageUser,
    session: SessionDep,
    hub: HubDep,
    subject: Annotated[str, Query(max_length=255)] = "",
    description: Annotated[str, Query(max_length=5000)] = "",
) -> HTMLResponse:
    """Knowledge-base articles for what the user is typing (an htmx fragment)."""
    text = f"{subject} {description}".strip()
    found = []
    if len(text) >= 8:
        audience = "agent" if me.is_staff else "public"
        found = suggest(hub, me.actor.tenant_id, text, limit=3, audience=audience)
    return render(
        request, session, me, "portal/_suggestions.html", suggestions=found, query=text[:2000]
    )


@router.post("/tickets/new/solved", response_model=None)
def solved(
    request: Request,
    me: PostUser,
    session: SessionDep,
    article_id: Annotated[int, Form(ge=1, le=2**63 - 1)],
    query: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A suggested article solved the problem: no ticket, and the deflection is counted."""
    audience = "agent" if me.is_staff else "public"
    try:
        record_deflection(
            session,
            me.actor.tenant_id,
            article_id=article_id,
            user_id=me.actor.user_id,
            channel="web",
            query=query,
            audience=audience,
        )
    except HubError as exc:
        return render(request, session, me, "error.html", status=exc.status, message=exc.message)
    session.commit()
    return redirect("/tickets", flash=N_("Glad that helped: no ticket was opened."))


@router.post("/tickets/new", response_model=None)
def new_ticket(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    subject: Annotated[str, Form(max_length=255)] = "",
    description: Annotated[str, Form(max_length=100_000)] = "",
    category: Annotated[str, Form(max_length=50)] = "",
    priority: Annotated[str, Form(max_length=20)] = "Medium",
    files: Annotated[list[UploadFile] | None, File()] = None,
    requester_email: Annotated[str, Form(max_length=254)] = "",
    posted: FormData = Depends(_posted),
) -> Response:
    """Open a ticket (the signed-in user is the requester, or the one staff name) with its
    attachments and the custom fields the form shows; a refused value is shown beside its
    field, every value kept."""
    form = {
        "requester_email": requester_email,
        "subject": subject,
        "description": description,
        "category": category,
        "priority": priority,
        # Named on a refusal: the browser cannot send the files again by itself.
        "files": [n for n in (getattr(f, "filename", "") for f in files or []) if n],
    }
    defs = [d for d in field_service.definitions(session, me.actor.tenant_id) if d.show_on_portal]
    parsed, cf_errors, typed = custom_fields.read(
        posted, defs, category=category or None, creating=True, portal=True
    )
    if cf_errors:
        first = next(iter(cf_errors.values()))
        return render(
            request,
            session,
            me,
            "portal/new.html",
            status=422,
            form=form,
            error=first if len(cf_errors) == 1 else "some fields need a correction: " + first,
            error_field="custom_fields",
            **_portal_fields(session, me, typed, cf_errors, category),
        )
    try:
        uploads = read_uploads(files, hub.attachment_policy.max_bytes)
        if len(uploads) > MAX_UPLOAD_FILES:
            raise Invalid(f"attach at most {MAX_UPLOAD_FILES} files at once", field="files")
        store = extras.for_new_ticket(session, me.actor, category=category, parsed=parsed)
        requester = (
            requester_for(session, me.actor, requester_email.strip())
            if requester_email.strip()
            else None
        )
        ticket = create_ticket(
            session,
            me.actor,
            requester_id=requester,
            before_events=store,
            subject=subject,
            description=description,
            category=category,
            priority=priority,
            channel="web",
        )
        for name, data in uploads:
            add_attachment(
                session,
                me.actor,
                ticket,
                file_name=name,
                data=data,
                store=hub.blob_store,
                policy=hub.attachment_policy,
            )
    except HubError as exc:
        session.rollback()
        return render(
            request,
            session,
            me,
            "portal/new.html",
            status=exc.status,
            form=form,
            error=exc.message,
            error_field=exc.field,
            **_portal_fields(session, me, typed, {}, category),
        )
    session.commit()
    hub.kick()
    return redirect(
        f"/tickets/{ticket.id}", flash=N_("Ticket #%(id)s was created."), args={"id": ticket.id}
    )
