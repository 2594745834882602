"""Plugin data pages (admins): a plugin's admin table (``hub_admin_tables``: parked mail,
failing addresses ...) at ``/admin/data/<plugin>/<key>``, with its row actions
(``hub_admin_action``), confirmed first where the table asks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from core.errors import HubError, Invalid
from hub import admin_tables
from hub.api.deps import HubDep, SessionDep
from hub.web.render import redirect, render
from hub.web.session import PageUser, PostUser, admin_only

router = APIRouter()
Name = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,40}$")]


@router.get("/admin/data/{plugin}/{key}", response_class=HTMLResponse)
def data_table(
    request: Request, me: PageUser, session: SessionDep, hub: HubDep, plugin: Name, key: Name
) -> HTMLResponse:
    """One plugin table: its rows, their details folded, and the actions each row offers."""
    admin_only(me)
    found = admin_tables.table(hub, me.actor, plugin, key)
    return render(
        request,
        session,
        me,
        "admin/plugin_data.html",
        table=found,
        plugin_title=hub.infos[plugin].title if plugin in hub.infos else plugin,
    )


@router.post("/admin/data/{plugin}/{key}", response_model=None)
def data_action(
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    plugin: Name,
    key: Name,
    row: Annotated[str, Form(min_length=1, max_length=500)],
    action: Annotated[str, Form(pattern=r"^[a-z0-9_-]{1,40}$")],
    confirm: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """One action on one row; an action the table marks for confirmation needs ``confirm``."""
    admin_only(me)
    back = f"/admin/data/{plugin}/{key}"
    session.rollback()  # the plugin reads and writes through its own sessions
    try:
        found = admin_tables.table(hub, me.actor, plugin, key)
        if action in found.confirm and confirm != "yes":
            raise Invalid(
                f"tick the box to confirm “{found.actions.get(action, action)}”", field="confirm"
            )
        result = admin_tables.act(hub, session, me.actor, plugin, key, row, action)
    except HubError as exc:
        session.rollback()
        return redirect(back, flash=exc.message, error=True)
    session.commit()
    return redirect(back, flash=result.message, error=not result.ok)
