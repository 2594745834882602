"""Offboarding: deactivate, reactivate or remove a member, change a role, hand over their tickets.

Two levels of "deactivated" (a person may belong to several tenants, and a tenant admin must
never lock them out of another):

* a tenant admin deactivates the **membership** (``tenant_memberships.deactivated_at``): the
  person's sessions and tokens in this tenant stop counting on the next request, they leave this
  tenant's assignment rotation, and their other tenants are untouched;
* the operator (``hub user deactivate EMAIL`` without ``--tenant``) deactivates the **account**
  (``auth_user.is_active``): nothing of theirs counts anywhere.

Removal deletes the membership and revokes the person's sessions and tokens in the tenant.
Open tickets assigned to the person are unassigned, or reassigned to an active agent or admin
the admin names, one ticket at a time through ``tickets.update_ticket`` (so every ticket's own
audit trail records the change). Nobody removes or deactivates themselves or the tenant's last
active admin (``Conflict``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import lifecycle
from core.clock import now
from core.errors import Conflict, Invalid, NotFound
from core.models import ApiToken, Membership, Ticket, User
from core.permissions import ADMIN, AGENT, ROLES, Actor, require_admin, system_actor
from core.services import audit, links, sessions, tickets


@dataclass(frozen=True)
class Handover:
    """What happened to the person's open tickets."""

    tickets: int
    reassigned_to: int | None


def _member(session: Session, actor: Actor, user_id: int) -> tuple[Membership, User]:
    row = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == actor.tenant_id, Membership.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound(f"user {user_id} is not a member of this tenant")
    return row[0], row[1]


def _other_active_admins(session: Session, tenant_id: uuid.UUID, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.tenant_id == tenant_id,
                Membership.role == ADMIN,
                Membership.user_id != user_id,
                Membership.deactivated_at.is_(None),
                User.is_active.is_(True),
            )
        )
        or 0
    )


def _guard(session: Session, actor: Actor, member: Membership, what: str) -> None:
    if actor.user_id is not None and member.user_id == actor.user_id:
        raise Conflict(f"you cannot {what} yourself; ask another admin")
    if member.role == ADMIN and not _other_active_admins(session, actor.tenant_id, member.user_id):
        raise Conflict(f"you cannot {what} the last admin of this organisation")


def _handover(session: Session, actor: Actor, user_id: int, reassign_to: int | None) -> Handover:
    if reassign_to is not None:
        if reassign_to == user_id:
            raise Invalid("choose someone else to take over the tickets", field="reassign_to")
        target = session.execute(
            select(Membership.role)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.tenant_id == actor.tenant_id,
                Membership.user_id == reassign_to,
                Membership.deactivated_at.is_(None),
                User.is_active.is_(True),
            )
        ).scalar()
        if target not in (AGENT, ADMIN):
            raise Invalid(
                "tickets can only go to an active agent or admin of this organisation",
                field="reassign_to",
            )
    open_tickets = list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.tenant_id == actor.tenant_id,
                Ticket.assigned_to == user_id,
                Ticket.status.in_(lifecycle.OPEN_STATUSES),
            )
            .order_by(Ticket.id)
        )
    )
    for ticket in open_tickets:
        tickets.update_ticket(
            session,
            actor,
            ticket,
            tickets.Changes(assigned_to=reassign_to, extra={"reason": "offboarding"}),
        )
    return Handover(tickets=len(open_tickets), reassigned_to=reassign_to)


def _details(handover: Handover, **more: object) -> dict[str, object]:
    return {"tickets": handover.tickets, "reassigned_to": handover.reassigned_to, **more}


def deactivate(
    session: Session, actor: Actor, user_id: int, *, reassign_to: int | None = None, ip: str = ""
) -> Handover:
    """Deactivate a membership: sessions here revoked, tokens here refused (until reactivated),
    out of the rotation, open tickets handed over."""
    require_admin(actor, "deactivate members")
    member, user = _member(session, actor, user_id)
    if member.deactivated_at is not None:
        raise Conflict(f"{user.email} is already deactivated")
    _guard(session, actor, member, "deactivate")
    member.deactivated_at = now()
    ended = sessions.revoke_for_user(session, user.id, tenant_id=actor.tenant_id)
    links.revoke_for_user(session, user.id, tenant_id=actor.tenant_id)
    handover = _handover(session, actor, user.id, reassign_to)
    audit.by_actor(
        session,
        actor,
        audit.MEMBER_DEACTIVATED,
        ip=ip,
        target_email=user.email,
        details=_details(handover, sessions=ended),
    )
    return handover


