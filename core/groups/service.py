"""Agent groups: admins create them and choose their members and tiers; agents move tickets
between groups and escalate a ticket to the next tier. Every change is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from core.errors import Conflict, Invalid, NotFound
from core.groups.models import AgentGroup, AgentGroupMember
from core.models import Membership, OutboxEvent, SlaPolicy, Ticket, User
from core.permissions import ADMIN, AGENT, Actor, require_admin, require_staff
from core.services import events

# The escalation target that moves a ticket up the ladder of tiers (core.automation.escalation).
TIER_TARGET = "tier"
MAX_NAME = 80
MAX_DESCRIPTION = 1000
MAX_TIER = 99


@dataclass(frozen=True)
class GroupView:
    id: int
    name: str
    description: str
    tier: int | None
    member_ids: tuple[int, ...]
    open_tickets: int


def _views(session: Session, tenant_id: uuid.UUID, groups: list[AgentGroup]) -> list[GroupView]:
    from core import lifecycle

    ids = [g.id for g in groups]
    members: dict[int, list[int]] = {i: [] for i in ids}
    for group_id, user_id in session.execute(
        select(AgentGroupMember.group_id, AgentGroupMember.user_id)
        .where(AgentGroupMember.group_id.in_(ids))
        .order_by(AgentGroupMember.user_id)
    ):
        members[group_id].append(user_id)
    load = dict(
        session.execute(
            select(Ticket.group_id, func.count())
            .where(
                Ticket.tenant_id == tenant_id,
                Ticket.group_id.in_(ids),
                Ticket.status.in_(lifecycle.OPEN_STATUSES),
            )
            .group_by(Ticket.group_id)
        ).all()
    )
    return [
        GroupView(
            id=g.id,
            name=g.name,
            description=g.description,
            tier=g.tier,
            member_ids=tuple(members[g.id]),
            open_tickets=int(load.get(g.id, 0)),
        )
        for g in groups
    ]


def _ordered(tenant_id: uuid.UUID) -> Select[Any]:
    # Tiers first (lowest tier first), then groups without a tier, by name.
    return (
        select(AgentGroup)
        .where(AgentGroup.tenant_id == tenant_id)
        .order_by(AgentGroup.tier.is_(None), AgentGroup.tier, AgentGroup.name)
    )


def list_groups(session: Session, actor: Actor) -> list[GroupView]:
    """The tenant's groups, the tiers in order first, with members and open tickets (3 queries)."""
    require_staff(actor, "list agent groups")
    return _views(session, actor.tenant_id, list(session.scalars(_ordered(actor.tenant_id))))


def get_group(session: Session, actor: Actor, group_id: int) -> GroupView:
    require_staff(actor, "read agent groups")
    row = _row(session, actor.tenant_id, group_id)
    return _views(session, actor.tenant_id, [row])[0]


def group_names(session: Session, tenant_id: uuid.UUID) -> dict[int, str]:
    """{id: name} of the tenant's groups (one query), for lists and filters."""
    return {g.id: g.name for g in session.scalars(_ordered(tenant_id))}


def groups_of(session: Session, tenant_id: uuid.UUID, user_id: int) -> list[int]:
    """The ids of the groups a person is a member of."""
    return list(
        session.scalars(
            select(AgentGroupMember.group_id).where(
                AgentGroupMember.tenant_id == tenant_id, AgentGroupMember.user_id == user_id
            )
        )
    )


def member_ids(session: Session, group_id: int) -> list[int]:
    return list(
        session.scalars(
            select(AgentGroupMember.user_id)
            .where(AgentGroupMember.group_id == group_id)
            .order_by(AgentGroupMember.user_id)
        )
    )


def _row(session: Session, tenant_id: uuid.UUID, group_id: int) -> AgentGroup:
    row = session.scalar(
        select(AgentGroup).where(AgentGroup.id == group_id, AgentGroup.tenant_id == tenant_id)
    )
    if row is None:
        raise NotFound(f"no agent group {group_id} in this tenant")
    return row


