"""Agent groups and tiers (admins): the groups with their members and open tickets, a form to
create or change one (name, tier, description, members), and delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from core.errors import HubError, Invalid
from core.groups import service
from core.services import agent_admin
from hub.api.deps import SessionDep
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only

router = APIRouter()
GroupId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/admin/groups", response_class=HTMLResponse)
def group_list(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """Groups, the tiers in order first."""
    admin_only(me)
    names = {a.user_id: a.name for a in agent_admin.agents(session, me.actor)}
    return render(
        request,
        session,
        me,
        "admin/groups.html",
        groups=service.list_groups(session, me.actor),
        names=names,
    )


def _editor(
    request: Request,
    session: SessionDep,
    me: WebUser,
    *,
    group: service.GroupView | None,
    form: dict[str, Any],
    error: HubError | None = None,
) -> HTMLResponse:
    return render(
        request,
        session,
        me,
        "admin/group_edit.html",
        **form_failure(error),
        group=group,
        form=form,
        agents=agent_admin.agents(session, me.actor),
    )


def _form_of(group: service.GroupView | None) -> dict[str, Any]:
    if group is None:
        return {"name": "", "tier": "", "description": "", "members": []}
    return {
        "name": group.name,
        "tier": "" if group.tier is None else str(group.tier),
        "description": group.description,
        "members": list(group.member_ids),
    }


@router.get("/admin/groups/new", response_class=HTMLResponse)
def new_form(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    admin_only(me)
    return _editor(request, session, me, group=None, form=_form_of(None))


@router.get("/admin/groups/{group_id}", response_class=HTMLResponse)
def edit_form(
    request: Request, me: PageUser, session: SessionDep, group_id: GroupId
) -> HTMLResponse:
    admin_only(me)
    group = service.get_group(session, me.actor, group_id)
    return _editor(request, session, me, group=group, form=_form_of(group))


async def _posted(request: Request) -> FormData:
    return await request.form()


def _read(data: FormData) -> dict[str, Any]:
    picked = [str(v) for v in data.getlist("members")]
    members = [int(v) for v in picked if v.isdigit() and len(v) < 11]
    return {
        "name": str(data.get("name", ""))[:200],
        "tier": str(data.get("tier", "")).strip()[:4],
        "description": str(data.get("description", ""))[:2000],
        "members": members,
    }


def _tier(raw: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise Invalid("a tier is a whole number from 1 to 99, or empty", field="tier")
    return int(raw)


@router.post("/admin/groups/new", response_model=None)
def create(
    request: Request,
    me: PostUser,
    session: SessionDep,
    data: Annotated[FormData, Depends(_posted)],
) -> Response:
    """Create a group; a refused value stays in its field with the reason beside it."""
    admin_only(me)
    form = _read(data)
    try:
        row = service.create_group(
            session,
            me.actor,
            name=form["name"],
            description=form["description"],
            tier=_tier(form["tier"]),
            members=form["members"],
        )
    except HubError as exc:
        session.rollback()
        return _editor(request, session, me, group=None, form=form, error=exc)
    session.commit()
    return redirect("/admin/groups", flash=N_("Group “%(name)s” created."), args={"name": row.name})


@router.post("/admin/groups/{group_id}", response_model=None)
def save(
    request: Request,
    me: PostUser,
    session: SessionDep,
    group_id: GroupId,
    data: Annotated[FormData, Depends(_posted)],
) -> Response:
    """Save a group's name, tier, description and members."""
    admin_only(me)
    group = service.get_group(session, me.actor, group_id)
    form = _read(data)
    try:
        row = service.update_group(
            session,
            me.actor,
            group_id,
            name=form["name"],
            description=form["description"],
            tier=_tier(form["tier"]),
            members=form["members"],
        )
    except HubError as exc:
        session.rollback()
        return _editor(request, session, me, group=group, form=form, error=exc)
    session.commit()
    return redirect("/admin/groups", flash=N_("Group “%(name)s” saved."), args={"name": row.name})


@router.post("/admin/groups/{group_id}/delete", response_model=None)
def delete(me: PostUser, session: SessionDep, group_id: GroupId) -> Response:
    """Delete a group that owns no open ticket."""
    admin_only(me)
    try:
        group = service.get_group(session, me.actor, group_id)
        service.delete_group(session, me.actor, group_id)
    except HubError as exc:
        session.rollback()
        return redirect(f"/admin/groups/{group_id}", flash=exc.message, error=True)
    session.commit()
    return redirect(
        "/admin/groups", flash=N_("Group “%(name)s” deleted."), args={"name": group.name}
    )
