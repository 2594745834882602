"""Requesters without a password: "Email me a sign-in link" (the same answer for every address),
and ``/signin/<token>``, which signs the requester in as an end user and opens their ticket."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from core.services import links
from core.services.links import MAX_TOKEN_LENGTH, LinkRefused
from hub.api.deps import HubDep, client_ip
from hub.link_requests import send_signin_links
from hub.ratelimit import link_throttle, wait_message
from hub.web.link_session import anonymous_page, check_csrf, refused, start_session, throttled

router = APIRouter()
Token = Annotated[str, Path(max_length=MAX_TOKEN_LENGTH)]
PAGE = "links/signin_request.html"


@router.get("/signin-link", response_class=HTMLResponse)
def signin_link_form(request: Request) -> HTMLResponse:
    """The form asking for the requester's address."""
    return anonymous_page(request, PAGE, email="")


@router.post("/signin-link", response_model=None)
def request_signin_link(
    request: Request,
    hub: HubDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=254)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The same answer for every address; the links are made and mailed after it (throttled
    per address and per client)."""
    check_csrf(request, csrf_token)
    ip = client_ip(request)
    wait = link_throttle(hub).hit("signin-link", email, ip)
    if wait is not None:
        return throttled(request, PAGE, wait, wait_message(wait), email=email)
    background.add_task(send_signin_links, hub, email.strip(), ip)
    return anonymous_page(request, PAGE, sent=True, email=email)


@router.get("/signin/{token}", response_model=None)
def follow_signin_link(request: Request, token: Token, hub: HubDep) -> Response:
    """Sign the requester in (a normal session) and open the ticket the link names."""
    # A GET that writes (the session, the link's last use): a write session of its own.
    with hub.session() as session:
        try:
            link, user = links.signin(session, token)
        except LinkRefused as exc:
            return refused(request, exc.message)
        target = f"/tickets/{link.ticket_id}" if link.ticket_id else "/tickets"
        return start_session(request, hub, session, user, link.tenant_id, target, via="signin_link")
