"""SLA pages (admins): the policies per agent group, category and priority with their response, resolution
and warning targets, the business-hours calendar of each (time zone, split shifts, holidays typed
in or imported for a country and year), and which policy a sample ticket gets."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from core import lifecycle
from core.errors import HubError, Invalid
from core.groups.service import group_names
from core.models import SlaPolicy
from core.sla import countdown as sla_countdown
from core.sla import policies
from core.sla.calendar import WEEKDAYS
from core.sla.public_holidays import public_holidays
from hub.api.deps import SessionDep
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only

router = APIRouter(prefix="/admin/sla")
PolicyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        (
            N_("Monday"),
            N_("Tuesday"),
            N_("Wednesday"),
            N_("Thursday"),
            N_("Friday"),
            N_("Saturday"),
            N_("Sunday"),
        ),
        strict=True,
    )
)
SHIFTS = 2
_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\b")


def _form_of(policy: SlaPolicy | None) -> dict[str, Any]:
    """The editor's fields for a policy (or the defaults of a new one)."""
    cal = policy.calendar if policy else None
    form: dict[str, Any] = {
        "group_id": str(policy.group_id or "") if policy else "",
        "category": (policy.category or "") if policy else "",
        "priority": policy.priority if policy else "High",
        "response_minutes": str(policy.response_minutes) if policy else "60",
        "resolution_minutes": str(policy.resolution_minutes) if policy else "480",
        "warning_percent": str(policy.warning_percent) if policy else "80",
        "is_active": policy.is_active if policy else True,
        "always_open": cal is None and policy is not None,
        "timezone": (cal or {}).get("timezone", "Europe/Berlin"),
        "holidays": "\n".join((cal or {}).get("holidays") or []),
    }
    hours = (cal or {}).get("hours") or (
        {} if policy else {d: [["09:00", "17:00"]] for d in WEEKDAYS[:5]}
    )
    for day in WEEKDAYS:
        for n in range(SHIFTS):
            shift = (hours.get(day) or [])[n] if n < len(hours.get(day) or []) else ["", ""]
            form[f"{day}_{n}_start"], form[f"{day}_{n}_end"] = shift[0], shift[1]
    return form


def _form_from(data: FormData) -> dict[str, Any]:
    form: dict[str, Any] = {k: str(v)[:2000] for k, v in data.items() if k != "csrf_token"}
    form["is_active"] = form.get("is_active") == "on"
    form["always_open"] = form.get("always_open") == "on"
    return form


def _int(form: dict[str, Any], name: str, low: int, high: int) -> int:
    raw = str(form.get(name, "")).strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Invalid(
            f"{name.replace('_', ' ')} must be a whole number from {low} to {high}", field=name
        )
    return int(raw)


