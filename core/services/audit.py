"""Tenant-level audit rows (``tenant_audit``), written in the caller's transaction, read paged.

Actions: ``signin`` (``details.via``: console, api or sso), ``signin.failed``, ``member.added``,
``member.role_changed``, ``member.removed``, ``member.deactivated``, ``member.reactivated``,
``user.deactivated``, ``user.reactivated``, ``password.changed``, ``profile.changed``,
``sessions.revoked``, ``token.created``, ``token.revoked``, ``ratelimit.changed``,
``sso.settings_changed``, ``sso.refused`` (``details.reason``),
``two_factor.enabled``, ``two_factor.disabled``, ``two_factor.failed``,
``two_factor.recovery_code_used``, ``two_factor.policy_changed``,
``invitation.sent|resent|cancelled|accepted``, ``password.reset_requested``, ``password.reset``
and ``signin_link.requested``. ``details`` names what changed (roles, the tenant chosen, a
token's id, name and prefix); callers never pass a password or a token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.models import Membership, TenantAudit
from core.permissions import Actor, require_admin

SIGNIN, SIGNIN_FAILED = "signin", "signin.failed"
MEMBER_ADDED, ROLE_CHANGED = "member.added", "member.role_changed"
MEMBER_REMOVED, MEMBER_DEACTIVATED = "member.removed", "member.deactivated"
MEMBER_REACTIVATED = "member.reactivated"
USER_DEACTIVATED, USER_REACTIVATED = "user.deactivated", "user.reactivated"
PASSWORD_CHANGED, PROFILE_CHANGED = "password.changed", "profile.changed"
SESSIONS_REVOKED = "sessions.revoked"
TOKEN_CREATED, TOKEN_REVOKED = "token.created", "token.revoked"
RATELIMIT_CHANGED = "ratelimit.changed"
SSO_CHANGED, SSO_REFUSED = "sso.settings_changed", "sso.refused"
TWO_FACTOR_ENABLED, TWO_FACTOR_DISABLED = "two_factor.enabled", "two_factor.disabled"
TWO_FACTOR_FAILED, RECOVERY_CODE_USED = "two_factor.failed", "two_factor.recovery_code_used"
TWO_FACTOR_POLICY = "two_factor.policy_changed"
INVITATION_SENT, INVITATION_RESENT = "invitation.sent", "invitation.resent"
INVITATION_CANCELLED, INVITATION_ACCEPTED = "invitation.cancelled", "invitation.accepted"
RESET_REQUESTED, PASSWORD_RESET = "password.reset_requested", "password.reset"
SIGNIN_LINK_REQUESTED = "signin_link.requested"
PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    """One page of rows, newest first; ``next_before`` continues it (None: the last page)."""

    rows: list[TenantAudit]
    next_before: int | None


def record(
    session: Session,
    tenant_id: uuid.UUID,
    action: str,
    *,
    actor_id: int | None = None,
    actor_email: str = "",
    ip: str = "",
    target_email: str = "",
    details: dict[str, Any] | None = None,
) -> TenantAudit:
    """Add one row to the session (committed with the caller's change)."""
    row = TenantAudit(
        tenant_id=tenant_id,
        action=action,
        actor_id=actor_id,
        actor_email=actor_email,
        ip=(ip or "")[:45],
        target_email=target_email,
        details=details,
        created_at=now(),
    )
    session.add(row)
    return row


def by_actor(
    session: Session,
    actor: Actor,
    action: str,
    *,
    ip: str = "",
    target_email: str = "",
    details: dict[str, Any] | None = None,
) -> TenantAudit:
    """A row for something a signed-in person did in their tenant."""
    return record(
        session,
        actor.tenant_id,
        action,
        actor_id=actor.user_id,
        actor_email=actor.email,
        ip=ip,
        target_email=target_email,
        details=details,
    )


def failed_signin(session: Session, user_id: int, email: str, ip: str) -> None:
    """A wrong password for an existing account: a row in each tenant it belongs to (an unknown
    address belongs to no tenant, so nobody's trail records it)."""
    for tenant_id in session.scalars(
        select(Membership.tenant_id).where(Membership.user_id == user_id)
    ):
        record(session, tenant_id, SIGNIN_FAILED, target_email=email, ip=ip)


def for_user(
    session: Session, user_id: int, email: str, action: str, ip: str, **details: Any
) -> None:
    """A row in each tenant the account belongs to, by the person themselves (a reset)."""
    for tenant_id in session.scalars(
        select(Membership.tenant_id).where(Membership.user_id == user_id)
    ):
        record(
            session,
            tenant_id,
            action,
            actor_id=user_id,
            actor_email=email,
            target_email=email,
            ip=ip,
            details=details or None,
        )


def member_change(
    session: Session, actor: Actor, email: str, old_role: str | None, new_role: str, ip: str
) -> None:
    """A member added (``old_role`` None) or their role changed; nothing when it is unchanged."""
    if old_role == new_role:
        return
    if old_role is None:
        by_actor(
            session, actor, MEMBER_ADDED, ip=ip, target_email=email, details={"role": new_role}
        )
    else:
        by_actor(
            session,
            actor,
            ROLE_CHANGED,
            ip=ip,
            target_email=email,
            details={"old": old_role, "new": new_role},
        )


def page(
    session: Session, actor: Actor, *, before: int | None = None, limit: int = PAGE_SIZE
) -> Page:
    """The tenant's rows, newest first, ``limit`` at a time (keyset paging by id); admins only."""
    require_admin(actor, "read the audit log")
    stmt = select(TenantAudit).where(TenantAudit.tenant_id == actor.tenant_id)
    if before is not None:
        stmt = stmt.where(TenantAudit.id < before)
    rows = list(session.scalars(stmt.order_by(TenantAudit.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows=rows, next_before=rows[-1].id if more and rows else None)
