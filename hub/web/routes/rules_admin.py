"""Automation rule pages (admins): the rules in the order they run, switched on or off and moved,
and the builder: a trigger, conditions and actions from the rule engine's own lists, validated
on save with the reason beside the form, and "which open tickets would this match now"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from core import lifecycle
from core.automation import macro_admin, rule_admin, rules
from core.automation.models import TRIGGERS
from core.errors import HubError, Invalid
from core.models import AutomationRule
from hub.api.deps import HubDep, SessionDep
from hub.web.helpers import staff_members
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only

router = APIRouter(prefix="/admin/rules")
RuleId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ROWS = 5
TRIGGER_LABELS = {
    "ticket.created": N_("A ticket is created"),
    "ticket.updated": N_("A ticket is changed"),
    "comment.added": N_("A reply or note is added"),
    "time.no_update": N_("A ticket has had no update for some hours"),
}
FIELD_LABELS = {
    "status": N_("Status"),
    "priority": N_("Priority"),
    "category": N_("Category"),
    "channel": N_("Channel"),
    "assigned_to": N_("Assignee (user id)"),
    "group_id": N_("Agent group (group id)"),
    "created_by": N_("Requester (user id)"),
    "subject": N_("Subject"),
    "description": N_("Description"),
    "sla_breached": N_("SLA breached"),
    "tags": N_("Tags (contains: has the tag)"),
    "by_requester": N_("Written by the requester"),
    "is_internal": N_("Is an internal note"),
    "changed": N_("Fields changed"),
}
OP_LABELS = {
    "eq": N_("is"),
    "ne": N_("is not"),
    "in": N_("is one of"),
    "not_in": N_("is none of"),
    "contains": N_("contains"),
    "not_contains": N_("does not contain"),
    "is_set": N_("is set"),
    "is_not_set": N_("is not set"),
}
ACTION_LABELS = {
    "assign": N_("Assign to (round_robin, skill or a user id)"),
    "set_priority": N_("Set priority"),
    "set_status": N_("Set status"),
    "set_category": N_("Set category"),
    "set_group": N_("Move to agent group (its id, or none)"),
    "internal_note": N_("Add an internal note (text)"),
    "macro": N_("Apply macro (its id)"),
    "notify": N_("Notify (admins, agents, assignee or a user id; text)"),
    "escalate": N_("Escalate to (admin, jira, pagerduty; note)"),
    "add_tag": N_("Add a tag (value: the tag)"),
    "remove_tag": N_("Remove a tag (value: the tag)"),
}
BOOLEAN_FIELDS = ("sla_breached", "by_requester", "is_internal")
NUMBER_FIELDS = ("assigned_to", "group_id", "created_by")


def _condition_value(name: str, op: str, raw: str) -> Any:
    def one(text: str) -> Any:
        text = text.strip()
        if name in BOOLEAN_FIELDS:
            return text.lower() in ("yes", "true", "1", "on")
        if name in NUMBER_FIELDS and text.isdigit():
            return int(text)
        return text

    if op in ("is_set", "is_not_set"):
        return None
    if op in ("in", "not_in"):
        return [one(v) for v in raw.split(",") if v.strip()]
    return one(raw)


def _conditions(form: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for n in range(ROWS):
        name = form.get(f"c{n}_field", "")
        if not name:
            continue
        op = form.get(f"c{n}_op", "eq")
        out.append(
            {
                "field": name,
                "op": op,
                "value": _condition_value(name, op, form.get(f"c{n}_value", "")),
            }
        )
    return out


def _actions(form: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in range(ROWS):
        kind = form.get(f"a{n}_type", "")
        if not kind:
            continue
        value = form.get(f"a{n}_value", "").strip()
        text = form.get(f"a{n}_text", "").strip()
        action: dict[str, Any] = {"type": kind}
        if kind == "assign":
            action.update({"user_id": int(value)} if value.isdigit() else {"strategy": value})
        elif kind in ("set_priority", "set_status", "set_category"):
            action["value"] = value
        elif kind == "set_group":
            none = value.lower() in ("", "none")
            action["group_id"] = int(value) if value.isdigit() else None if none else value
        elif kind == "internal_note":
            action["text"] = text or value
        elif kind == "macro":
            action["macro_id"] = int(value) if value.isdigit() else value
        elif kind == "notify":
            action.update({"user_id": int(value)} if value.isdigit() else {"to": value})
            if text:
                action["text"] = text
        elif kind == "escalate":
            action.update({"target": value, "note": text})
        elif kind in ("add_tag", "remove_tag"):
            action["tag"] = value
        out.append(action)
    return out


def _fields(form: dict[str, str], position: int) -> dict[str, Any]:
    name = form.get("name", "").strip()
    if not name:
        raise Invalid("a rule needs a name", field="name")
    trigger = form.get("trigger", "")
    hours: float | None = None
    if trigger == "time.no_update":
        try:
            hours = float(form.get("hours", ""))
        except ValueError:
            raise Invalid("hours must be a number", field="hours") from None
    return {
        "name": name[:100],
        "trigger": trigger,
        "hours": hours,
        "conditions": _conditions(form),
        "actions": _actions(form),
        "is_active": form.get("is_active") == "on",
        "position": position,
    }


def _form_of(rule: AutomationRule | None) -> dict[str, str]:
    form: dict[str, str] = {"name": "", "trigger": "ticket.created", "hours": "", "is_active": "on"}
    if rule is None:
        return form
    form.update(
        name=rule.name,
        trigger=rule.trigger,
        hours="" if rule.hours is None else f"{rule.hours:g}",
        is_active="on" if rule.is_active else "",
    )
    for n, cond in enumerate((rule.conditions or [])[:ROWS]):
        value = cond.get("value")
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
        form.update(
            {
                f"c{n}_field": cond["field"],
                f"c{n}_op": cond.get("op", "eq"),
                f"c{n}_value": ""
                if shown is None
                else ("yes" if shown is True else "no" if shown is False else str(shown)),
            }
        )
    for n, action in enumerate((rule.actions or [])[:ROWS]):
        kind = action["type"]
        value = (
            action.get("user_id")
            or action.get("strategy")
            or action.get("value")
            or action.get("macro_id")
            or action.get("group_id")
            or action.get("to")
            or action.get("target")
            or action.get("tag")
            or ""
        )
        text = action.get("text") or action.get("note") or ""
        if kind == "internal_note":
            value, text = "", action.get("text", "")
        form.update({f"a{n}_type": kind, f"a{n}_value": str(value), f"a{n}_text": text})
    return form


def _editor(
    request: Request,
    session: SessionDep,
    me: WebUser,
    *,
    rule: AutomationRule | None,
    form: dict[str, str],
    error: HubError | None = None,
    preview: tuple[int, list[tuple[int, str]], int] | None = None,
) -> HTMLResponse:
    return render(
        request,
        session,
        me,
        "admin/rule_edit.html",
        **form_failure(error),
        rule=rule,
        form=form,
        preview=preview,
        rows=range(ROWS),
        triggers={t: TRIGGER_LABELS.get(t, t) for t in TRIGGERS},
        fields={f: FIELD_LABELS.get(f, f) for f in (*rules.TICKET_FIELDS, *rules.EVENT_FIELDS)},
        ops=OP_LABELS,
        actions={a: ACTION_LABELS.get(a, a) for a in rules.ACTIONS},
        staff=staff_members(session, me.actor.tenant_id),
        macros=macro_admin.list_macros(session, me.actor),
        choices=sorted({*lifecycle.STATUSES, *lifecycle.PRIORITIES, *lifecycle.CATEGORIES}),
    )


@router.get("", response_class=HTMLResponse)
def rule_list(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """The tenant's rules in the order they run."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/rules.html",
        rules=rule_admin.list_rules(session, me.actor),
        triggers=TRIGGER_LABELS,
    )


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    admin_only(me)
    return _editor(request, session, me, rule=None, form=_form_of(None))


