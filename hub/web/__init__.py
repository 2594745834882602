"""The web console: end-user portal, agent console, admin and dashboard, server-rendered.

``mount(app, hub)`` adds the pages, the static files (htmx is vendored: no CDN at runtime) and
error handling that answers page requests with HTML instead of the API's JSON.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import HubError, Unauthenticated
from hub.context import Hub
from hub.web import models  # noqa: F401 - registers the web tables (truncated by tests)
from hub.web.render import HERE, render
from hub.web.routes import (
    access_control,
    admin,
    admin_index,
    agents_admin,
    auth,
    dashboard,
    duplicates,
    groups_admin,
    help_centre,
    invitations,
    kb_admin,
    language,
    live,
    macro_admin,
    mail_templates,
    notify_prefs,
    organisations,
    outbox_admin,
    password_reset,
    plugin_data,
    portal,
    presence,
    privacy,
    quarantine,
    queue,
    queue_layout,
    rate,
    reports,
    rules_admin,
    search_admin,
    security,
    signin_links,
    sla_admin,
    sla_risk,
    sso,
    tags_fields_admin,
    ticket,
    ticket_articles,
    ticket_extras,
    two_factor,
)
from hub.web.session import SignInRequired, page_user

API_PREFIXES = ("/api/", "/plugins/", "/static/", "/docs", "/openapi", "/redoc", "/healthz")
ROUTERS = (
    auth.router,
    portal.router,
    ticket.router,
    queue.router,
    queue_layout.router,
    admin.router,
    admin_index.router,
    access_control.router,
    dashboard.router,
    reports.router,
    live.router,
    notify_prefs.router,
    sso.router,
    two_factor.router,
    security.router,
    quarantine.router,
    mail_templates.router,
    mail_templates.account_router,
    rate.router,
    invitations.router,
    password_reset.router,
    signin_links.router,
    help_centre.router,
    kb_admin.router,
    ticket_articles.router,
    macro_admin.router,
    sla_admin.router,
    sla_risk.router,
    agents_admin.router,
    groups_admin.router,
    outbox_admin.router,
    plugin_data.router,
    rules_admin.router,
    privacy.router,
    organisations.router,
    ticket_extras.router,
    tags_fields_admin.router,
    duplicates.router,
    search_admin.router,
    language.router,
    presence.router,
)


def mount(app: FastAPI, hub: Hub) -> None:
    """Add the console's routes, static files and HTML error pages to the app."""
    pages = {getattr(r, "endpoint", None) for router in ROUTERS for r in router.routes}
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _install_errors(app, hub, pages)


def _is_page(request: Request, pages: set[Any]) -> bool:
    """Whether the request was routed to one of the console's endpoints (not the API's)."""
    endpoint = request.scope.get("endpoint")
    return endpoint is not None and endpoint in pages


def _sign_in(request: Request) -> Response:
    if request.headers.get("hx-request"):
        # htmx follows redirects itself; tell it to load the sign-in page as a whole.
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = "/login" if request.method != "GET" else f"/login?next={target}"
    return RedirectResponse(url, status_code=303)


def _error_page_sync(request: Request, hub: Hub, status: int, message: str) -> Response:
    """The error page, with the signed-in user's navigation when there is one."""
    with hub.read_session() as session:
        try:
            me = page_user(request, hub, session)
        except (SignInRequired, HubError):
            return render(request, None, None, "error.html", status=status, message=message)
        return render(request, session, me, "error.html", status=status, message=message)


async def _error_page(request: Request, hub: Hub, status: int, message: str) -> Response:
    return await anyio.to_thread.run_sync(_error_page_sync, request, hub, status, message)


def _install_errors(app: FastAPI, hub: Hub, pages: set[Any]) -> None:
    api_hub_error: Any = app.exception_handlers.get(HubError)
    api_validation: Any = app.exception_handlers.get(RequestValidationError)
    api_http: Any = app.exception_handlers.get(StarletteHTTPException)

    async def signin_required(request: Request, exc: Exception) -> Response:
        return _sign_in(request)

    async def hub_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HubError)
        if not _is_page(request, pages):
            return await api_hub_error(request, exc)
        if isinstance(exc, Unauthenticated):
            return _sign_in(request)
        return await _error_page(request, hub, exc.status, exc.message)

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not _is_page(request, pages):
            return await api_validation(request, exc)
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        message = f"{where}: {first.get('msg', 'invalid input')}" if where else "Invalid input."
        return await _error_page(request, hub, 422, message)

    async def http_error(request: Request, exc: Exception) -> Response:
        # A browser's wrong address gets a page; API clients and plugin routes keep JSON.
        assert isinstance(exc, StarletteHTTPException)
        path = request.url.path
        wants_html = "text/html" in request.headers.get("accept", "")
        if not wants_html or path.startswith(API_PREFIXES):
            return await api_http(request, exc)
        message = "This page does not exist." if exc.status_code == 404 else str(exc.detail)
        return await _error_page(request, hub, exc.status_code, message)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(SignInRequired, signin_required)
    app.add_exception_handler(HubError, hub_error)
    app.add_exception_handler(RequestValidationError, validation_error)
