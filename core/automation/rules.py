"""Automation rules: stored per tenant as data, run in the transaction of the event that fired them.

A rule has a trigger (``ticket.created``, ``ticket.updated``, ``comment.added`` or the time-based
``time.no_update`` with ``hours``), conditions on ticket fields (all must hold) and actions.
The ``tags`` condition ("has tag": ``{"field": "tags", "op": "contains", "value": "vip"}``,
also ``not_contains``, ``is_set``, ``is_not_set``) reads the ticket's tags; the ``add_tag`` and
``remove_tag`` actions (``{"type": "add_tag", "tag": "vip"}``) change them.
Everything a rule does is done by the system actor through the ordinary services, and audited
with an ``Automation`` row that names the rule.

Loops: while a rule's actions run, the rule is on a context-local stack; events those actions
emit never fire a rule that is on the stack (no A -> A, no A -> B -> A), and carry the rule's id.
Time rules claim the quiet period their own change starts (see ``core.automation.sweep``).

Built in and on by default (``support_automation_settings``): auto-assignment of new tickets by
round robin or by skill, among available agents under their open-ticket limit. It runs just after
the ticket's commit (the built-in automation plugin, on ``ticket.created`` from the outbox), so
creating a ticket never waits on the assignment lock and answers with status New.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import lifecycle
from core.automation.models import ASSIGN_MODES, TRIGGERS
from core.cache import TenantCache, invalidate_on_change
from core.clock import now
from core.errors import HubError, Invalid
from core.models import (
    AgentGroup,
    AgentGroupMember,
    AutomationRule,
    AutomationSettings,
    Membership,
    Ticket,
    User,
)
from core.permissions import ADMIN, AGENT, Actor, system_actor
from core.services import events
from core.textcap import search_text

EVENT_TRIGGERS = ("ticket.created", "ticket.updated", "comment.added")
TICKET_FIELDS = (
    "status",
    "priority",
    "category",
    "channel",
    "assigned_to",
    "group_id",
    "created_by",
    "subject",
    "description",
    "sla_breached",
    "tags",
)
TAG_OPS = ("contains", "not_contains", "is_set", "is_not_set")
EVENT_FIELDS = ("by_requester", "is_internal", "changed")
OPS = ("eq", "ne", "in", "not_in", "contains", "not_contains", "is_set", "is_not_set")
ACTIONS = (
    "assign",
    "set_priority",
    "set_status",
    "set_category",
    "set_group",
    "internal_note",
    "macro",
    "notify",
    "escalate",
    "add_tag",
    "remove_tag",
)
AUTOMATION_EMAIL = "automation@support-hub.invalid"
MAX_ACTIONS = 20
MAX_CONDITIONS = 20

_running: contextvars.ContextVar[tuple[int | str, ...]] = contextvars.ContextVar(
    "hub_rules_running", default=()
)


@contextmanager
def running(rule_key: int | str) -> Iterator[None]:
    """Mark a rule as acting, so that the events it causes do not fire it again."""
    token = _running.set((*_running.get(), rule_key))
    try:
        yield
    finally:
        _running.reset(token)


def is_running(rule_key: int | str) -> bool:
    """Whether the rule is acting now, further up this call stack."""
    return rule_key in _running.get()


# ---------------------------------------------------------------- validation


def _need(cond: bool, message: str, field: str) -> None:
    if not cond:
        raise Invalid(message, field=field)


def validate_conditions(conditions: Any) -> list[dict[str, Any]]:
    """Check a rule's conditions; returns them normalised."""
    _need(isinstance(conditions, list), "conditions must be a list", "conditions")
    _need(len(conditions) <= MAX_CONDITIONS, f"at most {MAX_CONDITIONS} conditions", "conditions")
    out = []
    for cond in conditions:
        _need(
            isinstance(cond, dict), "each condition is an object {field, op, value}", "conditions"
        )
        name, op = cond.get("field"), cond.get("op", "eq")
        _need(
            name in TICKET_FIELDS + EVENT_FIELDS,
            f"condition field must be one of {', '.join(TICKET_FIELDS + EVENT_FIELDS)}",
            "conditions",
        )
        _need(op in OPS, f"condition op must be one of {', '.join(OPS)}", "conditions")
        value = cond.get("value")
        if op in ("in", "not_in"):
            _need(isinstance(value, list), f"op {op} needs a list value", "conditions")
        if name == "tags":
            from core.tags.service import normalise

            _need(
                op in TAG_OPS, f"a tags condition's op is one of {', '.join(TAG_OPS)}", "conditions"
            )
            if op in ("contains", "not_contains"):
                value = normalise(value, "conditions")
        for allowed, field in (
            (lifecycle.STATUSES, "status"),
            (lifecycle.PRIORITIES, "priority"),
            (lifecycle.CATEGORIES, "category"),
        ):
            if name == field and op in ("eq", "ne", "in", "not_in"):
                values = value if isinstance(value, list) else [value]
                bad = [v for v in values if v not in allowed]
                _need(not bad, f"{field} must be one of {', '.join(allowed)}", "conditions")
        out.append({"field": name, "op": op, "value": value})
    return out