def check_group(session: Session, tenant_id: uuid.UUID, group_id: int | None) -> None:
    """A ticket's group must be one of the tenant's (None: no group)."""
    if group_id is None:
        return
    if not isinstance(group_id, int) or isinstance(group_id, bool) or not 0 < group_id < 2**31:
        raise Invalid("group_id must be an agent group id", field="group_id")
    found = session.scalar(
        select(AgentGroup.id).where(AgentGroup.id == group_id, AgentGroup.tenant_id == tenant_id)
    )
    if found is None:
        raise Invalid(f"no agent group {group_id} in this tenant", field="group_id")


def _clean(
    session: Session,
    actor: Actor,
    *,
    name: str,
    description: str,
    tier: int | None,
    members: list[int],
    group_id: int | None,
) -> tuple[str, str, list[int]]:
    name = " ".join(name.split())
    if not name:
        raise Invalid("a group needs a name", field="name")
    if len(name) > MAX_NAME:
        raise Invalid(f"a group name is at most {MAX_NAME} characters", field="name")
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"a description is at most {MAX_DESCRIPTION} characters", field="description")
    if tier is not None and not 1 <= tier <= MAX_TIER:
        raise Invalid(f"a tier is from 1 to {MAX_TIER}, or empty", field="tier")
    taken = session.scalar(
        select(AgentGroup.id).where(
            AgentGroup.tenant_id == actor.tenant_id,
            func.lower(AgentGroup.name) == name.lower(),
            *([AgentGroup.id != group_id] if group_id is not None else []),
        )
    )
    if taken is not None:
        raise Invalid(f"there is already a group named {name!r}", field="name")
    wanted = sorted(set(members))
    staff = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.tenant_id == actor.tenant_id,
                Membership.user_id.in_(wanted),
                Membership.role.in_((AGENT, ADMIN)),
                Membership.deactivated_at.is_(None),
            )
        )
    )
    strangers = [m for m in wanted if m not in staff]
    if strangers:
        raise Invalid(
            f"members must be agents or admins of this tenant (not {', '.join(map(str, strangers))})",
            field="members",
        )
    return name, description.strip(), wanted


def _audit(
    session: Session, actor: Actor, action: str, new: str, details: dict[str, object]
) -> None:
    events.audit(session, actor, action=action, ticket_id=None, new=new, details=details)


def _set_members(session: Session, group: AgentGroup, wanted: list[int]) -> None:
    session.execute(delete(AgentGroupMember).where(AgentGroupMember.group_id == group.id))
    session.add_all(
        AgentGroupMember(group_id=group.id, user_id=u, tenant_id=group.tenant_id) for u in wanted
    )


def create_group(
    session: Session,
    actor: Actor,
    *,
    name: str,
    description: str = "",
    tier: int | None = None,
    members: list[int] | None = None,
) -> AgentGroup:
    """A new group (admins); the caller commits."""
    require_admin(actor, "create agent groups")
    name, description, wanted = _clean(
        session,
        actor,
        name=name,
        description=description,
        tier=tier,
        members=members or [],
        group_id=None,
    )
    row = AgentGroup(tenant_id=actor.tenant_id, name=name, description=description, tier=tier)
    session.add(row)
    session.flush()
    _set_members(session, row, wanted)
    _audit(
        session,
        actor,
        "Group Created",
        str(row.id),
        {"name": name, "tier": tier, "members": wanted},
    )
    return row


def update_group(
    session: Session,
    actor: Actor,
    group_id: int,
    *,
    name: str,
    description: str,
    tier: int | None,
    members: list[int],
) -> AgentGroup:
    """Rename, re-tier and set the members of a group (admins); the caller commits."""
    require_admin(actor, "change agent groups")
    row = _row(session, actor.tenant_id, group_id)
    name, description, wanted = _clean(
        session,
        actor,
        name=name,
        description=description,
        tier=tier,
        members=members,
        group_id=group_id,
    )
    row.name, row.description, row.tier = name, description, tier
    _set_members(session, row, wanted)
    _audit(
        session,
        actor,
        "Group Changed",
        str(row.id),
        {"name": name, "tier": tier, "members": wanted},
    )
    return row


