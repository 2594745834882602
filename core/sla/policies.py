"""The tenant's SLA policies as admins edit them: one per priority (and optionally agent group
and category), business calendars validated on save, every edit audited and the tickets it covers
re-timed in the same transaction. A ticket gets the most specific active policy of its priority
(group and category, group, category, neither); without one, the spec's default applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Conflict, Invalid, NotFound
from core.groups.service import check_group, group_names
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
    group_id: None = None
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
    covered = {r.priority for r in rows if r.category is None and r.group_id is None}
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


def _scope_name(session: Session, actor: Actor, row: Any) -> str:
    """ "Billing / High", "every category / High", "Tier 2 / every category / High"."""
    name = f"{row.category or 'every category'} / {row.priority}"
    if row.group_id is None:
        return name
    group = group_names(session, actor.tenant_id).get(row.group_id, f"group {row.group_id}")
    return f"{group} / {name}"


def _clash(
    session: Session,
    actor: Actor,
    scope: tuple[str, str | None, int | None],
    exclude: int | None = None,
) -> None:
    priority, category, group_id = scope
    stmt = select(SlaPolicy).where(
        SlaPolicy.tenant_id == actor.tenant_id,
        SlaPolicy.priority == priority,
        SlaPolicy.category.is_(None) if category is None else SlaPolicy.category == category,
        SlaPolicy.group_id.is_(None) if group_id is None else SlaPolicy.group_id == group_id,
    )
    found = session.scalar(stmt)
    if found is not None and found.id != exclude:
        raise Conflict(
            f"a policy for {_scope_name(session, actor, found)} exists (id {found.id}); "
            "edit it instead"
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
            "group_id": row.group_id,
            "category": row.category,
            "priority": row.priority,
            "response_minutes": row.response_minutes,
            "resolution_minutes": row.resolution_minutes,
            "calendar": row.calendar,
            "is_active": row.is_active,
        },
    )


def create_policy(session: Session, actor: Actor, fields: dict[str, Any]) -> SlaPolicy:
    """A new policy (``group_id``, ``category``, ``priority``, ``response_minutes``,
    ``resolution_minutes``, ``calendar``, ``warning_percent``, ``is_active``); the open tickets
    it covers are re-timed."""
    require_admin(actor, "edit SLA policies")
    fields = {"group_id": None, **fields}
    check_group(session, actor.tenant_id, fields["group_id"])
    BusinessCalendar.parse(fields["calendar"])
    _check_targets(fields["response_minutes"], fields["resolution_minutes"])
    _clash(session, actor, (fields["priority"], fields["category"], fields["group_id"]))
    at = now()
    row = SlaPolicy(tenant_id=actor.tenant_id, created_at=at, updated_at=at, **fields)
    session.add(row)
    session.flush()
    _audit(session, actor, "SLA Policy Created", row)
    sla_clock.recompute_for_policy(
        session, actor.tenant_id, row.priority, row.category, group_id=row.group_id
    )
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
    if "group_id" in changes:
        check_group(session, actor.tenant_id, changes["group_id"])
    before = (row.priority, row.category, row.group_id)
    after = (
        changes.get("priority", row.priority),
        changes.get("category", row.category),
        changes.get("group_id", row.group_id),
    )
    if after != before:
        _clash(session, actor, after, exclude=row.id)
    _check_targets(
        changes.get("response_minutes", row.response_minutes),
        changes.get("resolution_minutes", row.resolution_minutes),
    )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now()
    session.flush()
    _audit(session, actor, "SLA Policy Changed", row)
    for priority, category, group_id in {before, after}:
        sla_clock.recompute_for_policy(
            session, actor.tenant_id, priority, category, group_id=group_id
        )
    return row


def delete_policy(session: Session, actor: Actor, policy_id: int) -> None:
    """Remove a policy; its tickets fall back to the next policy or the default."""
    require_admin(actor, "edit SLA policies")
    row = _policy(session, actor, policy_id)
    priority, category, group_id = row.priority, row.category, row.group_id
    _audit(session, actor, "SLA Policy Deleted", row)
    session.delete(row)
    session.flush()
    sla_clock.recompute_for_policy(session, actor.tenant_id, priority, category, group_id=group_id)


def ticket_sla(session: Session, actor: Actor, ticket_id: int) -> dict[str, Any]:
    """A ticket's SLA clock, targets and log (staff and managers; 404 first for unseen tickets)."""
    ticket = get_ticket(session, actor, ticket_id)
    require_reader(actor, "SLA policies")
    return sla_clock.describe(session, ticket)


def applying_policy(
    session: Session, actor: Actor, priority: str, category: str, group_id: int | None = None
) -> tuple[SlaPolicy | DefaultPolicy, str]:
    """The policy a ticket of this priority, category and agent group gets, and why (the
    admin's "which policy applies?" check): the same order as the ticket's clock
    (``clock.policy_for``), else the spec's default."""
    require_reader(actor, "SLA policies")
    if priority not in PRIORITIES:
        raise Invalid(f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
    check_group(session, actor.tenant_id, group_id)
    best: SlaPolicy | None = None
    best_rank = -1
    for row in list_policies(session, actor):
        if isinstance(row, DefaultPolicy) or row.priority != priority or not row.is_active:
            continue
        rank = sla_clock.specificity(row, group_id, category)
        if rank is not None and rank > best_rank:
            best, best_rank = row, rank
    if best is not None:
        return best, f"the policy for {_scope_name(session, actor, best)}"
    response, resolution = sla_clock.DEFAULT_TARGETS[priority]
    return DefaultPolicy(priority, response, resolution), "the default targets (no policy)"


def get_policy(session: Session, actor: Actor, policy_id: int) -> SlaPolicy:
    """One of the tenant's own policies (NotFound for another tenant's id)."""
    require_reader(actor, "SLA policies")
    return _policy(session, actor, policy_id)
