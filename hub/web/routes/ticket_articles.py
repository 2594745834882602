"""Suggested articles on the ticket page: what the knowledge base has for the ticket's words,
each with a button that puts its help-centre link into the reply (staff only; an htmx
fragment loaded after the page, so the ticket page does not wait for the rankers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from core.kb.suggestions import suggest
from core.services.tickets import get_ticket
from hub.api.deps import HubDep, SessionDep
from hub.web.render import render
from hub.web.session import PageUser, staff_only

router = APIRouter()
SUGGESTIONS = 5


@router.get("/tickets/{ticket_id}/articles", response_class=HTMLResponse)
def ticket_articles(
    request: Request,
    me: PageUser,
    session: SessionDep,
    hub: HubDep,
    ticket_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> HTMLResponse:
    """The articles that best match the ticket's subject and description."""
    staff_only(me)
    ticket = get_ticket(session, me.actor, ticket_id)
    text = f"{ticket.subject} {ticket.description or ''}"[:5000]
    found = suggest(hub, me.actor.tenant_id, text, limit=SUGGESTIONS, audience="agent")
    return render(request, session, me, "_ticket_articles.html", suggestions=found)