def _group(raw: object) -> int | None:
    """The group select's value: empty for every group, else an id the service checks."""
    value = str(raw or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise Invalid("choose an agent group from the list", field="group_id")
    return int(value)


def _fields(form: dict[str, Any]) -> dict[str, Any]:
    """The service's fields from the editor; the calendar and group are checked by the service."""
    group_id = _group(form.get("group_id"))
    category = form.get("category") or None
    if category is not None and category not in lifecycle.CATEGORIES:
        raise Invalid("choose a category from the list", field="category")
    if form.get("priority") not in lifecycle.PRIORITIES:
        raise Invalid("choose a priority from the list", field="priority")
    calendar = None
    if not form["always_open"]:
        hours: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            for n in range(SHIFTS):
                start, end = form.get(f"{day}_{n}_start", ""), form.get(f"{day}_{n}_end", "")
                if bool(start) != bool(end):
                    raise Invalid(
                        f"{DAY_NAMES[day]}: a shift needs both a start and an end",
                        field=f"{day}_{n}_start",
                    )
                if start:
                    hours.setdefault(day, []).append([start, end])
        dates = []
        for line in str(form.get("holidays", "")).splitlines():
            if not line.strip():
                continue
            found = _DATE.match(line)
            if not found:
                raise Invalid(
                    f"holidays: “{line.strip()}” does not start with a date (YYYY-MM-DD)",
                    field="holidays",
                )
            dates.append(found.group(1))
        calendar = {
            "timezone": str(form.get("timezone", "")).strip(),
            "hours": hours,
            "holidays": sorted(set(dates)),
        }
    return {
        "group_id": group_id,
        "category": category,
        "priority": form["priority"],
        "response_minutes": _int(form, "response_minutes", 1, 525_600),
        "resolution_minutes": _int(form, "resolution_minutes", 1, 5_256_000),
        "warning_percent": _int(form, "warning_percent", 1, 99),
        "is_active": form["is_active"],
        "calendar": calendar,
    }


def _editor(
    request: Request,
    session: SessionDep,
    me: WebUser,
    *,
    policy: SlaPolicy | None,
    form: dict[str, Any],
    error: HubError | None = None,
    note: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        session,
        me,
        "admin/sla_edit.html",
        **form_failure(error),
        policy=policy,
        form=form,
        note=note,
        groups=group_names(session, me.actor.tenant_id),
        days=DAY_NAMES,
        shifts=range(SHIFTS),
    )


@router.get("", response_class=HTMLResponse)
def policy_list(
    request: Request,
    me: PageUser,
    session: SessionDep,
    priority: Annotated[str, Query(max_length=20)] = "",
    category: Annotated[str, Query(max_length=50)] = "",
    group: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    """The policies, and (``?priority=&category=&group=``) which one a ticket like that gets."""
    admin_only(me)
    return list_page(request, me, session, priority=priority, category=category, group=group)


def list_page(
    request: Request,
    me: WebUser,
    session: SessionDep,
    *,
    priority: str = "",
    category: str = "",
    group: str = "",
    risk_error: HubError | None = None,
    risk_value: str | None = None,
) -> HTMLResponse:
    """The policy list page, with the at-risk share's form (and its refusal, if any)."""
    applies = None
    if priority:
        applies = policies.applying_policy(session, me.actor, priority, category, _group(group))
    percent = sla_countdown.at_risk_percent(session, me.actor.tenant_id)
    return render(
        request,
        session,
        me,
        "admin/sla.html",
        status=risk_error.status if risk_error else 200,
        policies=policies.list_policies(session, me.actor),
        applies=applies,
        sel_priority=priority,
        sel_category=category,
        sel_group=group,
        groups=group_names(session, me.actor.tenant_id),
        at_risk={
            "value": risk_value if risk_value is not None else str(percent),
            "error": risk_error.message if risk_error else None,
        },
    )


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    admin_only(me)
    return _editor(request, session, me, policy=None, form=_form_of(None))


async def _posted(request: Request) -> dict[str, Any]:
    """The editor's fields (named per weekday and shift, so read from the whole form)."""
    return _form_from(await request.form())


FormDep = Annotated[dict[str, Any], Depends(_posted)]


def _with_holidays(form: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The form with the chosen country's public holidays added to its holiday list."""
    year_raw = str(form.get("holiday_year", "")).strip()
    if not year_raw.isdigit():
        raise Invalid("holiday year must be a year such as 2027", field="holiday_year")
    found = public_holidays(
        str(form.get("holiday_country", "")), int(year_raw), form.get("holiday_region") or None
    )
    have = {line[:10] for line in str(form.get("holidays", "")).splitlines() if line.strip()}
    lines = [line for line in str(form.get("holidays", "")).splitlines() if line.strip()]
    lines += [f"{day} {name}" for day, name in found if day not in have]
    added = len(lines) - len(have)
    return {**form, "holidays": "\n".join(sorted(lines))}, (
        f"{added} public holidays added for {form['holiday_country'].upper()} {year_raw}: "
        "review them, then save."
    )


def _save(
    request: Request,
    me: WebUser,
    session: SessionDep,
    form: dict[str, Any],
    policy: SlaPolicy | None,
) -> Response:
    if form.get("action") == "import":
        try:
            form, note = _with_holidays(form)
        except HubError as exc:
            return _editor(request, session, me, policy=policy, form=form, error=exc)
        return _editor(request, session, me, policy=policy, form=form, note=note)
    try:
        fields = _fields(form)
        if policy is None:
            policy = policies.create_policy(session, me.actor, fields)
        else:
            policy = policies.update_policy(session, me.actor, policy.id, fields)
    except HubError as exc:
        session.rollback()
        return _editor(request, session, me, policy=policy, form=form, error=exc)
    session.commit()
    return redirect(
        "/admin/sla",
        flash=_saved_message(policy),
        args={
            "group": group_names(session, me.actor.tenant_id).get(policy.group_id, "?")
            if policy.group_id is not None
            else "",
            "category": policy.category or "",
            "priority": policy.priority,
        },
    )


def _saved_message(policy: SlaPolicy) -> str:
    """The "saved" flash of a policy's scope: "Billing / High", or "Tier 2 / every category /
    High" for a group's policy (its values in ``args``)."""
    if policy.group_id is not None:
        if policy.category:
            return N_("SLA policy for %(group)s / %(category)s / %(priority)s saved.")
        return N_("SLA policy for %(group)s / every category / %(priority)s saved.")
    if policy.category:
        return N_("SLA policy for %(category)s / %(priority)s saved.")
    return N_("SLA policy for every category / %(priority)s saved.")


@router.post("/new", response_model=None)
def create(request: Request, me: PostUser, session: SessionDep, form: FormDep) -> Response:
    """Save a new policy (or add public holidays to the form being written)."""
    admin_only(me)
    return _save(request, me, session, form, None)


@router.get("/{policy_id}", response_class=HTMLResponse)
def edit_form(
    request: Request, me: PageUser, session: SessionDep, policy_id: PolicyId
) -> HTMLResponse:
    admin_only(me)
    policy = policies.get_policy(session, me.actor, policy_id)
    return _editor(request, session, me, policy=policy, form=_form_of(policy))


@router.post("/{policy_id}", response_model=None)
def save(
    request: Request, me: PostUser, session: SessionDep, policy_id: PolicyId, form: FormDep
) -> Response:
    """Save an edit (or add public holidays to the form)."""
    admin_only(me)
    return _save(request, me, session, form, policies.get_policy(session, me.actor, policy_id))


@router.post("/{policy_id}/delete", response_model=None)
def delete(me: PostUser, session: SessionDep, policy_id: PolicyId) -> Response:
    """Delete a policy: its tickets fall back to the next policy or the default targets."""
    admin_only(me)
    policies.delete_policy(session, me.actor, policy_id)
    session.commit()
    return redirect("/admin/sla", flash=N_("SLA policy deleted."))