def validate_actions(session: Session, tenant_id: uuid.UUID, actions: Any) -> list[dict[str, Any]]:
    """Check a rule's actions against the tenant (its agents, its macros)."""
    from core.models import Macro

    _need(
        isinstance(actions, list) and len(actions) > 0,
        "actions must be a non-empty list",
        "actions",
    )
    _need(len(actions) <= MAX_ACTIONS, f"at most {MAX_ACTIONS} actions", "actions")
    out = []
    for action in actions:
        _need(isinstance(action, dict), "each action is an object {type, ...}", "actions")
        kind = action.get("type")
        _need(kind in ACTIONS, f"action type must be one of {', '.join(ACTIONS)}", "actions")
        if kind == "assign":
            if action.get("user_id") is not None:
                _need(
                    _is_staff(session, tenant_id, action["user_id"]),
                    "assign.user_id must be an agent or admin of this tenant",
                    "actions",
                )
            else:
                _need(
                    action.get("strategy") in ("round_robin", "skill"),
                    "assign needs user_id or strategy round_robin|skill",
                    "actions",
                )
        elif kind in ("set_priority", "set_status", "set_category"):
            allowed = {
                "set_priority": lifecycle.PRIORITIES,
                "set_status": lifecycle.STATUSES,
                "set_category": lifecycle.CATEGORIES,
            }[kind]
            _need(
                action.get("value") in allowed,
                f"{kind}.value must be one of {', '.join(allowed)}",
                "actions",
            )
        elif kind == "set_group":
            group_id = action.get("group_id")
            _need(
                group_id is None
                or (
                    isinstance(group_id, int)
                    and not isinstance(group_id, bool)
                    and 0 < group_id < 2**31
                    and session.scalar(
                        select(AgentGroup.id).where(
                            AgentGroup.id == group_id, AgentGroup.tenant_id == tenant_id
                        )
                    )
                    is not None
                ),
                "set_group.group_id must name an agent group of this tenant (or null for none)",
                "actions",
            )
        elif kind == "internal_note":
            _need(
                isinstance(action.get("text"), str) and action["text"].strip() != "",
                "internal_note needs text",
                "actions",
            )
        elif kind == "macro":
            macro_id = action.get("macro_id")
            _need(
                isinstance(macro_id, int)
                and not isinstance(macro_id, bool)
                and 0 < macro_id < 2**63
                and session.scalar(
                    select(Macro.id).where(Macro.id == macro_id, Macro.tenant_id == tenant_id)
                )
                is not None,
                "macro.macro_id must name a macro of this tenant",
                "actions",
            )
        elif kind == "notify":
            _need(
                action.get("user_id") is not None
                or action.get("to") in ("admins", "agents", "assignee"),
                "notify needs user_id or to: admins|agents|assignee",
                "actions",
            )
            if action.get("user_id") is not None:
                _need(
                    _is_staff(session, tenant_id, action["user_id"]),
                    "notify.user_id must be an agent or admin of this tenant",
                    "actions",
                )
        elif kind in ("add_tag", "remove_tag"):
            from core.tags.service import normalise

            action = {**action, "tag": normalise(action.get("tag"), "actions")}
        elif kind == "escalate":
            _need(
                isinstance(action.get("target"), str) and action["target"] != "",
                "escalate needs a target (admin, jira, pagerduty, ...)",
                "actions",
            )
            _need(isinstance(action.get("note", ""), str), "escalate.note must be text", "actions")
        if kind == "notify":
            _need(isinstance(action.get("text", ""), str), "notify.text must be text", "actions")
        if kind in ("notify", "internal_note"):
            from core.automation.macros import check_placeholders

            check_placeholders(action.get("text") or "", "actions")
        out.append(dict(action))
    return out


