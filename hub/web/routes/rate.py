"""``/rate/<token>``: a one-click rating from the resolution mail (``hub.rating_links``), then
the optional feedback text; no password, no session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse

from core.services.links import LinkRefused
from hub.api.deps import HubDep, SessionDep
from hub.rating_links import opened, record
from hub.web.link_session import anonymous_page, check_csrf, refused

router = APIRouter()
Token = Annotated[str, Path(max_length=120)]


@router.get("/rate/{token}", response_class=HTMLResponse)
def rate(request: Request, token: Token, session: SessionDep, hub: HubDep) -> HTMLResponse:
    """Record the link's rating (committed before the page) and offer the feedback form."""
    try:
        link = opened(hub, session, token)
        record(session, link)
    except LinkRefused as exc:
        session.rollback()
        return refused(request, exc.message)
    session.commit()
    return anonymous_page(
        request, "links/rate.html", token=token, ticket_id=link.ticket_id, score=link.score
    )


@router.post("/rate/{token}", response_class=HTMLResponse)
def feedback(
    request: Request,
    token: Token,
    session: SessionDep,
    hub: HubDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    feedback: Annotated[str, Form(max_length=5000)] = "",
) -> HTMLResponse:
    """The optional feedback text with the rating."""
    check_csrf(request, csrf_token)
    try:
        link = opened(hub, session, token)
        record(session, link, feedback=feedback.strip())
    except LinkRefused as exc:
        session.rollback()
        return refused(request, exc.message)
    session.commit()
    return anonymous_page(
        request,
        "links/rate.html",
        token=token,
        ticket_id=link.ticket_id,
        score=link.score,
        thanked=True,
    )
