"""Password reset and sign-in links through the API (anonymous, throttled, the same answer for
every address)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request

from core.services import password_reset
from hub.api.deps import HubDep, SessionDep, client_ip
from hub.api.schemas.links import (
    LinkRequest,
    LinkRequested,
    PasswordChanged,
    PasswordResetConfirm,
)
from hub.link_requests import send_reset_link, send_signin_links
from hub.ratelimit import link_throttle, wait_message

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
RESET_SENT = "If an account uses this address, a link to reset its password is on its way."
SIGNIN_SENT = "If this address has tickets with us, a sign-in link is on its way."


def _throttle(hub: HubDep, kind: str, email: str, ip: str) -> None:
    wait = link_throttle(hub).hit(kind, email, ip)
    if wait is not None:
        raise HTTPException(429, wait_message(wait), headers={"Retry-After": str(wait)})


@router.post("/password-reset/", status_code=202)
def request_reset(
    body: LinkRequest, request: Request, hub: HubDep, background: BackgroundTasks
) -> LinkRequested:
    """Mail a reset link (1 h, single use) when the address has an account; 202 either way."""
    ip = client_ip(request)
    _throttle(hub, "reset", body.email, ip)
    background.add_task(send_reset_link, hub, body.email.strip(), ip)
    return LinkRequested(detail=RESET_SENT)


@router.post("/password-reset/confirm/")
def confirm_reset(
    body: PasswordResetConfirm, request: Request, session: SessionDep
) -> PasswordChanged:
    """Set the new password of a reset link (401 when the link is not valid, 422 with the
    reason when the password is refused); every session of the person ends."""
    password_reset.confirm(session, body.token, body.password, ip=client_ip(request))
    return PasswordChanged(ok=True)


@router.post("/signin-link/", status_code=202)
def request_signin_link(
    body: LinkRequest, request: Request, hub: HubDep, background: BackgroundTasks
) -> LinkRequested:
    """Mail a requester's sign-in link for each organisation where the address is an end user;
    202 either way."""
    ip = client_ip(request)
    _throttle(hub, "signin-link", body.email, ip)
    background.add_task(send_signin_links, hub, body.email.strip(), ip)
    return LinkRequested(detail=SIGNIN_SENT)
