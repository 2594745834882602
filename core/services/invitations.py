"""Invitations: an admin invites an address with a role; the membership exists only once the
person accepts (so an invited agent is in no assignment rotation before that).

An invitation is an ``auth_links`` row of purpose ``invitation`` (``core.services.links``): single
use, expiring, one pending per address and tenant (inviting again or resending replaces the old
link). Accepting creates the account (a password the policy accepts, and a name) or, for a
person who already has one, asks for its password and changes nothing of it. Every step is
audited in the tenant (``invitation.sent|resent|cancelled|accepted``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import password_policy
from core.clock import now
from core.errors import Conflict, Invalid, NotFound
from core.models import AuthLink, Membership, Tenant, User
from core.permissions import END_USER, ROLES, Actor, require_admin
from core.services import audit, identity, links
from core.services.links import INVITATION, Issued, LinkRefused


@dataclass(frozen=True)
class Pending:
    """An invitation as the admin pages list it."""

    id: int
    email: str
    role: str
    created_at: datetime
    expires_at: datetime
    expired: bool


def _pending_of(session: Session, tenant_id: uuid.UUID, email: str) -> list[AuthLink]:
    return list(
        session.scalars(
            select(AuthLink).where(
                AuthLink.tenant_id == tenant_id,
                AuthLink.purpose == INVITATION,
                func.lower(AuthLink.email) == email.lower(),
                AuthLink.used_at.is_(None),
                AuthLink.revoked_at.is_(None),
            )
        )
    )


def invite(
    session: Session,
    actor: Actor,
    *,
    email: str,
    role: str,
    ttl: timedelta | None = None,
    ip: str = "",
) -> Issued:
    """Invite an address with a role (admins only); an earlier pending invitation of the same
    address is replaced. ``Conflict`` when the person is already a member."""
    require_admin(actor, "invite people")
    email = identity.normalize_email(email)
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role")
    user, have = identity.user_with_role(session, actor.tenant_id, email)
    if have is not None:
        raise Conflict(f"{email} is already a member of this organisation", field="email")
    for old in _pending_of(session, actor.tenant_id, email):
        links.revoke(session, old)
    issued = links.issue(
        session,
        INVITATION,
        tenant_id=actor.tenant_id,
        email=email,
        role=role,
        ttl=ttl,
        created_by=actor.user_id,
    )
    audit.by_actor(
        session, actor, audit.INVITATION_SENT, ip=ip, target_email=email, details={"role": role}
    )
    return issued


def pending(session: Session, actor: Actor) -> list[Pending]:
    """The tenant's invitations not yet accepted nor cancelled (expired ones flagged), newest
    first; admins only."""
    require_admin(actor, "see invitations")
    at = now()
    rows = session.scalars(
        select(AuthLink)
        .where(
            AuthLink.tenant_id == actor.tenant_id,
            AuthLink.purpose == INVITATION,
            AuthLink.used_at.is_(None),
            AuthLink.revoked_at.is_(None),
        )
        .order_by(AuthLink.id.desc())
    )
    return [
        Pending(
            id=r.id,
            email=r.email,
            role=r.role or "",
            created_at=r.created_at,
            expires_at=r.expires_at,
            expired=r.expires_at <= at,
        )
        for r in rows
    ]


def get(session: Session, actor: Actor, invitation_id: int) -> AuthLink:
    """A pending invitation of the actor's tenant; ``NotFound`` for anything else (another
    tenant's included)."""
    require_admin(actor, "manage invitations")
    link = session.get(AuthLink, invitation_id)
    if (
        link is None
        or link.tenant_id != actor.tenant_id
        or link.purpose != INVITATION
        or link.used_at is not None
        or link.revoked_at is not None
    ):
        raise NotFound("no such pending invitation")
    return link


def resend(
    session: Session,
    actor: Actor,
    invitation_id: int,
    *,
    ttl: timedelta | None = None,
    ip: str = "",
) -> Issued:
    """A new link for a pending invitation (a new expiry); the old link stops working."""
    old = get(session, actor, invitation_id)
    links.revoke(session, old)
    issued = links.issue(
        session,
        INVITATION,
        tenant_id=actor.tenant_id,
        email=old.email,
        role=old.role,
        ttl=ttl,
        created_by=actor.user_id,
    )
    audit.by_actor(
        session,
        actor,
        audit.INVITATION_RESENT,
        ip=ip,
        target_email=old.email,
        details={"role": old.role},
    )
    return issued