async def _posted(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(_posted)]


def _save(
    request: Request,
    me: WebUser,
    session: SessionDep,
    hub: HubDep,
    data: FormData,
    rule: AutomationRule | None,
) -> Response:
    form = {k: str(v)[:5000] for k, v in data.items() if k != "csrf_token"}
    if form.get("action") == "preview":
        try:
            found = rule_admin.preview_matches(session, me.actor, _conditions(form))
        except HubError as exc:
            return _editor(request, session, me, rule=rule, form=form, error=exc)
        return _editor(request, session, me, rule=rule, form=form, preview=found)
    try:
        if rule is None:
            position = len(rule_admin.list_rules(session, me.actor)) + 1
            rule = rule_admin.create_rule(session, hub, me.actor, _fields(form, position))
        else:
            fields = _fields(form, rule.position)
            rule = rule_admin.update_rule(session, hub, me.actor, rule.id, fields)
    except HubError as exc:
        session.rollback()
        shown = rule_admin.get_rule(session, me.actor, rule.id) if rule is not None else None
        return _editor(request, session, me, rule=shown, form=form, error=exc)
    session.commit()
    return redirect("/admin/rules", flash=N_("Rule “%(name)s” saved."), args={"name": rule.name})


@router.post("/new", response_model=None)
def create(
    request: Request, me: PostUser, session: SessionDep, hub: HubDep, data: Posted
) -> Response:
    """Save a new rule (last in the order), or show which open tickets it would match."""
    admin_only(me)
    return _save(request, me, session, hub, data, None)


