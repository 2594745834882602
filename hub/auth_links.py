"""The hub's side of signed links: their lifetimes (hub settings, a tenant's own), their URLs,
and the mails that carry them (sent by ``hub.mailer`` after the commit)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.mail_templates.service import render_mail, report_failure
from core.models import Tenant
from core.services import links
from core.types import OutboundMail
from hub.context import Hub
from hub.mailer import Delivery, send

log = logging.getLogger("hub.auth_links")
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


def _send(hub: Hub, tenant_id: uuid.UUID, to: str, kind: str, values: dict[str, Any]) -> Delivery:
    """Render a kind of mail with the tenant's template (in a session of its own) and send it."""
    # A read session: the request that sends this may still hold SQLite's write lock.
    with hub.read_session() as s:
        values = {"recipient": {"name": "", "email": to}, **values}
        mail = render_mail(s, tenant_id, kind, values, report=False)
    if mail.fallback:
        try:
            with hub.session() as s:
                report_failure(s, tenant_id, kind, mail.error)
        except Exception:
            log.exception("the failure of mail template %s was not audited", kind)
    return send(
        hub,
        OutboundMail(
            tenant_id=tenant_id, to=to, subject=mail.subject, text=mail.text, html=mail.html
        ),
    )


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
    values = {
        "tenant": {"name": tenant_name},
        "inviter": inviter,
        "role": ROLE_NAMES.get(role, role),
        "url": url,
        "expires": expires,
    }
    return _send(hub, tenant_id, email, "invitation", values)


def send_reset(hub: Hub, *, tenant_id: uuid.UUID, email: str, url: str, minutes: int) -> Delivery:
    """The password-reset mail."""
    return _send(hub, tenant_id, email, "password_reset", {"url": url, "minutes": minutes})


def send_signin(
    hub: Hub, *, tenant_id: uuid.UUID, tenant_name: str, email: str, url: str, days: int
) -> Delivery:
    """The mail with a requester's sign-in link."""
    values = {"tenant": {"name": tenant_name}, "url": url, "days": days}
    return _send(hub, tenant_id, email, "signin_link", values)