def cancel(session: Session, actor: Actor, invitation_id: int, *, ip: str = "") -> AuthLink:
    """Cancel a pending invitation: its link stops working."""
    link = get(session, actor, invitation_id)
    links.revoke(session, link)
    audit.by_actor(
        session,
        actor,
        audit.INVITATION_CANCELLED,
        ip=ip,
        target_email=link.email,
        details={"role": link.role},
    )
    return link


def opened(session: Session, token: str) -> tuple[AuthLink, User | None]:
    """The live invitation of a token and the account its address already has (if any)."""
    link = links.find(session, token, INVITATION)
    return link, identity.user_by_email(session, link.email)


def tenant_name(session: Session, tenant_id: uuid.UUID) -> str:
    """The name an invitation page shows."""
    return session.scalar(select(Tenant.name).where(Tenant.id == tenant_id)) or ""


def needs_password(user: User | None) -> bool:
    """Whether accepting asks for the existing password (the account has one) rather than a
    new one."""
    return user is not None and bool(user.password)


def accept(
    session: Session,
    token: str,
    *,
    password: str,
    full_name: str = "",
    ip: str = "",
) -> tuple[User, Membership]:
    """Accept an invitation: the membership with the invited role, and for a new account (or one
    without a password) the chosen password and name. An account with a password proves it is
    its owner's by that password, which stays unchanged. The link is used up only on success."""
    link, user = opened(session, token)
    if user is not None and not user.is_active:
        raise LinkRefused(links.INACTIVE)
    if needs_password(user):
        assert user is not None
        if not identity.check_password(user, password):
            raise Invalid("the password of your existing account is wrong", field="password")
    else:
        password_policy.check_password(password, email=link.email)
    links.consume(session, token, INVITATION)
    if user is None:
        user = identity.ensure_user(
            session, email=link.email, full_name=full_name.strip(), password=password
        )
    elif not user.password:
        identity.set_password(session, user, password)
        if full_name.strip():
            user.full_name = full_name.strip()[:200]
    have = identity.membership(session, link.tenant_id, user.id)
    # A person who became a member meanwhile keeps the role they have.
    member = have or identity.ensure_member(session, link.tenant_id, user, link.role or END_USER)
    audit.record(
        session,
        link.tenant_id,
        audit.INVITATION_ACCEPTED,
        actor_id=user.id,
        actor_email=user.email,
        ip=ip,
        target_email=user.email,
        details={"role": member.role},
    )
    if have is None:
        audit.record(
            session,
            link.tenant_id,
            audit.MEMBER_ADDED,
            actor_id=user.id,
            actor_email=user.email,
            ip=ip,
            target_email=user.email,
            details={"role": member.role, "via": "invitation"},
        )
    return user, member


def has_pending(session: Session, tenant_id: uuid.UUID, email: str) -> bool:
    """Whether a live invitation of the tenant names this address."""
    at = now()
    return any(link.expires_at > at for link in _pending_of(session, tenant_id, email))


def accept_by_sso(
    session: Session, tenant_id: uuid.UUID, user: User, *, ip: str = ""
) -> Membership | None:
    """A person the tenant's single sign-on vouched for (verified address, allowed domain)
    accepts their pending invitation there: the membership with the invited role, the link
    used up, audited as an acceptance. None when no live invitation names the address."""
    at = now()
    live = [link for link in _pending_of(session, tenant_id, user.email) if link.expires_at > at]
    if not live:
        return None
    link = max(live, key=lambda row: row.id)
    link.used_at = at
    member = identity.membership(session, tenant_id, user.id) or identity.ensure_member(
        session, tenant_id, user, link.role or END_USER
    )
    for action, details in (
        (audit.INVITATION_ACCEPTED, {"role": member.role, "via": "sso"}),
        (audit.MEMBER_ADDED, {"role": member.role, "via": "invitation"}),
    ):
        audit.record(
            session,
            tenant_id,
            action,
            actor_id=user.id,
            actor_email=user.email,
            ip=ip,
            target_email=user.email,
            details=details,
        )
    return member
