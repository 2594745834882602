"""Password reset by a signed single-use link (``core.services.links``, purpose
``password_reset``, 1 hour by default).

Asking for a reset answers the same whatever the address (the caller shows one page for all):
only a known, active account that belongs to a tenant gets a link, and only then is the request
audited. Setting the new password ends every session of the person (``identity.set_password``)
and every other reset link of theirs.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import password_policy
from core.models import AuthLink, Membership, Tenant, User
from core.services import audit, identity, links
from core.services.links import PASSWORD_RESET, Issued, LinkRefused


def request(
    session: Session, email: str, *, ttl: timedelta | None = None, ip: str = ""
) -> tuple[User, Issued] | None:
    """A reset link for the account of this address, or None (unknown, inactive, no tenant).

    The link names the account's first tenant (by name): the one it is signed in to after the
    reset."""
    user = identity.user_by_email(session, email) if email.strip() else None
    if user is None or not user.is_active:
        return None
    tenant_id = session.scalar(
        select(Membership.tenant_id)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user.id)
        .order_by(Tenant.name, Tenant.id)
        .limit(1)
    )
    if tenant_id is None:
        return None
    issued = links.issue(
        session, PASSWORD_RESET, tenant_id=tenant_id, email=user.email, user_id=user.id, ttl=ttl
    )
    audit.for_user(session, user.id, user.email, audit.RESET_REQUESTED, ip)
    return user, issued


def confirm(session: Session, token: str, password: str, *, ip: str = "") -> tuple[User, AuthLink]:
    """Set the new password of a reset link's account (the policy checked first, so a refused
    password does not use the link up). Every session of the person and every other reset link
    of theirs ends. Returns the user and the (used) link."""
    link = links.find(session, token, PASSWORD_RESET)
    user = session.get(User, link.user_id) if link.user_id is not None else None
    if user is None or not user.is_active:
        raise LinkRefused(links.INACTIVE)
    password_policy.check_password(password, email=user.email)
    links.consume(session, token, PASSWORD_RESET)
    identity.set_password(session, user, password)
    links.revoke_for_user(session, user.id, PASSWORD_RESET, keep=link.id)
    audit.for_user(session, user.id, user.email, audit.PASSWORD_RESET, ip)
    return user, link
