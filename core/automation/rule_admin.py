"""The tenant's automation settings as admins edit them: rules (validated, audited) and the
built-in switches (assignment mode, auto-close hours, auto-respond).

Staff and managers read them; only admins change them. Every change is audited with the rule's
id; a rule whose trigger or quiet time changes is swept again from the start.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.automation import rules
from core.automation.escalation import check_rule_targets
from core.clock import now
from core.errors import Conflict, Invalid, NotFound
from core.models import AutomationRule, AutomationSettings
from core.permissions import Actor, require_admin, require_reader
from core.services import events
from core.types import HubContext

REQUIRED_RULE_FIELDS = ("name", "trigger", "conditions", "actions", "is_active", "position")


def tenant_audit(
    session: Session, actor: Actor, action: str, new: str, details: dict[str, Any]
) -> None:
    """Audit a change of the tenant's settings (no ticket)."""
    events.audit(session, actor, action=action, ticket_id=None, new=new, details=details)


def name_free(
    session: Session, model: Any, actor: Actor, name: str, exclude: int | None = None
) -> None:
    """Rules and macros have names unique in their tenant."""
    found = session.scalar(
        select(model.id).where(model.tenant_id == actor.tenant_id, model.name == name)
    )
    if found is not None and found != exclude:
        raise Conflict(f"the name {name!r} is taken (id {found})")


def refuse_nulls(changes: dict[str, Any], names: tuple[str, ...]) -> None:
    """A partial update may leave a field out but not set a required one to null."""
    for name in names:
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", field=name)


def list_rules(session: Session, actor: Actor) -> list[AutomationRule]:
    """The tenant's rules in the order they run."""
    require_reader(actor, "automation rules")
    return list(
        session.scalars(
            select(AutomationRule)
            .where(AutomationRule.tenant_id == actor.tenant_id)
            .order_by(AutomationRule.position, AutomationRule.id)
        )
    )


def _rule(session: Session, actor: Actor, rule_id: int) -> AutomationRule:
    row = session.scalar(
        select(AutomationRule).where(
            AutomationRule.id == rule_id, AutomationRule.tenant_id == actor.tenant_id
        )
    )
    if row is None:
        raise NotFound(f"rule {rule_id} not found")
    return row


def get_rule(session: Session, actor: Actor, rule_id: int) -> AutomationRule:
    """One rule of the tenant."""
    require_reader(actor, "automation rules")
    return _rule(session, actor, rule_id)


