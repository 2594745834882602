"""The tenant's SLA policies as admins edit them: one per priority (and optionally category),
business calendars validated on save, every edit audited and the tickets it covers re-timed in
the same transaction. Where a tenant has no policy for a priority, the spec's default applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Conflict, Invalid, NotFound
from core.lifecycle import PRIORITIES
from core.models import SlaPolicy
from core.permissions import Actor, require_admin, require_reader
from core.services import events
from core.services.tickets import get_ticket
from core.sla import clock as sla_clock
from core.sla.calendar import BusinessCalendar

REQUIRED_FIELDS = (
    "priority",
    "response_minutes",
    "resolution_minutes",
    "warning_percent",
    "is_active",
)


@dataclass(frozen=True)
class DefaultPolicy:
    """The spec's targets for a priority the tenant has no policy of its own for (24x7)."""

    priority: str
    response_minutes: int
    resolution_minutes: int
    id: None = None
    category: None = None
    calendar: None = None
    warning_percent: int = sla_clock.DEFAULT_WARNING_PERCENT
    is_active: bool = True
    is_default: bool = True


def list_policies(session: Session, actor: Actor) -> list[SlaPolicy | DefaultPolicy]:
    """The tenant's policies by id, then the defaults of the priorities they leave uncovered."""
    require_reader(actor, "SLA policies")
    rows = list(
        session.scalars(
            select(SlaPolicy).where(SlaPolicy.tenant_id == actor.tenant_id).order_by(SlaPolicy.id)
        )
    )
    out: list[SlaPolicy | DefaultPolicy] = list(rows)
    covered = {r.priority for r in rows if r.category is None}
    for priority in PRIORITIES:
        if priority not in covered:
            response, resolution = sla_clock.DEFAULT_TARGETS[priority]
            out.append(DefaultPolicy(priority, response, resolution))
    return out


def _policy(session: Session, actor: Actor, policy_id: int) -> SlaPolicy:
    row = session.scalar(
        select(SlaPolicy).where(SlaPolicy.id == policy_id, SlaPolicy.tenant_id == actor.tenant_id)
    )
    if row is None:
        raise NotFound(f"SLA policy {policy_id} not found")
    return row


def _clash(
    session: Session, actor: Actor, category: str | None, priority: str, exclude: int | None = None
) -> None:
    stmt = select(SlaPolicy.id).where(
        SlaPolicy.tenant_id == actor.tenant_id, SlaPolicy.priority == priority
    )
    stmt = stmt.where(
        SlaPolicy.category.is_(None) if category is None else SlaPolicy.category == category
    )
    found = session.scalar(stmt)
    if found is not None and found != exclude:
        raise Conflict(
            f"a policy for {category or 'every category'} / {priority} exists "
            f"(id {found}); edit it instead"
        )


def _check_targets(response: int, resolution: int) -> None:
    if resolution < response:
        raise Invalid(
            "resolution_minutes must not be shorter than response_minutes",
            field="resolution_minutes",
        )


def _audit(session: Session, actor: Actor, action: str, row: SlaPolicy) -> None:
    events.audit(
        session,
        actor,
        action=action,
        ticket_id=None,
        new=str(row.id),
        details={
            "category": row.category,
            "priority": row.priority,
            "response_minutes": row.response_minutes,
            "resolution_minutes": row.resolution_minutes,
            "calendar": row.calendar,
            "is_active": row.is_active,
        },
    )


def create_policy(session: Session, actor: Actor, fields: dict[str, Any]) -> SlaPolicy:
    """A new policy (``category``, ``priority``, ``response_minutes``, ``resolution_minutes``,
    ``calendar``, ``warning_percent``, ``is_active``); the open tickets it covers are re-timed."""
    require_admin(actor, "edit SLA policies")
    BusinessCalendar.parse(fields["calendar"])
    _check_targets(fields["response_minutes"], fields["resolution_minutes"])
    _clash(session, actor, fields["category"], fields["priority"])
    at = now()
    row = SlaPolicy(tenant_id=actor.tenant_id, created_at=at, updated_at=at, **fields)
    session.add(row)
    session.flush()
    _audit(session, actor, "SLA Policy Created", row)
    sla_clock.recompute_for_policy(session, actor.tenant_id, row.priority, row.category)
    return row


def update_policy(
    session: Session, actor: Actor, policy_id: int, changes: dict[str, Any]
) -> SlaPolicy:
    """Change the fields in ``changes``; tickets it covered and now covers are re-timed."""
    require_admin(actor, "edit SLA policies")
    row = _policy(session, actor, policy_id)
    for name in REQUIRED_FIELDS:
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", field=name)
    if "calendar" in changes:
        BusinessCalendar.parse(changes["calendar"])
    before = (row.priority, row.category)
    after = (changes.get("priority", row.priority), changes.get("category", row.category))
    if after != before:
        _clash(session, actor, after[1], after[0], exclude=row.id)
    _check_targets(
        changes.get("response_minutes", row.response_minutes),
        changes.get("resolution_minutes", row.resolution_minutes),
    )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now()
    session.flush()
    _audit(session, actor, "SLA Policy Changed", row)
    for priority, category in {before, after}:
        sla_clock.recompute_for_policy(session, actor.tenant_id, priority, category)
    return row


def delete_policy(session: Session, actor: Actor, policy_id: int) -> None:
    """Remove a policy; its tickets fall back to the next policy or the default."""
    require_admin(actor, "edit SLA policies")
    row = _policy(session, actor, policy_id)
    scope = (row.priority, row.category)
    _audit(session, actor, "SLA Policy Deleted", row)
    session.delete(row)
    session.flush()
    sla_clock.recompute_for_policy(session, actor.tenant_id, *scope)


def ticket_sla(session: Session, actor: Actor, ticket_id: int) -> dict[str, Any]:
    """A ticket's SLA clock, targets and log (staff and managers; 404 first for unseen tickets)."""
    ticket = get_ticket(session, actor, ticket_id)
    require_reader(actor, "SLA policies")
    return sla_clock.describe(session, ticket)


def applying_policy(
    session: Session, actor: Actor, priority: str, category: str
) -> tuple[SlaPolicy | DefaultPolicy, str]:
    """The policy a ticket of this priority and category gets, and why (the admin's "which
    policy applies?" check): the tenant's policy for both, else its policy for the priority,
    else the spec's default."""
    require_reader(actor, "SLA policies")
    if priority not in PRIORITIES:
        raise Invalid(f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
    rows = [
        p
        for p in list_policies(session, actor)
        if p.priority == priority and p.is_active and p.category in (category, None)
    ]
    for row in rows:
        if row.category == category and not isinstance(row, DefaultPolicy):
            return row, f"the policy for {category} / {priority}"
    for row in rows:
        if not isinstance(row, DefaultPolicy):
            return row, f"the policy for every category / {priority}"
    response, resolution = sla_clock.DEFAULT_TARGETS[priority]
    return DefaultPolicy(priority, response, resolution), "the default targets (no policy)"


def get_policy(session: Session, actor: Actor, policy_id: int) -> SlaPolicy:
    """One of the tenant's own policies (NotFound for another tenant's id)."""
    require_reader(actor, "SLA policies")
    return _policy(session, actor, policy_id)
