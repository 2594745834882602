"""Jinja2 rendering of pages with the layout's context (user, CSRF token, live state, flash)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from core import clock, lifecycle
from core.i18n import LOCALE_NAMES, negotiate, time_zones
from core.i18n.service import Prefs, Reader, reader
from core.security_headers import security_headers
from hub.web import i18n
from hub.web.live import live_state
from hub.web.session import WebUser

HERE = Path(__file__).parent
FLASH_COOKIE = "hub_flash"
# The browser's time zone (static/locale.js sets it from Intl.DateTimeFormat), for pages whose
# reader has not chosen one.
ZONE_COOKIE = "hub_tz"
# Scripts only from the hub itself (htmx and app.js are files, nothing inline); inline styles are
# allowed for the chart bar widths. The console is never framed. (The chat plugin's pages use the
# same builder, through core.api.)
SECURITY_HEADERS = security_headers()

templates = Jinja2Templates(directory=str(HERE / "templates"))


def _slug(value: str) -> str:
    return str(value).lower().replace(" ", "-")


def _size(value: int | None) -> str:
    n = value or 0
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def _cell(value: object) -> str:
    """A report table cell: blanks for none, two decimals for fractions."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


templates.env.filters["slug"] = _slug
templates.env.filters["cell"] = _cell
templates.env.filters["size"] = _size
i18n.install(templates.env)
templates.env.globals.update(
    STATUSES=lifecycle.STATUSES, PRIORITIES=lifecycle.PRIORITIES, CATEGORIES=lifecycle.CATEGORIES
)
templates.env.globals.update(LOCALE_NAMES=LOCALE_NAMES, TIME_ZONES=time_zones())


def request_reader(request: Request, me: WebUser | None) -> Reader:
    """The locale and zone a page is made in: the person's choices, the tenant's default
    language, the browser's (Accept-Language, the zone cookie), English and UTC."""
    browser_locale = negotiate(request.headers.get("accept-language"))
    browser_zone = unquote(request.cookies.get(ZONE_COOKIE, ""))
    if me is None:
        return reader(Prefs(), None, browser_locale=browser_locale, browser_zone=browser_zone)
    return reader(
        me.prefs, me.tenant_locale, browser_locale=browser_locale, browser_zone=browser_zone
    )


def render(
    request: Request,
    session: Session | None,
    me: WebUser | None,
    name: str,
    status: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    """A full page (or an htmx fragment: templates starting with ``_``)."""
    flash = request.cookies.get(FLASH_COOKIE)
    kind, _, text = unquote(flash).partition("|") if flash else ("", "", "")
    text, parts = read_flash(text)
    who = request_reader(request, me)
    context: dict[str, Any] = {
        "viewer": who,
        "lang": who.locale,
        # Ask the browser for its zone until the person has one (chosen, or told before).
        "detect_zone": me is not None
        and not me.prefs.time_zone
        and unquote(request.cookies.get(ZONE_COOKIE, "")) != me.prefs.browser_time_zone,
        "me": me,
        "csrf": me.csrf if me else ctx.pop("csrf", ""),
        "flash": {"kind": kind, "text": text, "parts": parts} if text else None,
        "now": clock.now(),
        "path": request.url.path,
        **ctx,
    }
    if me is not None and session is not None and not name.startswith("_"):
        context["live"] = live_state(session, me.actor)
    with i18n.reading_as(who):
        response = templates.TemplateResponse(request, name, context, status_code=status)
    if flash and not name.startswith("_"):
        response.delete_cookie(FLASH_COOKIE)
    response.headers.update(SECURITY_HEADERS)
    return response


def form_failure(error: Any) -> dict[str, Any]:
    """What a form page shows after a refused save (a ``HubError``, or None): its status, the
    message, and the field the message is about (rendered beside that field)."""
    if error is None:
        return {"status": 200, "error": None, "error_field": None}
    return {
        "status": error.status,
        "error": error.message,
        "error_field": getattr(error, "field", None),
    }


# A flash message: its English template (marked with ``N_``) and the values of its ``%(name)s``
# places. Several parts are shown one after the other.
FlashPart = tuple[str, Mapping[str, Any]]
_PARTS = "\x1e"  # between the English text (what a script or a test reads) and the parts


def redirect(
    url: str,
    flash: str | Sequence[FlashPart] | None = None,
    *,
    error: bool = False,
    args: Mapping[str, Any] | None = None,
) -> RedirectResponse:
    """303 to ``url`` (POST-redirect-GET) with an optional one-time message: a text marked with
    ``N_`` and its ``args`` (``redirect(u, flash=N_("Tag “%(name)s” saved."), args={...})``), or
    a list of such parts. It is stored in English and translated where it is shown, in the
    language of whoever reads the next page."""
    response = RedirectResponse(url, status_code=303)
    parts = [(flash, args or {})] if isinstance(flash, str) else list(flash or [])
    kept = [(text, {k: str(v) for k, v in values.items()}) for text, values in parts if text]
    if kept:
        english = " ".join(text % values if values else text for text, values in kept)
        value = ("error|" if error else "ok|") + english
        if any(values for _, values in kept) or len(kept) > 1:
            value += _PARTS + json.dumps(kept, ensure_ascii=False)
        response.set_cookie(FLASH_COOKIE, quote(value), httponly=True, samesite="lax", max_age=60)
    return response


def read_flash(text: str) -> tuple[str, list[FlashPart]]:
    """The flash cookie's English text and its parts (one part, the text, for a plain one)."""
    english, _, stored = text.partition(_PARTS)
    if stored:
        try:
            found = json.loads(stored)
            parts: list[FlashPart] = [
                (str(t), {str(k): str(v) for k, v in dict(a).items()}) for t, a in found
            ]
            return english, parts
        except (ValueError, TypeError):
            pass
    return english, [(english, {})] if english else []
