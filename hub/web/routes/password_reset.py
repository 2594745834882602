""" "Forgot your password?": ask for a link (the same answer for every address), then choose a
new password at ``/password-reset/<token>`` and arrive signed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from core.errors import HubError
from core.services import links, password_reset
from core.services.links import MAX_TOKEN_LENGTH, PASSWORD_RESET, LinkRefused
from hub.api.deps import HubDep, SessionDep, client_ip
from hub.link_requests import send_reset_link
from hub.ratelimit import link_throttle, wait_message
from hub.web.i18n import N_
from hub.web.link_session import anonymous_page, check_csrf, refused, start_session, throttled

router = APIRouter()
Token = Annotated[str, Path(max_length=MAX_TOKEN_LENGTH)]
PAGE = "links/reset_request.html"


@router.get("/password-reset", response_class=HTMLResponse)
def reset_form(request: Request) -> HTMLResponse:
    """The form asking for the account's address."""
    return anonymous_page(request, PAGE, email="")


@router.post("/password-reset", response_model=None)
def request_reset(
    request: Request,
    hub: HubDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=254)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The same answer whether or not the address has an account; the link is made and mailed
    after the answer (throttled per address and per client)."""
    check_csrf(request, csrf_token)
    ip = client_ip(request)
    wait = link_throttle(hub).hit("reset", email, ip)
    if wait is not None:
        return throttled(request, PAGE, wait, wait_message(wait), email=email)
    background.add_task(send_reset_link, hub, email.strip(), ip)
    return anonymous_page(
        request, PAGE, sent=True, email=email, minutes=hub.settings.password_reset_ttl_minutes
    )


@router.get("/password-reset/{token}", response_class=HTMLResponse)
def new_password_form(request: Request, token: Token, session: SessionDep) -> HTMLResponse:
    """The form for the new password (the link is used only when it is saved)."""
    try:
        link = links.find(session, token, PASSWORD_RESET)
    except LinkRefused as exc:
        return refused(request, exc.message)
    return anonymous_page(request, "links/reset_form.html", token=token, email=link.email)


@router.post("/password-reset/{token}", response_model=None)
def set_new_password(
    request: Request,
    token: Token,
    session: SessionDep,
    hub: HubDep,
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Save the new password: every session and other reset link of the person ends, and this
    browser is signed in."""
    check_csrf(request, csrf_token)
    try:
        user, link = password_reset.confirm(session, token, password, ip=client_ip(request))
    except LinkRefused as exc:
        session.rollback()
        return refused(request, exc.message)
    except HubError as exc:
        session.rollback()
        found = links.find(session, token, PASSWORD_RESET)
        return anonymous_page(
            request,
            "links/reset_form.html",
            status=exc.status,
            token=token,
            email=found.email,
            error=exc.message,
        )
    return start_session(
        request,
        hub,
        session,
        user,
        link.tenant_id,
        "/",
        via="password_reset",
        flash=N_("Your password is changed; every other session is signed out."),
    )
