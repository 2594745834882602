"""Automation rules, the tenant's built-in automation settings, and macros."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from core import macros, rules
from core.clock import now
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.models import AutomationRule, Macro
from core.permissions import Actor, require_admin, require_staff
from core.services import events
from hub.api.deps import MAX_ID, ActorDep, HubDep, ObjectId, SessionDep

router = APIRouter(prefix="/api/v1/support", tags=["automation"])


def _readers_only(actor: Actor, what: str) -> None:
    if not actor.reads_all_tickets:
        raise Forbidden(f"{what} are for agents, admins and managers")


def _tenant_audit(
    session: SessionDep, actor: Actor, action: str, new: str, details: dict[str, Any]
) -> None:
    events.audit(session, actor, action=action, ticket_id=None, new=new, details=details)


# ---------------------------------------------------------------- rules


class RuleIn(BaseModel):
    """A new rule; see ``core.rules`` for fields, ops and action types."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    trigger: str
    hours: float | None = None
    conditions: list[dict[str, Any]] = Field(default_factory=list)
    actions: list[dict[str, Any]]
    is_active: bool = True
    position: int = Field(default=0, ge=0, le=10_000)


class RulePatch(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    trigger: str | None = None
    hours: float | None = None
    conditions: list[dict[str, Any]] | None = None
    actions: list[dict[str, Any]] | None = None
    is_active: bool | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)


class RuleOut(BaseModel):
    """A stored rule."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    trigger: str
    hours: float | None
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    is_active: bool
    position: int
    created_at: datetime
    updated_at: datetime


def _rule(session: SessionDep, actor: Actor, rule_id: int) -> AutomationRule:
    row = session.scalar(
        select(AutomationRule).where(
            AutomationRule.id == rule_id, AutomationRule.tenant_id == actor.tenant_id
        )
    )
    if row is None:
        raise NotFound(f"rule {rule_id} not found")
    return row


def _name_free(
    session: SessionDep, model: Any, actor: Actor, name: str, exclude: int | None = None
) -> None:
    found = session.scalar(
        select(model.id).where(model.tenant_id == actor.tenant_id, model.name == name)
    )
    if found is not None and found != exclude:
        raise Conflict(f"the name {name!r} is taken (id {found})")


def _check_targets(hub: HubDep, actor: Actor, actions: list[dict[str, Any]]) -> None:
    """An escalate action names a target an enabled plugin offers (or "admin")."""
    wanted = {a["target"] for a in actions if a.get("type") == "escalate"}
    if not wanted:
        return
    offered = {
        t.target
        for ts in hub.hooks(actor.tenant_id).hub_escalation_targets(
            tenant_id=actor.tenant_id, hub=hub
        )
        for t in ts or ()
    } | {"admin"}
    unknown = sorted(wanted - offered)
    if unknown:
        raise Invalid(
            f"unknown escalation target {', '.join(unknown)}; available: "
            f"{', '.join(sorted(offered))}",
            field="actions",
        )


@router.get("/rules/", response_model=list[RuleOut])
def list_rules(actor: ActorDep, session: SessionDep) -> list[AutomationRule]:
    """The tenant's automation rules in the order they run."""
    _readers_only(actor, "automation rules")
    return list(
        session.scalars(
            select(AutomationRule)
            .where(AutomationRule.tenant_id == actor.tenant_id)
            .order_by(AutomationRule.position, AutomationRule.id)
        )
    )