def validate_trigger(trigger: Any, hours: Any) -> None:
    """A known trigger; a time rule needs its quiet hours."""
    _need(trigger in TRIGGERS, f"trigger must be one of {', '.join(TRIGGERS)}", "trigger")
    if trigger == "time.no_update":
        _need(
            isinstance(hours, int | float) and 0 < hours <= 24 * 365,
            "a time.no_update rule needs hours between 0 and 8760",
            "hours",
        )


def _is_staff(session: Session, tenant_id: uuid.UUID, user_id: Any) -> bool:
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2**31:
        return False
    role = session.scalar(
        select(Membership.role).where(
            Membership.tenant_id == tenant_id, Membership.user_id == user_id
        )
    )
    return role in (AGENT, ADMIN)


# ---------------------------------------------------------------- conditions


def _value(
    ticket: Ticket,
    event: events.EventLike | None,
    name: str,
    tags: dict[int, list[str]] | None = None,
) -> Any:
    if name == "tags":
        if tags is not None:
            return tags.get(ticket.id, [])
        from sqlalchemy.orm import object_session

        from core.tags.service import tags_for

        session = object_session(ticket)
        return tags_for(session, [ticket.id]).get(ticket.id, []) if session else []
    if name in TICKET_FIELDS:
        return getattr(ticket, name)
    payload = event.payload if event is not None else {}
    if name == "changed":
        return list((payload.get("changes") or {}).keys())
    return payload.get(name)


def _holds(
    cond: dict[str, Any],
    ticket: Ticket,
    event: events.EventLike | None,
    tags: dict[int, list[str]] | None = None,
) -> bool:
    actual, op, value = _value(ticket, event, cond["field"], tags), cond["op"], cond.get("value")
    if op == "is_set":
        return actual not in (None, "", [], False)
    if op == "is_not_set":
        return actual in (None, "", [], False)
    if op in ("contains", "not_contains"):
        if isinstance(actual, list):
            hit = value in actual
        else:
            # Both sides capped: a 100,000-link mail must not make every rule scan all of it.
            hit = search_text(str(value)).lower() in search_text(actual or "").lower()
        return hit if op == "contains" else not hit
    if op in ("in", "not_in"):
        hit = actual in (value or [])
        return hit if op == "in" else not hit
    return (actual == value) if op == "eq" else (actual != value)


def matches(
    conditions: list[dict[str, Any]],
    ticket: Ticket,
    event: events.EventLike | None = None,
    *,
    tags: dict[int, list[str]] | None = None,
) -> bool:
    """All conditions hold for the ticket (and the event that fired the rule); ``tags``: the
    tickets' tags loaded already (``core.tags.service.tags_for``), else read when a condition
    needs them."""
    return all(_holds(c, ticket, event, tags) for c in conditions)


# ---------------------------------------------------------------- actions


def automation_user_id(session: Session) -> int:
    """The author of automatic notes and replies: a user with no membership and no password."""
    from core.services.once import insert_ignore

    found = session.scalar(select(User.id).where(User.email == AUTOMATION_EMAIL))
    if found is None:
        insert_ignore(
            session,
            User,
            [
                {
                    "email": AUTOMATION_EMAIL,
                    "full_name": "Automation",
                    "is_active": True,
                    "email_failing": False,
                    "date_joined": now(),
                }
            ],
            ["email"],
            User.id,
        )
        found = session.scalar(select(User.id).where(User.email == AUTOMATION_EMAIL))
    assert found is not None
    return found


def _audit(
    session: Session,
    ticket: Ticket,
    rule_key: int | str,
    rule_name: str,
    action: dict[str, Any],
    outcome: Any,
) -> None:
    events.audit(
        session,
        system_actor(ticket.tenant_id),
        action="Automation",
        ticket_id=ticket.id,
        new=action.get("type"),
        details={"rule_id": rule_key, "rule": rule_name, "action": action, "outcome": outcome},
    )


