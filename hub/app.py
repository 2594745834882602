"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from hub import openapi, tracing
from hub.access import AccessLogMiddleware
from hub.api import errors
from hub.api.limits import BodyLimitMiddleware
from hub.api.rate_limit import ApiRateLimitMiddleware
from hub.api.routes import (
    access_control,
    admin,
    auth,
    auth_links,
    automation,
    comments,
    drafts,
    duplicates,
    groups,
    invitations,
    mail_templates,
    notifications,
    organisations,
    privacy,
    quarantine,
    reports,
    search,
    sla,
    tags_fields,
    tickets,
)
from hub.api.routes import kb as kb_routes
from hub.api.routes import ops as ops_routes
from hub.api.routes import sso as sso_routes
from hub.api.routes import two_factor as two_factor_routes
from hub.batching import GroupCommit
from hub.context import Hub, build_hub
from hub.cookies import SecureCookieMiddleware
from hub.plugins import call_each
from hub.settings import Settings

log = logging.getLogger("hub")


def create_app(hub: Hub | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the app around a hub (one per process); plugin routes mount under /plugins/<name>."""
    hub = hub or build_hub(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.ticket_writer.close()

    app = FastAPI(
        title="Teleops Support Hub",
        version="0.1.0",
        lifespan=lifespan,
        description="Multi-tenant support ticketing with pluggable channels.",
        # hub.openapi: named operation ids, and Swagger UI and ReDoc served without a CDN.
        generate_unique_id_function=openapi.operation_id,
        docs_url=None,
        redoc_url=None,
    )
    openapi.install(app)
    app.state.hub = hub
    app.state.ticket_writer = GroupCommit(
        hub.sessions, tickets.write_tickets, after_commit=hub.kick, name="ticket-writer"
    )
    errors.install(app)
    for module in (
        tickets,
        comments,
        drafts,
        reports,
        admin,
        access_control,
        auth,
        sla,
        automation,
        invitations,
        quarantine,
        privacy,
        mail_templates,
        notifications,
        groups,
        organisations,
        tags_fields,
        duplicates,
        search,
    ):
        app.include_router(module.router)
    app.include_router(kb_routes.router)
    app.include_router(sso_routes.router)
    app.include_router(two_factor_routes.router)
    app.include_router(auth_links.router)
    app.include_router(ops_routes.router)
    for name, router, error in call_each(hub.pm, "hub_routes", {"hub": hub}):
        if error is not None:
            raise error
        if router is None:
            continue
        outer = APIRouter(prefix=f"/plugins/{name}", tags=[f"plugin:{name}"])
        outer.include_router(router)
        app.include_router(outer)
    _mount_web(app, hub)
    # Behind https every cookie (console, API, plugins) is Secure (hub.cookies).
    app.add_middleware(SecureCookieMiddleware, settings=hub.settings)
    # Outside the routing: bodies capped per route before they are read, API writes
    # authenticated before their body is read (hub.api.limits).
    app.add_middleware(BodyLimitMiddleware, hub=hub)
    # Counted per token (or session, or client address) and answered 429 over the limit
    # before the routes run (hub.api.rate_limit).
    app.add_middleware(ApiRateLimitMiddleware, hub=hub)
    # Outermost: the access line, request metrics and X-Request-ID of every request.
    app.add_middleware(AccessLogMiddleware)
    # Off unless HUB_SENTRY_DSN / HUB_OTEL_ENDPOINT is set (hub.tracing).
    tracing.init_sentry(hub.settings)
    tracing.instrument_app(app, [hub.engine, hub.read_engine], hub.settings)
    return app


def _mount_web(app: FastAPI, hub: Hub) -> None:
    """The server-rendered console, when present."""
    try:
        from hub.web import mount
    except ImportError:
        return
    mount(app, hub)
