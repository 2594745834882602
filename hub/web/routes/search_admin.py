"""``/admin/search`` (admins): the tenant's search language, and how to search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from core import search
from core.errors import HubError
from hub.api.deps import SessionDep
from hub.api.routes.search import settings_of
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.session import PageUser, PostUser, WebUser, admin_only

router = APIRouter(prefix="/admin/search")


def _page(
    request: Request, session: SessionDep, me: WebUser, error: HubError | None = None
) -> HTMLResponse:
    return render(
        request,
        session,
        me,
        "admin/search.html",
        **form_failure(error),
        settings=settings_of(session, me.actor),
    )


@router.get("", response_class=HTMLResponse)
def search_settings(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """The language form."""
    admin_only(me)
    return _page(request, session, me)


@router.post("", response_model=None)
def save_search_settings(
    request: Request,
    me: PostUser,
    session: SessionDep,
    language: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """Save the language (the index follows in the same transaction)."""
    admin_only(me)
    try:
        changed = search.set_language(session, me.actor, language)
    except HubError as exc:
        session.rollback()
        return _page(request, session, me, exc)
    session.commit()
    if not changed:
        return redirect("/admin/search", flash=N_("Nothing changed."))
    return redirect(
        "/admin/search",
        flash=N_("Search now uses %(language)s."),
        args={"language": language.title()},
    )