def run_actions(
    session: Session,
    ticket: Ticket,
    actions: list[dict[str, Any]],
    *,
    rule_key: int | str,
    rule_name: str,
) -> list[Any]:
    """Take a rule's actions on one ticket as the system; each one is audited with the rule."""
    from core.services.comments import add_comment
    from core.services.tickets import Changes, update_ticket

    system = system_actor(ticket.tenant_id)
    extra: dict[str, object] = {"rule_id": rule_key, "rule": rule_name}
    outcomes = []
    with running(rule_key):
        for action in actions:
            kind = action["type"]
            outcome: Any = None
            if kind == "assign":
                user_id = action.get("user_id")
                if user_id is None:
                    user_id = pick_agent(session, ticket, action.get("strategy", "round_robin"))
                if user_id is not None and user_id != ticket.assigned_to:
                    outcome = update_ticket(
                        session, system, ticket, Changes(assigned_to=user_id, extra=extra)
                    )
            elif kind in ("set_priority", "set_status", "set_category"):
                name = kind.removeprefix("set_")
                if getattr(ticket, name) != action["value"]:
                    outcome = update_ticket(
                        session, system, ticket, Changes(**{name: action["value"]}, extra=extra)
                    )
            elif kind == "set_group":
                if ticket.group_id != action.get("group_id"):
                    outcome = update_ticket(
                        session,
                        system,
                        ticket,
                        Changes(group_id=action.get("group_id"), extra=extra),
                    )
            elif kind == "internal_note":
                row = add_comment(
                    session,
                    system,
                    ticket,
                    comment=render_text(session, action["text"], ticket),
                    is_internal=True,
                    channel="automation",
                    author_id=automation_user_id(session),
                    extra=extra,
                )
                outcome = {"comment_id": row.id}
            elif kind == "macro":
                from core.automation.macros import apply_macro, get_macro

                macro = get_macro(session, ticket.tenant_id, action["macro_id"])
                outcome = apply_macro(
                    session,
                    system,
                    macro,
                    ticket,
                    author_id=automation_user_id(session),
                    extra=extra,
                )
            elif kind in ("add_tag", "remove_tag"):
                from core.tags.service import add_tags, remove_tags

                change = add_tags if kind == "add_tag" else remove_tags
                outcome = {"tags": change(session, system, ticket, [action["tag"]])}
            elif kind == "notify":
                outcome = {"notified": _notify(session, ticket, action, rule_name)}
            elif kind == "escalate" and action["target"] == "tier":
                from core.groups.service import escalate_to_tier, next_tier

                if next_tier(session, ticket.tenant_id, ticket.group_id) is not None:
                    group, sent = escalate_to_tier(
                        session, system, ticket, note=action.get("note", "")
                    )
                    session.flush()
                    outcome = {"event_id": sent.id, "target": "tier", "group": group.name}
            elif kind == "escalate":
                sent = events.emit(
                    session,
                    system,
                    events.TICKET_ESCALATED,
                    tenant_id=ticket.tenant_id,
                    ticket_id=ticket.id,
                    payload={"target": action["target"], "note": action.get("note", ""), **extra},
                )
                session.flush()  # the outbox row's id, for the audit row
                outcome = {"event_id": sent.id, "target": action["target"]}
            _audit(session, ticket, rule_key, rule_name, action, outcome)
            outcomes.append(outcome)
    return outcomes


def try_actions(
    session: Session,
    ticket: Ticket,
    actions: list[dict[str, Any]],
    *,
    rule_key: int | str,
    rule_name: str,
) -> bool:
    """``run_actions`` in a savepoint: a rule whose action is not allowed (a transition that
    the ticket's status forbids, an agent who left) is audited as failed and changes nothing,
    and never fails the change that fired it."""
    try:
        with session.begin_nested():
            run_actions(session, ticket, actions, rule_key=rule_key, rule_name=rule_name)
        return True
    except HubError as exc:
        events.audit(
            session,
            system_actor(ticket.tenant_id),
            action="Automation Failed",
            ticket_id=ticket.id,
            new=exc.message[:500],
            details={"rule_id": rule_key, "rule": rule_name},
        )
        return False