def reactivate(session: Session, actor: Actor, user_id: int, *, ip: str = "") -> None:
    """Restore a deactivated membership (the person signs in again; their tokens count again)."""
    require_admin(actor, "reactivate members")
    member, user = _member(session, actor, user_id)
    if member.deactivated_at is None:
        if not user.is_active:
            raise Conflict(
                f"{user.email} is deactivated everywhere by the operator; only the operator "
                "can reactivate the account"
            )
        raise Conflict(f"{user.email} is not deactivated")
    member.deactivated_at = None
    audit.by_actor(session, actor, audit.MEMBER_REACTIVATED, ip=ip, target_email=user.email)


def remove(
    session: Session, actor: Actor, user_id: int, *, reassign_to: int | None = None, ip: str = ""
) -> Handover:
    """Remove a member from the tenant: tickets handed over, sessions and tokens here revoked,
    the membership deleted (the account and its other tenants stay)."""
    require_admin(actor, "remove members")
    member, user = _member(session, actor, user_id)
    _guard(session, actor, member, "remove")
    handover = _handover(session, actor, user.id, reassign_to)
    ended = sessions.revoke_for_user(session, user.id, tenant_id=actor.tenant_id)
    links.revoke_for_user(session, user.id, tenant_id=actor.tenant_id)
    revoked = session.execute(
        update(ApiToken)
        .where(
            ApiToken.tenant_id == actor.tenant_id,
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=now())
    ).rowcount  # type: ignore[attr-defined]
    role = member.role
    session.delete(member)
    session.flush()
    audit.by_actor(
        session,
        actor,
        audit.MEMBER_REMOVED,
        ip=ip,
        target_email=user.email,
        details=_details(handover, role=role, sessions=ended, tokens=int(revoked)),
    )
    return handover


def set_role(session: Session, actor: Actor, user_id: int, role: str, *, ip: str = "") -> str:
    """Change a member's role (audited); an admin cannot demote themselves or the last admin."""
    require_admin(actor, "change roles")
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", field="role")
    member, user = _member(session, actor, user_id)
    old = member.role
    if old == role:
        return role
    if old == ADMIN:
        _guard(session, actor, member, "take the admin role from")
    member.role = role
    audit.member_change(session, actor, user.email, old, role, ip)
    return role


def deactivate_account(session: Session, user: User) -> list[uuid.UUID]:
    """The operator's deactivation of an account everywhere: every session ends, every token
    and session is refused, the person leaves every rotation and their open tickets are
    unassigned in each tenant (audited there); ``Conflict`` when they are some tenant's last
    active admin. Returns the tenants concerned."""
    if not user.is_active:
        raise Conflict(f"{user.email} is already deactivated")
    tenant_ids = list(
        session.scalars(
            select(Membership.tenant_id).where(
                Membership.user_id == user.id, Membership.role == ADMIN
            )
        )
    )
    for tenant_id in tenant_ids:
        if not _other_active_admins(session, tenant_id, user.id):
            raise Conflict(f"{user.email} is the last admin of a tenant ({tenant_id})")
    user.is_active = False
    sessions.revoke_all_for_user(session, user.id)
    links.revoke_for_user(session, user.id)
    concerned = list(
        session.scalars(select(Membership.tenant_id).where(Membership.user_id == user.id))
    )
    for tenant_id in concerned:
        actor = system_actor(tenant_id)
        handover = _handover(session, actor, user.id, None)
        audit.by_actor(
            session,
            actor,
            audit.USER_DEACTIVATED,
            target_email=user.email,
            details=_details(handover, via="cli"),
        )
    return concerned


def reactivate_account(session: Session, user: User) -> None:
    """The operator's reactivation of an account (memberships deactivated by a tenant admin
    stay deactivated)."""
    if user.is_active:
        raise Conflict(f"{user.email} is active")
    user.is_active = True
    for tenant_id in session.scalars(
        select(Membership.tenant_id).where(Membership.user_id == user.id)
    ):
        audit.by_actor(
            session,
            system_actor(tenant_id),
            audit.USER_REACTIVATED,
            target_email=user.email,
            details={"via": "cli"},
        )
