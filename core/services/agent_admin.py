"""Agents as assignment sees them: skills per category, a limit of open tickets, and whether
they are available for new tickets. Admins set all three; an agent switches their own
availability. Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import lifecycle
from core.automation.rule_admin import tenant_audit
from core.errors import Invalid, NotFound
from core.models import Membership, Ticket, User
from core.permissions import ADMIN, AGENT, Actor, require_admin, require_staff

MAX_LEVEL = 5


@dataclass(frozen=True)
class AgentView:
    user_id: int
    name: str
    email: str
    role: str
    skills: dict[str, int]
    max_open_tickets: int | None
    available: bool
    open_tickets: int


def _levels(skills: dict[str, Any] | None) -> dict[str, int]:
    """Skills as a level per category (the ``{"categories": [...]}`` form reads as level 1)."""
    skills = skills or {}
    listed = skills.get("categories")
    out = {c: 1 for c in listed} if isinstance(listed, list) else {}
    for category in lifecycle.CATEGORIES:
        value = skills.get(category)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            out[category] = int(value)
    return {c: n for c, n in out.items() if c in lifecycle.CATEGORIES}


def agents(session: Session, actor: Actor) -> list[AgentView]:
    """The tenant's active agents and admins with their open-ticket load (two queries)."""
    require_staff(actor, "list agents")
    rows = session.execute(
        select(Membership, User.full_name, User.email)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.tenant_id == actor.tenant_id,
            Membership.role.in_((AGENT, ADMIN)),
            Membership.deactivated_at.is_(None),
        )
        .order_by(User.full_name, User.email)
    ).all()
    load = dict(
        session.execute(
            select(Ticket.assigned_to, func.count())
            .where(
                Ticket.tenant_id == actor.tenant_id,
                Ticket.assigned_to.in_([m.user_id for m, _, _ in rows]),
                Ticket.status.in_(lifecycle.OPEN_STATUSES),
            )
            .group_by(Ticket.assigned_to)
        ).all()
    )
    return [
        AgentView(
            user_id=m.user_id,
            name=name or email.split("@")[0],
            email=email,
            role=m.role,
            skills=_levels(m.skills),
            max_open_tickets=m.max_open_tickets,
            available=m.available,
            open_tickets=int(load.get(m.user_id, 0)),
        )
        for m, name, email in rows
    ]


def _member(session: Session, actor: Actor, user_id: int) -> Membership:
    row = session.scalar(
        select(Membership).where(
            Membership.tenant_id == actor.tenant_id,
            Membership.user_id == user_id,
            Membership.role.in_((AGENT, ADMIN)),
            Membership.deactivated_at.is_(None),
        )
    )
    if row is None:
        raise NotFound(f"no agent {user_id} in this tenant")
    return row


def set_agent(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    skills: dict[str, int],
    max_open_tickets: int | None,
    available: bool,
) -> Membership:
    """An admin sets an agent's skill levels (0 to 5 per category), open-ticket limit (None for
    no limit) and availability."""
    require_admin(actor, "change agents' skills and capacity")
    row = _member(session, actor, user_id)
    unknown = set(skills) - set(lifecycle.CATEGORIES)
    if unknown:
        raise Invalid(
            f"unknown categories {', '.join(sorted(unknown))}: use {', '.join(lifecycle.CATEGORIES)}",
            field="skills",
        )
    for category, level in skills.items():
        if not 0 <= level <= MAX_LEVEL:
            raise Invalid(f"{category}: a level is from 0 to {MAX_LEVEL}", field="skills")
    if max_open_tickets is not None and not 1 <= max_open_tickets <= 10_000:
        raise Invalid(
            "the open-ticket limit is from 1 to 10000, or empty", field="max_open_tickets"
        )
    row.skills = {c: n for c, n in skills.items() if n > 0}
    row.max_open_tickets = max_open_tickets
    row.available = available
    tenant_audit(
        session,
        actor,
        "Agent Changed",
        str(user_id),
        {"skills": row.skills, "max_open_tickets": max_open_tickets, "available": available},
    )
    return row


def set_own_availability(session: Session, actor: Actor, available: bool) -> None:
    """An agent or admin takes themself in or out of assignment."""
    require_staff(actor, "set availability")
    assert actor.user_id is not None
    row = _member(session, actor, actor.user_id)
    if row.available != available:
        row.available = available
        tenant_audit(session, actor, "Availability", str(actor.user_id), {"available": available})