def render_text(session: Session, text: str, ticket: Ticket) -> str:
    """A rule's note or notification with the macro placeholders filled in."""
    from core.automation.macros import render

    return render(session, text, ticket)


def _notify(session: Session, ticket: Ticket, action: dict[str, Any], rule_name: str) -> list[int]:
    to = action.get("to")
    if action.get("user_id") is not None:
        users = [action["user_id"]]
    elif to == "assignee":
        users = [ticket.assigned_to] if ticket.assigned_to else []
    else:
        role = ADMIN if to == "admins" else AGENT
        users = list(
            session.scalars(
                select(Membership.user_id).where(
                    Membership.tenant_id == ticket.tenant_id, Membership.role == role
                )
            )
        )
    text = action.get("text") or f"Rule '{rule_name}' fired on ticket #{ticket.id}"
    text = render_text(session, text, ticket)
    from core.notifications import inapp

    for user_id in users:
        inapp.add(session, ticket.tenant_id, user_id, ticket.id, "automation", text)
    return users


# ---------------------------------------------------------------- auto-assignment


def settings_for(
    session: Session, tenant_id: uuid.UUID, *, lock: bool = False, create: bool = True
) -> AutomationSettings:
    """The tenant's built-in automation settings (a row is created on first use; with
    ``create=False``, for read-only sessions, the defaults come back unsaved)."""
    from core.services.once import insert_ignore

    stmt = select(AutomationSettings).where(AutomationSettings.tenant_id == tenant_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None and not create:
        return AutomationSettings(
            tenant_id=tenant_id, assign_mode="round_robin", auto_close_hours=48.0, auto_respond=True
        )
    if row is None:
        insert_ignore(
            session,
            AutomationSettings,
            [
                {
                    "tenant_id": tenant_id,
                    "assign_mode": "round_robin",
                    "auto_close_hours": 48.0,
                    "auto_respond": True,
                    "updated_at": now(),
                }
            ],
            ["tenant_id"],
            AutomationSettings.tenant_id,
        )
        row = session.scalar(stmt)
    assert row is not None
    return row


def _skill_level(skills: dict[str, Any] | None, category: str) -> float:
    """Skills are ``{"Billing": 3, ...}`` (a level per category) or ``{"categories": [...]}``."""
    skills = skills or {}
    level = skills.get(category)
    if isinstance(level, bool):
        return 1.0 if level else 0.0
    if isinstance(level, int | float):
        return float(level)
    listed = skills.get("categories")
    return 1.0 if isinstance(listed, list) and category in listed else 0.0


def eligible_agents(
    session: Session, tenant_id: uuid.UUID, group_id: int | None = None
) -> list[tuple[Membership, int]]:
    """(agent, open tickets) of available agents under their open-ticket limit, by user id;
    with ``group_id``, the members of that agent group only."""
    stmt = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.tenant_id == tenant_id,
            Membership.role == AGENT,
            Membership.available.is_(True),
            # Offboarded people leave the rotation: deactivated here or everywhere.
            Membership.deactivated_at.is_(None),
            User.is_active.is_(True),
        )
        .order_by(Membership.user_id)
    )
    if group_id is not None:
        stmt = stmt.join(
            AgentGroupMember,
            (AgentGroupMember.user_id == Membership.user_id)
            & (AgentGroupMember.group_id == group_id),
        )
    agents = list(session.scalars(stmt))
    if not agents:
        return []
    load = dict(
        session.execute(
            select(Ticket.assigned_to, func.count())
            .where(
                Ticket.tenant_id == tenant_id,
                Ticket.assigned_to.in_([a.user_id for a in agents]),
                Ticket.status.in_(lifecycle.OPEN_STATUSES),
            )
            .group_by(Ticket.assigned_to)
        ).all()
    )
    out = []
    for agent in agents:
        agent_load = load.get(agent.user_id, 0)
        if agent.max_open_tickets is not None and agent_load >= agent.max_open_tickets:
            continue
        out.append((agent, agent_load))
    return out


