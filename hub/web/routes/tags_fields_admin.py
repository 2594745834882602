"""Admin pages for tags (``/admin/tags``: usage counts, rename, delete) and custom fields
(``/admin/fields``: create, edit, reorder, deactivate). Every change is audited by the services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from core import lifecycle
from core.errors import HubError
from core.fields import service as fields
from core.fields.models import FIELD_TYPES
from core.models import CustomField
from core.tags import service as tags
from hub.api.deps import SessionDep, client_ip
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only

router = APIRouter(prefix="/admin")
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


# ---------------------------------------------------------------- tags


@router.get("/tags", response_class=HTMLResponse)
def tag_list(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """The tenant's tags with how many tickets carry each."""
    admin_only(me)
    rows = tags.usage(session, me.actor, limit=1000)
    return render(request, session, me, "admin/tags.html", tags=rows)


@router.post("/tags/{tag_id}", response_model=None)
def rename(
    tag_id: RowId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Rename a tag; a name that exists already merges the two."""
    admin_only(me)
    try:
        kept = tags.rename_tag(session, me.actor, tag_id, name, ip=client_ip(request))
    except HubError as exc:
        session.rollback()
        return redirect("/admin/tags", flash=exc.message, error=True)
    session.commit()
    return redirect("/admin/tags", flash=N_("Tag renamed to “%(name)s”."), args={"name": kept.name})


@router.post("/tags/{tag_id}/delete", response_model=None)
def delete(tag_id: RowId, request: Request, me: PostUser, session: SessionDep) -> Response:
    """Delete a tag: it comes off every ticket."""
    admin_only(me)
    try:
        count = tags.delete_tag(session, me.actor, tag_id, ip=client_ip(request))
    except HubError as exc:
        session.rollback()
        return redirect("/admin/tags", flash=exc.message, error=True)
    session.commit()
    said = (
        N_("Tag deleted (it was on %(n)s ticket).")
        if count == 1
        else N_("Tag deleted (it was on %(n)s tickets).")
    )
    return redirect("/admin/tags", flash=said, args={"n": count})


# ---------------------------------------------------------------- fields


def _form_of(row: CustomField | None) -> dict[str, Any]:
    if row is None:
        return {
            "key": "",
            "label": "",
            "type": "text",
            "options": "",
            "required_categories": [],
            "show_on_ticket": True,
            "show_on_portal": False,
            "is_active": True,
        }
    return {
        "key": row.key,
        "label": row.label,
        "type": row.type,
        "options": "\n".join(row.options or []),
        "required_categories": list(row.required_categories or []),
        "show_on_ticket": row.show_on_ticket,
        "show_on_portal": row.show_on_portal,
        "is_active": row.is_active,
    }


def _posted_form(data: FormData) -> dict[str, Any]:
    return {
        "key": str(data.get("key") or "").strip()[:40],
        "label": str(data.get("label") or "")[:200],
        "type": str(data.get("type") or "")[:20],
        "options": str(data.get("options") or "")[:20_000],
        "required_categories": [str(c)[:50] for c in data.getlist("required_categories")],
        "show_on_ticket": bool(data.get("show_on_ticket")),
        "show_on_portal": bool(data.get("show_on_portal")),
        "is_active": bool(data.get("is_active")),
    }


def _options(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _editor(
    request: Request,
    session: SessionDep,
    me: WebUser,
    *,
    row: CustomField | None,
    form: dict[str, Any],
    error: HubError | None = None,
) -> HTMLResponse:
    return render(
        request,
        session,
        me,
        "admin/field_edit.html",
        **form_failure(error),
        row=row,
        form=form,
        types=fields.TYPE_LABELS,
        categories=lifecycle.CATEGORIES,
    )


async def _posted(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(_posted)]


@router.get("/fields", response_class=HTMLResponse)
def field_list(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """Every custom field of the tenant, in its order."""
    admin_only(me)
    rows = fields.list_fields(session, me.actor.tenant_id, active_only=False)
    return render(request, session, me, "admin/fields.html", fields=rows, types=fields.TYPE_LABELS)


@router.get("/fields/new", response_class=HTMLResponse)
def new_form(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    admin_only(me)
    return _editor(request, session, me, row=None, form=_form_of(None))


@router.post("/fields/new", response_model=None)
def create(request: Request, me: PostUser, session: SessionDep, data: Posted) -> Response:
    """Define a field; a refused value comes back beside its input."""
    admin_only(me)
    form = _posted_form(data)
    if form["type"] not in FIELD_TYPES:
        form["type"] = form["type"] or "text"
    try:
        row = fields.create_field(
            session,
            me.actor,
            key=form["key"],
            label=form["label"],
            type=form["type"],
            options=_options(form["options"]),
            required_categories=form["required_categories"],
            show_on_ticket=form["show_on_ticket"],
            show_on_portal=form["show_on_portal"],
            ip=client_ip(request),
        )
    except HubError as exc:
        session.rollback()
        return _editor(request, session, me, row=None, form=form, error=exc)
    session.commit()
    return redirect("/admin/fields", flash=N_("Field “%(name)s” added."), args={"name": row.label})


@router.get("/fields/{field_id}", response_class=HTMLResponse)
def edit_form(field_id: RowId, request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    admin_only(me)
    row = fields.get_field(session, me.actor, field_id)
    return _editor(request, session, me, row=row, form=_form_of(row))


@router.post("/fields/{field_id}", response_model=None)
def update(
    field_id: RowId, request: Request, me: PostUser, session: SessionDep, data: Posted
) -> Response:
    """Change a field's label, options, required categories, flags or activity."""
    admin_only(me)
    row = fields.get_field(session, me.actor, field_id)
    form = {**_posted_form(data), "key": row.key, "type": row.type}
    changes: dict[str, Any] = {
        "label": form["label"],
        "required_categories": form["required_categories"],
        "show_on_ticket": form["show_on_ticket"],
        "show_on_portal": form["show_on_portal"],
        "is_active": form["is_active"],
    }
    if row.type in fields.CHOICE_TYPES:
        changes["options"] = _options(form["options"])
    try:
        fields.update_field(session, me.actor, field_id, ip=client_ip(request), **changes)
    except HubError as exc:
        session.rollback()
        row = fields.get_field(session, me.actor, field_id)
        return _editor(request, session, me, row=row, form=form, error=exc)
    session.commit()
    return redirect(
        "/admin/fields", flash=N_("Field “%(name)s” saved."), args={"name": form["label"].strip()}
    )


@router.post("/fields/{field_id}/move", response_model=None)
def move(
    field_id: RowId,
    request: Request,
    me: PostUser,
    session: SessionDep,
    step: Annotated[str, Form(pattern="^(up|down)$")] = "up",
) -> Response:
    """Move a field one place up or down."""
    admin_only(me)
    try:
        fields.move_field(session, me.actor, field_id, step, ip=client_ip(request))
    except HubError as exc:
        session.rollback()
        return redirect("/admin/fields", flash=exc.message, error=True)
    session.commit()
    return redirect("/admin/fields", flash=N_("Order saved."))