@router.post("/rules/", status_code=201, response_model=RuleOut)
def create_rule(body: RuleIn, actor: ActorDep, session: SessionDep, hub: HubDep) -> AutomationRule:
    """Create a rule: trigger, conditions on ticket fields, actions."""
    require_admin(actor, "edit automation rules")
    rules.validate_trigger(body.trigger, body.hours)
    conditions = rules.validate_conditions(body.conditions)
    actions = rules.validate_actions(session, actor.tenant_id, body.actions)
    _check_targets(hub, actor, actions)
    _name_free(session, AutomationRule, actor, body.name)
    at = now()
    row = AutomationRule(
        tenant_id=actor.tenant_id,
        name=body.name,
        trigger=body.trigger,
        hours=body.hours if body.trigger == "time.no_update" else None,
        conditions=conditions,
        actions=actions,
        is_active=body.is_active,
        position=body.position,
        created_by=actor.user_id,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    _tenant_audit(session, actor, "Rule Created", str(row.id), {"name": row.name})
    return row


@router.get("/rules/{rule_id}/", response_model=RuleOut)
def get_rule(rule_id: ObjectId, actor: ActorDep, session: SessionDep) -> AutomationRule:
    """One rule."""
    _readers_only(actor, "automation rules")
    return _rule(session, actor, rule_id)


@router.patch("/rules/{rule_id}/", response_model=RuleOut)
def update_rule(
    rule_id: ObjectId, body: RulePatch, actor: ActorDep, session: SessionDep, hub: HubDep
) -> AutomationRule:
    """Change a rule; the whole rule is validated again."""
    require_admin(actor, "edit automation rules")
    row = _rule(session, actor, rule_id)
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "trigger", "conditions", "actions", "is_active", "position"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", field=name)
    trigger = changes.get("trigger", row.trigger)
    hours = changes.get("hours", row.hours)
    rules.validate_trigger(trigger, hours)
    if "conditions" in changes:
        changes["conditions"] = rules.validate_conditions(changes["conditions"])
    if "actions" in changes:
        changes["actions"] = rules.validate_actions(session, actor.tenant_id, changes["actions"])
        _check_targets(hub, actor, changes["actions"])
    if "name" in changes:
        _name_free(session, AutomationRule, actor, changes["name"], exclude=row.id)
    if trigger != "time.no_update":
        changes["hours"] = None
    if trigger != row.trigger or changes.get("hours", row.hours) != row.hours:
        row.swept_until, row.swept_id = None, None
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now()
    _tenant_audit(session, actor, "Rule Changed", str(row.id), {"changes": sorted(changes)})
    return row


@router.delete("/rules/{rule_id}/", status_code=204)
def delete_rule(rule_id: ObjectId, actor: ActorDep, session: SessionDep) -> Response:
    """Delete a rule (its past actions stay in the audit trail)."""
    require_admin(actor, "edit automation rules")
    row = _rule(session, actor, rule_id)
    _tenant_audit(session, actor, "Rule Deleted", str(row.id), {"name": row.name})
    session.delete(row)
    return Response(status_code=204)


# ---------------------------------------------------------------- built-in settings


class AutomationSettingsIO(BaseModel):
    """The tenant's built-in automations."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    assign_mode: str | None = None
    auto_close_hours: float | None = Field(default=None, ge=0, le=24 * 365)
    auto_respond: bool | None = None


@router.get("/automation/", response_model=AutomationSettingsIO)
def get_settings(actor: ActorDep, session: SessionDep) -> Any:
    """Built-in automations: assignment mode, auto-close hours (0 = off), auto-respond."""
    _readers_only(actor, "automation settings")
    return rules.settings_for(session, actor.tenant_id, create=False)


@router.patch("/automation/", response_model=AutomationSettingsIO)
def patch_settings(body: AutomationSettingsIO, actor: ActorDep, session: SessionDep) -> Any:
    """Change the built-in automations of the tenant."""
    require_admin(actor, "change automation settings")
    row = rules.settings_for(session, actor.tenant_id)
    changes = body.model_dump(exclude_unset=True)
    if "assign_mode" in changes:
        rules.validate_assign_mode(changes["assign_mode"])
    if "auto_respond" in changes and changes["auto_respond"] is None:
        raise Invalid("auto_respond cannot be null", field="auto_respond")
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now()
    _tenant_audit(session, actor, "Automation Settings", "", {"changes": changes})
    return row


# ---------------------------------------------------------------- macros


class MacroIn(BaseModel):
    """A new macro: reply text with placeholders, optional field changes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    body: str = Field(default="", max_length=100_000)
    is_internal: bool = False
    changes: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True


class MacroPatch(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    body: str | None = Field(default=None, max_length=100_000)
    is_internal: bool | None = None
    changes: dict[str, Any] | None = None
    is_active: bool | None = None


class MacroOut(BaseModel):
    """A stored macro."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    body: str
    is_internal: bool
    changes: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class MacroApply(BaseModel):
    """The tickets to apply a macro to."""

    model_config = ConfigDict(extra="forbid")

    ticket_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=macros.MAX_BULK
    )


def _check_macro(body: str, changes: dict[str, Any]) -> dict[str, Any]:
    changes = macros.validate_changes(changes)
    if not body.strip() and not changes:
        raise Invalid("a macro needs a reply text or field changes", field="body")
    return changes


@router.get("/macros/", response_model=list[MacroOut])
def list_macros(actor: ActorDep, session: SessionDep) -> list[Macro]:
    """The tenant's macros by name."""
    _readers_only(actor, "macros")
    return list(
        session.scalars(
            select(Macro).where(Macro.tenant_id == actor.tenant_id).order_by(Macro.name)
        )
    )


@router.post("/macros/", status_code=201, response_model=MacroOut)
def create_macro(body: MacroIn, actor: ActorDep, session: SessionDep) -> Macro:
    """Create a macro; placeholders: {ticket_id}, {requester_name}, {subject}, ..."""
    require_admin(actor, "edit macros")
    changes = _check_macro(body.body, body.changes)
    _name_free(session, Macro, actor, body.name)
    at = now()
    row = Macro(
        tenant_id=actor.tenant_id,
        name=body.name,
        body=body.body,
        is_internal=body.is_internal,
        changes=changes,
        is_active=body.is_active,
        created_by=actor.user_id,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    _tenant_audit(session, actor, "Macro Created", str(row.id), {"name": row.name})
    return row


@router.get("/macros/{macro_id}/", response_model=MacroOut)
def get_macro(macro_id: ObjectId, actor: ActorDep, session: SessionDep) -> Macro:
    """One macro."""
    _readers_only(actor, "macros")
    return macros.get_macro(session, actor.tenant_id, macro_id)


@router.patch("/macros/{macro_id}/", response_model=MacroOut)
def update_macro(
    macro_id: ObjectId, body: MacroPatch, actor: ActorDep, session: SessionDep
) -> Macro:
    """Change a macro."""
    require_admin(actor, "edit macros")
    row = macros.get_macro(session, actor.tenant_id, macro_id)
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "body", "is_internal", "is_active"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", field=name)
    if "name" in changes:
        _name_free(session, Macro, actor, changes["name"], exclude=row.id)
    changes["changes"] = _check_macro(
        changes.get("body", row.body), changes.get("changes", row.changes) or {}
    )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now()
    _tenant_audit(session, actor, "Macro Changed", str(row.id), {"changes": sorted(changes)})
    return row


@router.delete("/macros/{macro_id}/", status_code=204)
def delete_macro(macro_id: ObjectId, actor: ActorDep, session: SessionDep) -> Response:
    """Delete a macro; rules that send it stop doing so (their action fails, audited)."""
    require_admin(actor, "edit macros")
    row = macros.get_macro(session, actor.tenant_id, macro_id)
    _tenant_audit(session, actor, "Macro Deleted", str(row.id), {"name": row.name})
    session.delete(row)
    return Response(status_code=204)


@router.post("/macros/{macro_id}/apply/")
def apply_macro(
    macro_id: ObjectId, body: MacroApply, actor: ActorDep, session: SessionDep, hub: HubDep
) -> dict[str, Any]:
    """Apply a macro to one or many tickets; results per ticket (404s included, others go on)."""
    require_staff(actor, "apply macros")
    results = macros.apply_bulk(session, actor, macro_id, body.ticket_ids)
    session.commit()
    hub.kick()
    return {"results": results}