def delete_group(session: Session, actor: Actor, group_id: int) -> None:
    """Delete a group (admins): its tickets return to the tenant's pool (no group). Refused
    (409) while it owns open tickets or an SLA policy names it."""
    from core import lifecycle

    require_admin(actor, "delete agent groups")
    row = _row(session, actor.tenant_id, group_id)
    open_count = session.scalar(
        select(func.count()).where(
            Ticket.tenant_id == actor.tenant_id,
            Ticket.group_id == group_id,
            Ticket.status.in_(lifecycle.OPEN_STATUSES),
        )
    )
    if open_count:
        raise Conflict(
            f"{row.name} still owns {open_count} open tickets: move them to another group first"
        )
    # Its SLA policies would vanish with it and its tickets' targets change unseen: refused.
    policy_ids = list(
        session.scalars(
            select(SlaPolicy.id)
            .where(SlaPolicy.tenant_id == actor.tenant_id, SlaPolicy.group_id == group_id)
            .order_by(SlaPolicy.id)
        )
    )
    if policy_ids:
        raise Conflict(
            f"{row.name} has SLA policies (id {', '.join(map(str, policy_ids))}): "
            "delete them or give them another group first"
        )
    _audit(session, actor, "Group Deleted", str(row.id), {"name": row.name})
    session.delete(row)


def next_tier(session: Session, tenant_id: uuid.UUID, group_id: int | None) -> AgentGroup | None:
    """The group a ticket of ``group_id`` escalates to: the lowest tier above its group's tier;
    from no group, or from a group without a tier, the lowest tier there is (not its own)."""
    current: int | None = None
    if group_id is not None:
        current = session.scalar(
            select(AgentGroup.tier).where(
                AgentGroup.id == group_id, AgentGroup.tenant_id == tenant_id
            )
        )
    stmt = select(AgentGroup).where(AgentGroup.tenant_id == tenant_id, AgentGroup.tier.is_not(None))
    if current is not None:
        stmt = stmt.where(AgentGroup.tier > current)
    elif group_id is not None:
        stmt = stmt.where(AgentGroup.id != group_id)
    return session.scalar(stmt.order_by(AgentGroup.tier, AgentGroup.id).limit(1))


def escalate_to_tier(
    session: Session, actor: Actor, ticket: Ticket, *, note: str = ""
) -> tuple[AgentGroup, OutboxEvent]:
    """Move the ticket to the next tier's group, unassigned, so that the group takes it; the
    escalation is audited and emitted (the new group's agents are told); the caller commits."""
    from core.services.tickets import Changes, update_ticket

    require_staff(actor, "escalate tickets")
    target = next_tier(session, actor.tenant_id, ticket.group_id)
    if target is None:
        raise Invalid("there is no higher tier to escalate this ticket to", field="target")
    update_ticket(
        session,
        actor,
        ticket,
        Changes(group_id=target.id, assigned_to=None, extra={"escalated_to_tier": target.tier}),
    )
    events.audit(
        session,
        actor,
        action="Tier Escalation",
        ticket_id=ticket.id,
        new=target.name,
        details={"tier": target.tier, **({"note": note} if note else {})},
    )
    sent = events.emit(
        session,
        actor,
        events.TICKET_ESCALATED,
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        payload={"target": TIER_TARGET, "group": target.name, "tier": target.tier, "note": note},
    )
    return target, sent


def group_agents(session: Session, tenant_id: uuid.UUID, group_id: int) -> list[int]:
    """The active agents and admins of a group, by user id."""
    return list(
        session.scalars(
            select(AgentGroupMember.user_id)
            .join(
                Membership,
                (Membership.user_id == AgentGroupMember.user_id)
                & (Membership.tenant_id == AgentGroupMember.tenant_id),
            )
            .join(User, User.id == AgentGroupMember.user_id)
            .where(
                AgentGroupMember.group_id == group_id,
                AgentGroupMember.tenant_id == tenant_id,
                Membership.role.in_((AGENT, ADMIN)),
                Membership.deactivated_at.is_(None),
                User.is_active.is_(True),
            )
            .order_by(AgentGroupMember.user_id)
        )
    )
