"""Language and time zone: one's own (the account page's "Language and time zone" form, and the
browser's zone reported once by ``static/locale.js``) and the organisation's default language
(``/admin/language``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from core.errors import HubError
from core.i18n import LOCALE_NAMES, negotiate
from core.i18n.service import record_browser, save_prefs, set_tenant_locale
from hub.api.deps import HubDep, SessionDep, client_ip
from hub.web.i18n import N_
from hub.web.render import form_failure, redirect, render
from hub.web.routes.access_control import _account_page
from hub.web.session import PageUser, PostUser, admin_only

router = APIRouter()


@router.post("/account/language", response_model=None)
def save_language(
    request: Request,
    me: PostUser,
    session: SessionDep,
    hub: HubDep,
    locale: Annotated[str, Form(max_length=20)] = "",
    time_zone: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """Save my language and time zone (empty: as my browser says)."""
    try:
        save_prefs(session, me.actor, locale=locale, time_zone=time_zone)
    except HubError as exc:
        session.rollback()
        failure = form_failure(exc)
        return _account_page(
            request,
            session,
            me,
            hub,
            status=failure["status"],
            language_error=failure["error"],
            language_field=failure["error_field"],
            language_sent={"locale": locale, "time_zone": time_zone},
        )
    session.commit()
    return redirect("/account#language", flash=N_("Your language and time zone are saved."))


@router.post("/account/language/browser", response_model=None)
def browser_zone(
    request: Request,
    me: PostUser,
    session: SessionDep,
    time_zone: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """What the browser says (its Intl time zone, its Accept-Language), kept for the mail this
    person gets until they choose; 204, or 422 naming the field."""
    try:
        record_browser(
            session,
            me.actor,
            time_zone=time_zone,
            locale=negotiate(request.headers.get("accept-language")),
        )
    except HubError as exc:
        session.rollback()
        return Response(exc.message, status_code=exc.status, media_type="text/plain")
    session.commit()
    return Response(status_code=204)


@router.get("/admin/language", response_class=HTMLResponse)
def tenant_language_page(request: Request, me: PageUser, session: SessionDep) -> HTMLResponse:
    """The organisation's default language (its requesters')."""
    admin_only(me)
    return render(
        request,
        session,
        me,
        "admin/language.html",
        current=me.tenant_locale or "",
        locales=LOCALE_NAMES,
        **form_failure(None),
    )


@router.post("/admin/language", response_model=None)
def save_tenant_language(
    request: Request,
    me: PostUser,
    session: SessionDep,
    locale: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Set the default language ("" : each person's browser); audited."""
    admin_only(me)
    try:
        set_tenant_locale(session, me.actor, locale, ip=client_ip(request))
    except HubError as exc:
        session.rollback()
        return render(
            request,
            session,
            me,
            "admin/language.html",
            current=locale,
            locales=LOCALE_NAMES,
            **form_failure(exc),
        )
    session.commit()
    return redirect("/admin/language", flash=N_("The default language is saved."))