def create_rule(
    session: Session, hub: HubContext, actor: Actor, fields: dict[str, Any]
) -> AutomationRule:
    """A new rule (``name``, ``trigger``, ``hours``, ``conditions``, ``actions``, ``is_active``,
    ``position``), validated as a whole; escalate actions name a target the tenant is offered."""
    require_admin(actor, "edit automation rules")
    rules.validate_trigger(fields["trigger"], fields["hours"])
    conditions = rules.validate_conditions(fields["conditions"])
    actions = rules.validate_actions(session, actor.tenant_id, fields["actions"])
    check_rule_targets(hub, actor.tenant_id, actions)
    name_free(session, AutomationRule, actor, fields["name"])
    at = now()
    row = AutomationRule(
        tenant_id=actor.tenant_id,
        name=fields["name"],
        trigger=fields["trigger"],
        hours=fields["hours"] if fields["trigger"] == "time.no_update" else None,
        conditions=conditions,
        actions=actions,
        is_active=fields["is_active"],
        position=fields["position"],
        created_by=actor.user_id,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    tenant_audit(session, actor, "Rule Created", str(row.id), {"name": row.name})
    return row


def update_rule(
    session: Session, hub: HubContext, actor: Actor, rule_id: int, changes: dict[str, Any]
) -> AutomationRule:
    """Change the fields in ``changes``; the rule is validated again as it will be."""
    require_admin(actor, "edit automation rules")
    row = _rule(session, actor, rule_id)
    changes = dict(changes)
    refuse_nulls(changes, REQUIRED_RULE_FIELDS)
    trigger = changes.get("trigger", row.trigger)
    hours = changes.get("hours", row.hours)
    rules.validate_trigger(trigger, hours)
    if "conditions" in changes:
        changes["conditions"] = rules.validate_conditions(changes["conditions"])
    if "actions" in changes:
        changes["actions"] = rules.validate_actions(session, actor.tenant_id, changes["actions"])
        check_rule_targets(hub, actor.tenant_id, changes["actions"])
    if "name" in changes:
        name_free(session, AutomationRule, actor, changes["name"], exclude=row.id)
    if trigger != "time.no_update":
        changes["hours"] = None
    if trigger != row.trigger or changes.get("hours", row.hours) != row.hours:
        row.swept_until, row.swept_id = None, None
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now()
    tenant_audit(session, actor, "Rule Changed", str(row.id), {"changes": sorted(changes)})
    return row


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    """Delete a rule; its past actions stay in the audit trail."""
    require_admin(actor, "edit automation rules")
    row = _rule(session, actor, rule_id)
    tenant_audit(session, actor, "Rule Deleted", str(row.id), {"name": row.name})
    session.delete(row)


def get_settings(session: Session, actor: Actor) -> AutomationSettings:
    """The built-in automations of the tenant (defaults, unsaved, if it never changed them)."""
    require_reader(actor, "automation settings")
    return rules.settings_for(session, actor.tenant_id, create=False)


def change_settings(session: Session, actor: Actor, changes: dict[str, Any]) -> AutomationSettings:
    """Change the built-in automations named in ``changes``."""
    require_admin(actor, "change automation settings")
    row = rules.settings_for(session, actor.tenant_id)
    if "assign_mode" in changes:
        rules.validate_assign_mode(changes["assign_mode"])
    refuse_nulls(changes, ("auto_respond",))
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now()
    tenant_audit(session, actor, "Automation Settings", "", {"changes": changes})
    return row


PREVIEW_SCAN = 500
PREVIEW_SHOWN = 10


def preview_matches(
    session: Session, actor: Actor, conditions: Any
) -> tuple[int, list[tuple[int, str]], int]:
    """Which open tickets the conditions match now (the event-only conditions, such as
    ``by_requester``, hold for no ticket outside an event): (matches, the first few (id,
    subject), how many open tickets were looked at, newest first, at most ``PREVIEW_SCAN``)."""
    from core import lifecycle
    from core.models import Ticket

    require_reader(actor, "automation rules")
    checked = rules.validate_conditions(conditions)
    rows = list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.tenant_id == actor.tenant_id,
                Ticket.status.in_(lifecycle.OPEN_STATUSES),
            )
            .order_by(Ticket.id.desc())
            .limit(PREVIEW_SCAN)
        )
    )
    tags = None
    if any(c["field"] == "tags" for c in checked):
        from core.tags.service import tags_for

        tags = tags_for(session, [t.id for t in rows])  # one query, not one per ticket
    hits = [t for t in rows if rules.matches(checked, t, tags=tags)]
    return len(hits), [(t.id, t.subject) for t in hits[:PREVIEW_SHOWN]], len(rows)


def move_rule(session: Session, actor: Actor, rule_id: int, step: int) -> None:
    """Move a rule one place earlier (``step`` -1) or later (+1) in the order rules run; the
    positions are renumbered 1, 2, 3 ... so that they stay distinct."""
    require_admin(actor, "reorder automation rules")
    ordered = list_rules(session, actor)
    index = next((i for i, r in enumerate(ordered) if r.id == rule_id), None)
    if index is None:
        raise NotFound(f"rule {rule_id} not found")
    target = index + (1 if step > 0 else -1)
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for n, row in enumerate(ordered, start=1):
        row.position = n
    tenant_audit(session, actor, "Rule Moved", str(rule_id), {"step": 1 if step > 0 else -1})
