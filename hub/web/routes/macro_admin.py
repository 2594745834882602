"""Macro pages (admins): the tenant's macros, the editor (name, reply text with its placeholders
checked on save, internal or public, field changes, on or off), delete, and a preview of a
macro on a chosen ticket."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from core.automation import macro_admin
from core.automation import macros as macro_service
from core.errors import HubError, Invalid
from core.models import Macro
from core.services.tickets import get_ticket
from hub.api.deps import SessionDep
from hub.web.helpers import staff_members
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only

router = APIRouter(prefix="/admin/macros")
MacroId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Name = Annotated[str, Form(max_length=100)]
Body = Annotated[str, Form(max_length=20_000)]
Choice = Annotated[str, Form(max_length=50)]


def _form_of(macro: Macro) -> dict[str, Any]:
    changes = macro.changes or {}
    assignee = changes.get("assigned_to", "")
    return {
        "name": macro.name,
        "body": macro.body or "",
        "kind": "internal" if macro.is_internal else "public",
        "active": macro.is_active,
        "status": changes.get("status", ""),
        "priority": changes.get("priority", ""),
        "category": changes.get("category", ""),
        "assigned_to": "none" if "assigned_to" in changes and assignee is None else assignee,
        "add_tags": ", ".join(changes.get("add_tags") or []),
    }


def _fields(form: dict[str, Any]) -> dict[str, Any]:
    """The service's fields from the form (choices left empty are not changes)."""
    changes: dict[str, Any] = {
        name: form[name] for name in ("status", "priority", "category") if form[name]
    }
    if form["assigned_to"] == "none":
        changes["assigned_to"] = None
    elif str(form["assigned_to"]).isdigit():
        changes["assigned_to"] = int(form["assigned_to"])
    elif form["assigned_to"]:
        raise Invalid("choose an assignee from the list", field="assigned_to")
    tags = [t for t in str(form.get("add_tags", "")).split(",") if t.strip()]
    if tags:
        changes["add_tags"] = tags
    name = str(form["name"]).strip()
    if not name:
        raise Invalid("a macro needs a name", field="name")
    return {
        "name": name,
        "body": form["body"],
        "is_internal": form["kind"] == "internal",
        "is_active": bool(form["active"]),
        "changes": changes,
    }


def _editor(
    request: Request,
    session: SessionDep,
    me: WebUser,
    *,
    macro: Macro | None,
    form: dict[str, Any],
    error: HubError | None = None,
) -> HTMLResponse:
    return render(
        request,
        session,
        me,
        "admin/macro_edit.html",
        **form_failure(error),
        macro=macro,
        form=form,
        placeholders=macro_service.PLACEHOLDER_HELP,
        staff=staff_members(session, me.actor.tenant_id),
    )


@router.get("", response_class=HTMLResponse)
def macro_list(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """Every macro of the tenant, by name."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/macros.html",
        macros=macro_admin.list_macros(session, me.actor),
    )


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    admin_only(me)
    form = _form_of(Macro(name="", body="", is_internal=False, is_active=True, changes={}))
    return _editor(request, session, me, macro=None, form=form)


def _posted(
    name: str,
    body: str,
    kind: str,
    active: str,
    status: str,
    priority: str,
    category: str,
    assigned_to: str,
    add_tags: str = "",
) -> dict[str, Any]:
    return {
        "name": name,
        "body": body,
        "kind": kind,
        "active": active == "on",
        "status": status,
        "priority": priority,
        "category": category,
        "assigned_to": assigned_to,
        "add_tags": add_tags,
    }


@router.post("/new", response_model=None)
def create(
    request: Request,
    me: PostUser,
    session: SessionDep,
    name: Name = "",
    body: Body = "",
    kind: Choice = "public",
    active: Choice = "",
    status: Choice = "",
    priority: Choice = "",
    category: Choice = "",
    assigned_to: Choice = "",
    add_tags: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Save a new macro; a refused value comes back in its field with the reason."""
    admin_only(me)
    form = _posted(name, body, kind, active, status, priority, category, assigned_to, add_tags)
    try:
        macro = macro_admin.create_macro(session, me.actor, _fields(form))
    except HubError as exc:
        session.rollback()
        return _editor(request, session, me, macro=None, form=form, error=exc)
    session.commit()
    return redirect(
        f"/admin/macros/{macro.id}", flash=N_("Macro “%(name)s” saved."), args={"name": macro.name}
    )


@router.get("/{macro_id}", response_class=HTMLResponse)
def edit_form(
    request: Request,
    me: PageUser,
    session: SessionDep,
    macro_id: MacroId,
    ticket: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """The editor, and (``?ticket=<id>``) the macro as it would read on that ticket."""
    admin_only(me)
    macro = macro_admin.get_macro(session, me.actor, macro_id)
    response = _editor(request, session, me, macro=macro, form=_form_of(macro))
    if ticket is None:
        return response
    try:
        found = get_ticket(session, me.actor, ticket)
        shown = macro_service.preview(session, me.actor, macro, found)
    except HubError as exc:
        return render(
            request,
            session,
            me,
            "admin/macro_edit.html",
            status=exc.status,
            macro=macro,
            form=_form_of(macro),
            error=f"Preview: {exc.message}",
            error_field="ticket",
            placeholders=macro_service.PLACEHOLDER_HELP,
            staff=staff_members(session, me.actor.tenant_id),
            preview_ticket=ticket,
        )
    return render(
        request,
        session,
        me,
        "admin/macro_edit.html",
        macro=macro,
        form=_form_of(macro),
        error=None,
        error_field=None,
        placeholders=macro_service.PLACEHOLDER_HELP,
        staff=staff_members(session, me.actor.tenant_id),
        preview=shown,
        preview_ticket=found.id,
        preview_subject=found.subject,
    )


@router.post("/{macro_id}", response_model=None)
def save(
    request: Request,
    me: PostUser,
    session: SessionDep,
    macro_id: MacroId,
    name: Name = "",
    body: Body = "",
    kind: Choice = "public",
    active: Choice = "",
    status: Choice = "",
    priority: Choice = "",
    category: Choice = "",
    assigned_to: Choice = "",
    add_tags: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Save an edit."""
    admin_only(me)
    form = _posted(name, body, kind, active, status, priority, category, assigned_to, add_tags)
    try:
        macro = macro_admin.update_macro(session, me.actor, macro_id, _fields(form))
    except HubError as exc:
        session.rollback()
        found = macro_admin.get_macro(session, me.actor, macro_id)
        return _editor(request, session, me, macro=found, form=form, error=exc)
    session.commit()
    return redirect(
        f"/admin/macros/{macro.id}", flash=N_("Macro “%(name)s” saved."), args={"name": macro.name}
    )


@router.post("/{macro_id}/delete", response_model=None)
def delete(me: PostUser, session: SessionDep, macro_id: MacroId) -> Response:
    """Delete a macro (rules that send it then fail, audited)."""
    admin_only(me)
    macro = macro_admin.get_macro(session, me.actor, macro_id)
    name = macro.name
    macro_admin.delete_macro(session, me.actor, macro_id)
    session.commit()
    return redirect("/admin/macros", flash=N_("Macro “%(name)s” deleted."), args={"name": name})
