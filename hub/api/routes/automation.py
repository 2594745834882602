"""Automation rules, the tenant's built-in automation settings, and macros."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from core.automation import macro_admin, macros, rule_admin
from core.models import AutomationRule, AutomationSettings, Macro
from hub.api.deps import ActorDep, HubDep, ObjectId, SessionDep
from hub.api.schemas.automation import (
    AutomationSettingsPublic,
    AutomationSettingsUpdate,
    MacroApply,
    MacroApplyResult,
    MacroCreate,
    MacroPublic,
    MacroUpdate,
    RuleCreate,
    RulePublic,
    RuleUpdate,
)

router = APIRouter(prefix="/api/v1/support", tags=["automation"])


# ---------------------------------------------------------------- rules


@router.get("/rules/", response_model=list[RulePublic])
def list_rules(actor: ActorDep, session: SessionDep) -> list[AutomationRule]:
    """The tenant's automation rules in the order they run."""
    return rule_admin.list_rules(session, actor)


@router.post("/rules/", status_code=201, response_model=RulePublic)
def create_rule(
    body: RuleCreate, actor: ActorDep, session: SessionDep, hub: HubDep
) -> AutomationRule:
    """Create a rule: trigger, conditions on ticket fields, actions."""
    return rule_admin.create_rule(session, hub, actor, body.model_dump())


@router.get("/rules/{rule_id}/", response_model=RulePublic)
def get_rule(rule_id: ObjectId, actor: ActorDep, session: SessionDep) -> AutomationRule:
    """One rule."""
    return rule_admin.get_rule(session, actor, rule_id)


@router.patch("/rules/{rule_id}/", response_model=RulePublic)
def update_rule(
    rule_id: ObjectId, body: RuleUpdate, actor: ActorDep, session: SessionDep, hub: HubDep
) -> AutomationRule:
    """Change a rule; the whole rule is validated again."""
    return rule_admin.update_rule(session, hub, actor, rule_id, body.model_dump(exclude_unset=True))


@router.delete("/rules/{rule_id}/", status_code=204)
def delete_rule(rule_id: ObjectId, actor: ActorDep, session: SessionDep) -> Response:
    """Delete a rule (its past actions stay in the audit trail)."""
    rule_admin.delete_rule(session, actor, rule_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- built-in settings


@router.get("/automation/", response_model=AutomationSettingsPublic)
def get_settings(actor: ActorDep, session: SessionDep) -> AutomationSettings:
    """Built-in automations: assignment mode, auto-close hours (0 = off), auto-respond."""
    return rule_admin.get_settings(session, actor)


@router.patch("/automation/", response_model=AutomationSettingsPublic)
def patch_settings(
    body: AutomationSettingsUpdate, actor: ActorDep, session: SessionDep
) -> AutomationSettings:
    """Change the built-in automations of the tenant."""
    return rule_admin.change_settings(session, actor, body.model_dump(exclude_unset=True))


# ---------------------------------------------------------------- macros


@router.get("/macros/", response_model=list[MacroPublic])
def list_macros(actor: ActorDep, session: SessionDep) -> list[Macro]:
    """The tenant's macros by name."""
    return macro_admin.list_macros(session, actor)


@router.post("/macros/", status_code=201, response_model=MacroPublic)
def create_macro(body: MacroCreate, actor: ActorDep, session: SessionDep) -> Macro:
    """Create a macro; placeholders: {ticket_id}, {requester_name}, {subject}, ..."""
    return macro_admin.create_macro(session, actor, body.model_dump())


@router.get("/macros/{macro_id}/", response_model=MacroPublic)
def get_macro(macro_id: ObjectId, actor: ActorDep, session: SessionDep) -> Macro:
    """One macro."""
    return macro_admin.get_macro(session, actor, macro_id)


@router.patch("/macros/{macro_id}/", response_model=MacroPublic)
def update_macro(
    macro_id: ObjectId, body: MacroUpdate, actor: ActorDep, session: SessionDep
) -> Macro:
    """Change a macro."""
    return macro_admin.update_macro(session, actor, macro_id, body.model_dump(exclude_unset=True))


@router.delete("/macros/{macro_id}/", status_code=204)
def delete_macro(macro_id: ObjectId, actor: ActorDep, session: SessionDep) -> Response:
    """Delete a macro; rules that send it stop doing so (their action fails, audited)."""
    macro_admin.delete_macro(session, actor, macro_id)
    return Response(status_code=204)


@router.post("/macros/{macro_id}/apply/", response_model=MacroApplyResult)
def apply_macro(
    macro_id: ObjectId, body: MacroApply, actor: ActorDep, session: SessionDep, hub: HubDep
) -> dict[str, Any]:
    """Apply a macro to one or many tickets; results per ticket (404s included, others go on)."""
    results = macros.apply_bulk(session, actor, macro_id, body.ticket_ids)
    session.commit()
    hub.kick()
    return {"results": results}
