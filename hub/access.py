"""The access line and request metrics of every HTTP request (pure ASGI, outermost).

Each request gets a request id: the caller's ``X-Request-ID`` when it is a plausible one (at most
128 letters, digits, ``.``, ``_``, ``-``), else a new one; it is sent back in the answer's
``X-Request-ID`` and bound to every log line written while the request runs. After the answer,
one ``request`` line says method, route template, status, duration, tenant and user (found on the
request by ``hub.api.deps.get_actor``), and the request counters move (``hub.metrics``).
The path's query string, headers and body never reach the line.
"""

from __future__ import annotations

import re
import time
import uuid
import weakref
from typing import Any

import structlog
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub import metrics

_PLAUSIBLE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
UNMATCHED = "<unmatched>"


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            given = value.decode("latin-1").strip()
            if _PLAUSIBLE_ID.match(given):
                return given
            break
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The template of the route that answered (``/tickets/{ticket_id}``), never the path."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return _plain_route(scope)


_plain: weakref.WeakKeyDictionary[Any, tuple[dict[Any, str], list[str]]] = (
    weakref.WeakKeyDictionary()
)


def _plain_route(scope: Scope) -> str:
    """Routes the router does not name in the scope: plain Starlette routes (the OpenAPI
    document, the docs pages) by their endpoint, mounts (static files) by their prefix."""
    app = scope.get("app")
    router = getattr(app, "router", None)
    if router is None:
        return UNMATCHED
    known = _plain.get(app)
    if known is None:
        endpoints = {}
        mounts = []
        for r in getattr(router, "routes", ()):
            if isinstance(r, Mount):
                mounts.append(r.path)
            elif isinstance(r, Route):
                endpoints[r.endpoint] = r.path
        known = _plain[app] = (endpoints, mounts)
    endpoints, mounts = known
    endpoint = scope.get("endpoint")
    if endpoint is not None and endpoint in endpoints:
        return endpoints[endpoint]
    path = scope.get("path", "")
    for prefix in mounts:
        if path.startswith(prefix + "/"):
            return prefix + "/{path}"
    return UNMATCHED


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        header = (b"x-request-id", request_id.encode())
        status = 500
        scope.setdefault("state", {})

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *(h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"),
                    header,
                ]
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
            actor: Any = (scope.get("state") or {}).get("actor")
            metrics.observe_request(
                scope.get("method", ""),
                route_of(scope),
                status,
                time.perf_counter() - started,
                request_id=request_id,
                tenant=str(actor.tenant_id) if actor is not None else None,
                user=getattr(actor, "user_id", None),
            )
