"""The hub's side of signed links: their lifetimes (hub settings, a tenant's own), their URLs,
and the mails that carry them (sent by ``hub.mailer`` after the commit)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Tenant
from core.services import links
from core.types import OutboundMail
from hub.context import Hub
from hub.mailer import Delivery, send

ROLE_NAMES = {
    "end_user": "an end user",
    "agent": "an agent",
    "admin": "an admin",
    "manager": "a manager",
}


def _tenant_setting(session: Session, tenant_id: uuid.UUID, key: str) -> int | None:
    settings = session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    value = settings.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def invitation_ttl(hub: Hub, session: Session, tenant_id: uuid.UUID) -> timedelta:
    """The tenant's ``invitation_ttl_hours`` or ``HUB_INVITATION_TTL_HOURS`` (72)."""
    hours = _tenant_setting(session, tenant_id, "invitation_ttl_hours")
    return timedelta(hours=hours or hub.settings.invitation_ttl_hours)


def signin_ttl(hub: Hub, session: Session, tenant_id: uuid.UUID) -> timedelta:
    """The tenant's ``signin_link_ttl_days`` or ``HUB_SIGNIN_LINK_TTL_DAYS`` (30)."""
    days = _tenant_setting(session, tenant_id, "signin_link_ttl_days")
    return timedelta(days=days or hub.settings.signin_link_ttl_days)


def reset_ttl(hub: Hub) -> timedelta:
    """``HUB_PASSWORD_RESET_TTL_MINUTES`` (60)."""
    return timedelta(minutes=hub.settings.password_reset_ttl_minutes)


def invitation_url(hub: Hub, token: str) -> str:
    return f"{hub.base_url}/invite/{token}"


def reset_url(hub: Hub, token: str) -> str:
    return f"{hub.base_url}/password-reset/{token}"


def signin_url(hub: Hub, token: str) -> str:
    return f"{hub.base_url}/signin/{token}"


def requester_link(hub: Hub, tenant_id: uuid.UUID, ticket_id: int, email: str) -> str | None:
    """A sign-in link that opens one ticket for its requester (``HubContext.requester_link``),
    in a transaction of its own; None when the address is no active end user of the tenant."""
    with hub.session() as s:
        issued = links.issue_signin(
            s, tenant_id, email, ticket_id=ticket_id, ttl=signin_ttl(hub, s, tenant_id)
        )
        return signin_url(hub, issued.token) if issued is not None else None


def send_invitation(
    hub: Hub,
    *,
    tenant_id: uuid.UUID,
    tenant_name: str,
    inviter: str,
    email: str,
    role: str,
    url: str,
    expires: str,
) -> Delivery:
    """The invitation mail (after the commit)."""
    text = (
        f"{inviter} invites you to join {tenant_name} on the help desk as "
        f"{ROLE_NAMES.get(role, role)}.\n\n"
        f"Accept the invitation (the link works once, until {expires}):\n{url}\n\n"
        "If you did not expect this invitation, ignore this mail.\n"
    )
    return send(
        hub,
        OutboundMail(
            tenant_id=tenant_id, to=email, subject=f"You are invited to {tenant_name}", text=text
        ),
    )


def send_reset(hub: Hub, *, tenant_id: uuid.UUID, email: str, url: str, minutes: int) -> Delivery:
    """The password-reset mail."""
    text = (
        "Someone (we hope you) asked to reset the password of your help desk account.\n\n"
        f"Choose a new password here (the link works once, for {minutes} minutes):\n{url}\n\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.\n"
    )
    return send(
        hub,
        OutboundMail(tenant_id=tenant_id, to=email, subject="Reset your password", text=text),
    )


def send_signin(
    hub: Hub, *, tenant_id: uuid.UUID, tenant_name: str, email: str, url: str, days: int
) -> Delivery:
    """The mail with a requester's sign-in link."""
    text = (
        f"Here is your link to the help desk of {tenant_name}: it signs you in without a "
        f"password and works for {days} days. Do not forward it.\n\n{url}\n\n"
        "If you did not ask for it, ignore this mail.\n"
    )
    return send(
        hub,
        OutboundMail(
            tenant_id=tenant_id,
            to=email,
            subject=f"Your sign-in link for {tenant_name}",
            text=text,
        ),
    )
