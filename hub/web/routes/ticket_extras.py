"""A ticket's tags and custom fields on its page: shown to whoever may see the ticket (fields the
admin flags for the ticket page; tags to staff), changed by staff. The section loads with htmx
(``/tickets/{id}/extras``); its forms post normally, and a refused value comes back beside its
field with what was typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from core.errors import HubError, Invalid
from core.fields import service as fields
from core.models import Ticket
from core.services.tickets import get_ticket
from core.tags import service as tags
from hub.api.deps import HubDep, SessionDep
from hub.context import Hub
from hub.web import custom_fields
from hub.web.i18n import N_
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, WebUser, staff_only

router = APIRouter()
TicketId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def extras_context(
    session: SessionDep,
    me: WebUser,
    ticket: Ticket,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``_ticket_extras_body.html`` shows: three queries, whatever the ticket holds."""
    defs = [d for d in fields.definitions(session, me.actor.tenant_id) if d.show_on_ticket]
    values = fields.values_for(session, [ticket.id]).get(ticket.id, {}) if defs else {}
    ctx: dict[str, Any] = {
        "ticket": ticket,
        "cf_defs": defs,
        "cf_values": {d.key: fields.display(values.get(d.key)) for d in defs},
        "cf_typed": typed if typed is not None else custom_fields.shown_values(values, defs),
        "cf_errors": errors or {},
        "cf_category": ticket.category,
        "cf_prefix": "tf-",
        "editor": me.is_staff and me.role != "manager",
        "tags": [],
        "tag_names": [],
    }
    if me.is_staff:
        ctx["tags"] = tags.tags_for(session, [ticket.id]).get(ticket.id, [])
        ctx["tag_names"] = [r[1] for r in tags.usage(session, me.actor, limit=200)]
    elif me.reads_all:
        ctx["tags"] = tags.tags_for(session, [ticket.id]).get(ticket.id, [])
    return ctx


@router.get("/tickets/{ticket_id}/extras", response_class=HTMLResponse)
def extras(
    ticket_id: TicketId, request: Request, me: PageUser, session: SessionDep
) -> HTMLResponse:
    """The tags and custom fields section of the ticket page."""
    ticket = get_ticket(session, me.actor, ticket_id)
    ctx = extras_context(session, me, ticket)
    return render(request, session, me, "_ticket_extras_body.html", extras=ctx)


def _back(ticket_id: int) -> str:
    return f"/tickets/{ticket_id}#extras-heading"


@router.post("/tickets/{ticket_id}/tags", response_model=None)
def add_tag(
    ticket_id: TicketId,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    tag: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Put one or more tags (separated by commas) on the ticket."""
    staff_only(me)
    try:
        ticket = get_ticket(session, me.actor, ticket_id, for_update=True)
        names = [t for t in tag.split(",") if t.strip()]
        if not names:
            raise Invalid("type a tag to add", field="tag")
        added = tags.add_tags(session, me.actor, ticket, names)
    except HubError as exc:
        session.rollback()
        return redirect(_back(ticket_id), flash=exc.message, error=True)
    session.commit()
    hub.kick()
    if not added:
        return redirect(_back(ticket_id), flash=N_("The ticket has these tags already."))
    return redirect(
        _back(ticket_id), flash=N_("Tag added: %(tags)s."), args={"tags": ", ".join(added)}
    )


@router.post("/tickets/{ticket_id}/tags/remove", response_model=None)
def remove_tag(
    ticket_id: TicketId,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    tag: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Take a tag off the ticket."""
    staff_only(me)
    try:
        ticket = get_ticket(session, me.actor, ticket_id, for_update=True)
        gone = tags.remove_tags(session, me.actor, ticket, [tag])
    except HubError as exc:
        session.rollback()
        return redirect(_back(ticket_id), flash=exc.message, error=True)
    session.commit()
    hub.kick()
    return redirect(
        _back(ticket_id), flash=N_("Tag removed: %(tags)s."), args={"tags": ", ".join(gone) or tag}
    )


async def _posted(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(_posted)]


@router.post("/tickets/{ticket_id}/fields", response_model=None)
def save_fields(
    ticket_id: TicketId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    data: Posted,
) -> Response:
    """Save the ticket's custom fields; a refused value is shown beside its field, with every
    typed value kept (422)."""
    staff_only(me)
    ticket = get_ticket(session, me.actor, ticket_id, for_update=True)
    defs = [d for d in fields.definitions(session, me.actor.tenant_id) if d.show_on_ticket]
    parsed, errors, typed = custom_fields.read(
        data, defs, category=ticket.category, creating=False, portal=False
    )
    if not errors:
        try:
            changed = fields.set_values(session, me.actor, ticket, parsed)
        except HubError as exc:
            errors = {"": exc.message}
        else:
            session.commit()
            hub.kick()
            text = N_("Fields saved.") if changed else N_("Nothing changed.")
            return redirect(_back(ticket_id), flash=text)
    session.rollback()
    return _page_with_errors(request, session, hub, me, ticket_id, errors, typed)


def _page_with_errors(
    request: Request,
    session: SessionDep,
    hub: Hub,
    me: WebUser,
    ticket_id: int,
    errors: dict[str, str],
    typed: dict[str, Any],
) -> HTMLResponse:
    from hub.web.routes.ticket import _page_context

    ticket = get_ticket(session, me.actor, ticket_id)
    ctx = _page_context(session, hub, me, ticket)
    ctx["extras"] = extras_context(session, me, ticket, errors=errors, typed=typed)
    return render(request, session, me, "ticket.html", status=422, **ctx)