def pick_agent(session: Session, ticket: Ticket, strategy: str) -> int | None:
    """The agent a new ticket goes to, or None when nobody is free. A ticket of an agent group
    goes to one of the group's members, round robin within the group."""
    settings = settings_for(session, ticket.tenant_id, lock=True)
    group = (
        session.scalar(
            select(AgentGroup)
            .where(AgentGroup.id == ticket.group_id, AgentGroup.tenant_id == ticket.tenant_id)
            .with_for_update()
        )
        if ticket.group_id is not None
        else None
    )
    found = eligible_agents(session, ticket.tenant_id, group.id if group is not None else None)
    if not found:
        return None
    agents = [a for a, _ in found]
    if strategy == "skill":
        # Highest skill in the category first, then the least loaded; ties go round robin.
        levels = {a.user_id: _skill_level(a.skills, ticket.category) for a, _ in found}
        skilled = [(a, n) for a, n in found if levels[a.user_id] > 0]
        if skilled:
            best = max(levels[a.user_id] for a, _ in skilled)
            top = [(a, n) for a, n in skilled if levels[a.user_id] == best]
            least = min(n for _, n in top)
            agents = [a for a, n in top if n == least]
    keeper: AgentGroup | AutomationSettings = group if group is not None else settings
    last = keeper.last_assigned_user_id or 0
    chosen = next((a for a in agents if a.user_id > last), agents[0])
    keeper.last_assigned_user_id = chosen.user_id
    return chosen.user_id


def auto_assign(session: Session, ticket: Ticket) -> int | None:
    """Built-in rule: give a new unassigned ticket to an agent by the tenant's mode."""
    settings = settings_for(session, ticket.tenant_id)
    if settings.assign_mode == "off" or ticket.assigned_to is not None:
        return None
    if ticket.status not in lifecycle.OPEN_STATUSES:
        return None
    action = {"type": "assign", "strategy": settings.assign_mode}
    try_actions(session, ticket, [action], rule_key="builtin:auto-assign", rule_name="auto-assign")
    return ticket.assigned_to


# ---------------------------------------------------------------- the listener


@dataclass(frozen=True)
class RuleRow:
    """A rule as the listener needs it (cached per tenant, detached from any session)."""

    id: int
    name: str
    trigger: str
    conditions: list[Any]
    actions: list[Any]


_rules: TenantCache[tuple[RuleRow, ...]] = TenantCache()
invalidate_on_change(AutomationRule, _rules)


def _tenant_rules(session: Session, tenant_id: uuid.UUID) -> tuple[RuleRow, ...]:
    rows = session.execute(
        select(
            AutomationRule.id,
            AutomationRule.name,
            AutomationRule.trigger,
            AutomationRule.conditions,
            AutomationRule.actions,
        )
        .where(AutomationRule.tenant_id == tenant_id, AutomationRule.is_active.is_(True))
        .order_by(AutomationRule.position, AutomationRule.id)
    )
    return tuple(RuleRow(r[0], r[1], r[2], list(r[3] or []), list(r[4] or [])) for r in rows)


def rules_for(session: Session, tenant_id: uuid.UUID, trigger: str) -> list[RuleRow]:
    """The tenant's active rules for a trigger, in their order."""
    with session.no_autoflush:
        rows = _rules.get(tenant_id, "active", lambda: _tenant_rules(session, tenant_id))
    return [r for r in rows if r.trigger == trigger]


def on_event(session: Session, event: events.EventLike, actor: Actor) -> None:
    """Listener: fire the tenant's rules for this event (auto-assignment runs after commit,
    from the outbox: see ``hub.builtin_automation``)."""
    if event.event_type not in EVENT_TRIGGERS or event.ticket_id is None:
        return
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None or ticket.tenant_id != event.tenant_id:
        return
    for rule in rules_for(session, ticket.tenant_id, event.event_type):
        if is_running(rule.id) or (event.payload or {}).get("rule_id") == rule.id:
            continue
        if matches(rule.conditions or [], ticket, event):
            try_actions(session, ticket, rule.actions or [], rule_key=rule.id, rule_name=rule.name)


def validate_assign_mode(mode: Any) -> None:
    """round_robin, skill or off."""
    _need(
        mode in ASSIGN_MODES, f"assign_mode must be one of {', '.join(ASSIGN_MODES)}", "assign_mode"
    )


events.add_listener(on_event)