@router.get("/{rule_id}", response_class=HTMLResponse)
def edit_form(request: Request, me: PageUser, session: SessionDep, rule_id: RuleId) -> HTMLResponse:
    admin_only(me)
    rule = rule_admin.get_rule(session, me.actor, rule_id)
    return _editor(request, session, me, rule=rule, form=_form_of(rule))


@router.post("/{rule_id}", response_model=None)
def save(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    rule_id: RuleId,
    data: Posted,
) -> Response:
    """Save an edit, or show which open tickets it would match."""
    admin_only(me)
    return _save(request, me, session, hub, data, rule_admin.get_rule(session, me.actor, rule_id))


@router.post("/{rule_id}/toggle", response_model=None)
def toggle(me: PostUser, session: SessionDep, hub: HubDep, rule_id: RuleId) -> Response:
    """Switch a rule on or off."""
    admin_only(me)
    rule = rule_admin.get_rule(session, me.actor, rule_id)
    rule_admin.update_rule(session, hub, me.actor, rule_id, {"is_active": not rule.is_active})
    session.commit()
    said = N_("Rule “%(name)s” is on.") if rule.is_active else N_("Rule “%(name)s” is off.")
    return redirect("/admin/rules", flash=said, args={"name": rule.name})


@router.post("/{rule_id}/move", response_model=None)
def move(
    me: PostUser,
    session: SessionDep,
    rule_id: RuleId,
    step: Annotated[str, Form(pattern="^(up|down)$")],
) -> Response:
    """Run a rule one place earlier or later."""
    admin_only(me)
    rule_admin.move_rule(session, me.actor, rule_id, -1 if step == "up" else 1)
    session.commit()
    return redirect("/admin/rules", flash=N_("The order of the rules was changed."))


@router.post("/{rule_id}/delete", response_model=None)
def delete(me: PostUser, session: SessionDep, rule_id: RuleId) -> Response:
    """Delete a rule (what it did stays in the audit trail)."""
    admin_only(me)
    rule_admin.delete_rule(session, me.actor, rule_id)
    session.commit()
    return redirect("/admin/rules", flash=N_("Rule deleted."))
