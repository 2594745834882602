"""Agents and assignment (admins): each agent's skills per category, open-ticket limit and
availability; the tenant's automation settings (assignment strategy, auto-close, auto-respond);
and the header's "available / away" switch every agent has for themself."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from core import lifecycle
from core.automation import rule_admin
from core.automation.models import ASSIGN_MODES
from core.errors import HubError, Invalid, NotFound
from core.services import agent_admin
from hub.api.deps import SessionDep
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only, staff_only

router = APIRouter()
UserId = Annotated[int, Path(ge=1, le=2_147_483_647)]
MODE_LABELS = {
    "round_robin": N_("Round robin: each new ticket to the next available agent"),
    "skill": N_("By skill: the most skilled available agent for the category, then the least busy"),
    "off": N_("Off: tickets wait in the queue for an agent to take them"),
}


def _agent(session: SessionDep, me: WebUser, user_id: int) -> agent_admin.AgentView:
    for view in agent_admin.agents(session, me.actor):
        if view.user_id == user_id:
            return view
    raise NotFound(f"no agent {user_id} in this tenant")


@router.get("/admin/agents", response_class=HTMLResponse)
def agent_list(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """Agents with their availability, load, limit and skills."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/agents.html",
        agents=agent_admin.agents(session, me.actor),
        settings=rule_admin.get_settings(session, me.actor),
        modes=MODE_LABELS,
    )


def _editor(
    request: Request,
    session: SessionDep,
    me: WebUser,
    agent: agent_admin.AgentView,
    form: dict[str, Any],
    error: HubError | None = None,
) -> HTMLResponse:
    return render(
        request,
        session,
        me,
        "admin/agent_edit.html",
        **form_failure(error),
        agent=agent,
        form=form,
        levels=range(agent_admin.MAX_LEVEL + 1),
    )


@router.get("/admin/agents/{user_id}", response_class=HTMLResponse)
def edit_form(request: Request, me: PageUser, session: SessionDep, user_id: UserId) -> HTMLResponse:
    admin_only(me)
    agent = _agent(session, me, user_id)
    form = {
        "max_open_tickets": "" if agent.max_open_tickets is None else str(agent.max_open_tickets),
        "available": agent.available,
        **{f"skill_{c}": str(agent.skills.get(c, 0)) for c in lifecycle.CATEGORIES},
    }
    return _editor(request, session, me, agent, form)


async def _posted(request: Request) -> FormData:
    return await request.form()


@router.post("/admin/agents/{user_id}", response_model=None)
def save(
    request: Request,
    me: PostUser,
    session: SessionDep,
    user_id: UserId,
    data: Annotated[FormData, Depends(_posted)],
) -> Response:
    """Save an agent's skills, limit and availability; a refused value stays in its field."""
    admin_only(me)
    agent = _agent(session, me, user_id)
    form: dict[str, Any] = {k: str(v)[:20] for k, v in data.items() if k != "csrf_token"}
    form["available"] = form.get("available") == "on"
    try:
        skills = {}
        for category in lifecycle.CATEGORIES:
            raw = form.get(f"skill_{category}", "0") or "0"
            if not raw.isdigit():
                raise Invalid(f"{category}: choose a level", field="skills")
            skills[category] = int(raw)
        limit_raw = str(form.get("max_open_tickets", "")).strip()
        if limit_raw and not limit_raw.isdigit():
            raise Invalid(
                "the open-ticket limit is a whole number, or empty", field="max_open_tickets"
            )
        agent_admin.set_agent(
            session,
            me.actor,
            user_id,
            skills=skills,
            max_open_tickets=int(limit_raw) if limit_raw else None,
            available=form["available"],
        )
    except HubError as exc:
        session.rollback()
        return _editor(request, session, me, agent, form, exc)
    session.commit()
    return redirect("/admin/agents", flash=N_("%(name)s saved."), args={"name": agent.name})


@router.post("/admin/automation", response_model=None)
def automation(
    me: PostUser,
    session: SessionDep,
    assign_mode: Annotated[str, Form(max_length=20)],
    auto_close_hours: Annotated[str, Form(max_length=10)] = "",
    auto_respond: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """The tenant's automation settings: assignment strategy, auto-close delay, auto-respond."""
    admin_only(me)
    try:
        if assign_mode not in ASSIGN_MODES:
            raise Invalid(
                f"assignment must be one of {', '.join(ASSIGN_MODES)}", field="assign_mode"
            )
        hours: float | None = None
        if auto_close_hours.strip():
            try:
                hours = float(auto_close_hours)
            except ValueError:
                raise Invalid(
                    "auto-close is a number of hours, or empty", field="auto_close_hours"
                ) from None
            if not 1 <= hours <= 24 * 365:
                raise Invalid(
                    "auto-close is from 1 hour to a year, or empty", field="auto_close_hours"
                )
        rule_admin.change_settings(
            session,
            me.actor,
            {
                "assign_mode": assign_mode,
                "auto_close_hours": hours,
                "auto_respond": auto_respond == "on",
            },
        )
    except HubError as exc:
        session.rollback()
        return redirect("/admin/agents", flash=exc.message, error=True)
    session.commit()
    return redirect("/admin/agents", flash=N_("Automation settings saved."))


@router.post("/account/availability", response_model=None)
def availability(
    request: Request,
    me: PostUser,
    session: SessionDep,
    available: Annotated[str, Form(pattern="^(yes|no)$")],
) -> Response:
    """The header's switch: take new tickets, or be away (staff)."""
    staff_only(me)
    agent_admin.set_own_availability(session, me.actor, available == "yes")
    session.commit()
    back = request.headers.get("referer", "/")
    target = back if back.startswith(str(request.base_url)) else "/"
    text = (
        N_("You are available for new tickets.")
        if available == "yes"
        else N_("You are away: no new tickets are assigned to you.")
    )
    return redirect(target, flash=text)
