"""The work behind "Forgot your password?" and "Email me a sign-in link", run after the answer
(the same answer for every address, in about the same time): find the account, store a link,
commit, then mail it. Nothing is said about the address to whoever asked."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from core.models import Membership, Tenant, User
from core.permissions import END_USER
from core.services import audit, links, password_reset
from hub import auth_links
from hub.context import Hub

log = logging.getLogger("hub.link_requests")


def send_reset_link(hub: Hub, email: str, ip: str) -> bool:
    """Mail a reset link to the account of this address, if there is one; whether one went.
    Runs after the answer: a failure is logged, never raised to whoever asked."""
    try:
        return _send_reset_link(hub, email, ip)
    except Exception:
        log.exception("password reset request failed")
        return False


def send_signin_links(hub: Hub, email: str, ip: str) -> int:
    """Mail a sign-in link for each organisation where this address is an active end user;
    how many went. Runs after the answer: a failure is logged, never raised."""
    try:
        return _send_signin_links(hub, email, ip)
    except Exception:
        log.exception("sign-in link request failed")
        return 0


def _send_reset_link(hub: Hub, email: str, ip: str) -> bool:
    with hub.session() as s:
        found = password_reset.request(s, email, ttl=auth_links.reset_ttl(hub), ip=ip)
        if found is None:
            return False
        user, issued = found
        to, tenant_id, token = user.email, issued.link.tenant_id, issued.token
    delivery = auth_links.send_reset(
        hub,
        tenant_id=tenant_id,
        email=to,
        url=auth_links.reset_url(hub, token),
        minutes=hub.settings.password_reset_ttl_minutes,
    )
    if not delivery.sent:
        log.warning("password reset for a known account: no mail route (no relay configured)")
    return delivery.sent


def _send_signin_links(hub: Hub, email: str, ip: str) -> int:
    with hub.session() as s:
        tenants = s.execute(
            select(Tenant.id, Tenant.name)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .join(User, User.id == Membership.user_id)
            .where(
                func.lower(User.email) == email.strip().lower(),
                User.is_active.is_(True),
                Membership.role == END_USER,
            )
        ).all()
        made = []
        for tenant_id, name in tenants:
            ttl = auth_links.signin_ttl(hub, s, tenant_id)
            issued = links.issue_signin(s, tenant_id, email, ttl=ttl)
            if issued is None:
                continue
            audit.record(
                s,
                tenant_id,
                audit.SIGNIN_LINK_REQUESTED,
                actor_id=issued.link.user_id,
                actor_email=issued.link.email,
                target_email=issued.link.email,
                ip=ip,
            )
            made.append((tenant_id, name, issued.link.email, issued.token, ttl.days))
    sent = 0
    for tenant_id, name, to, token, days in made:
        delivery = auth_links.send_signin(
            hub,
            tenant_id=tenant_id,
            tenant_name=name,
            email=to,
            url=auth_links.signin_url(hub, token),
            days=days,
        )
        sent += delivery.sent
    return sent
