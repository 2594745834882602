"""Request bodies are capped per route before they are read, and API calls authenticate first.

``BodyLimitMiddleware`` (pure ASGI, outside the routing) picks each request's cap from its path:
generous for attachment uploads (the attachment size the hub accepts, times the files a form may
carry, plus multipart overhead), small for everything else (JSON, forms, webhooks). A
``Content-Length`` above the cap is refused with a 413 before a byte of the body is read; a body
without one (chunked) is counted as it streams and refused once it passes the cap (starlette's
``RequestBodyLimitResponder`` does the counting; ``hub.api.errors`` words the 413).

A write to the API (``/api/v1/...`` except sign-in) is authenticated before its body is read: an
anonymous or wrongly authenticated caller gets its 401 without the hub reading, let alone
parsing, what it sent. The actor found is kept on the request for ``get_actor``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core.errors import HubError
from hub.api.errors import DATABASE_DOWN, database_down, too_large_body
from hub.context import Hub
from hub.web.helpers import MAX_UPLOAD_FILES

JSON_MAX_BYTES = 1024 * 1024  # any body that is not an upload: JSON, forms, webhooks
MULTIPART_OVERHEAD = 256 * 1024  # boundaries, part headers and the text fields of a form

# Routes that take file uploads, and how many files each may carry.
UPLOAD_ROUTES: tuple[tuple[str, str, int], ...] = (
    ("POST", r"/api/v1/support/tickets/\d+/attachment/", 1),
    ("POST", r"/tickets/\d+/reply", MAX_UPLOAD_FILES),
    ("POST", r"/tickets/new", MAX_UPLOAD_FILES),
)
# API paths that authenticate on their own (sign-in) or need no caller.
_ANONYMOUS_API = re.compile(r"^/api/v1/auth/")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        hub: Hub,
        default_max: int = JSON_MAX_BYTES,
        uploads: Sequence[tuple[str, str, int]] = UPLOAD_ROUTES,
    ) -> None:
        self.app = app
        self.hub = hub
        self.default_max = default_max
        per_file = hub.settings.attachment_max_bytes
        self.uploads = [
            (method, re.compile(f"^{pattern}$"), files * per_file + MULTIPART_OVERHEAD)
            for method, pattern, files in uploads
        ]

    def limit_for(self, method: str, path: str) -> int:
        for route_method, pattern, limit in self.uploads:
            if method == route_method and pattern.match(path):
                return limit
        return self.default_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        limit = self.limit_for(method, path)
        length = _content_length(scope)
        if length is not None and length > limit:
            # Refused on the header alone: the body is never read.
            await JSONResponse(
                too_large_body(limit), status_code=413, headers={"Connection": "close"}
            )(scope, receive, send)
            return
        if (
            method in _WRITE_METHODS
            and path.startswith("/api/v1/")
            and not _ANONYMOUS_API.match(path)
        ):
            refused = await self._authenticate(scope, receive)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await RequestBodyLimitResponder(self.app, limit)(scope, receive, send)

    async def _authenticate(self, scope: Scope, receive: Receive) -> JSONResponse | None:
        from hub.api.deps import get_actor

        try:
            await get_actor(Request(scope, receive), self.hub)  # keeps the actor on the state
        except DATABASE_DOWN as exc:  # tokens are checked in the database: 503, never 500
            return database_down(exc)
        except HubError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
            if _content_length(scope) or _chunked(scope):
                headers["Connection"] = "close"  # the unread body is not worth draining
            return JSONResponse(
                {"detail": exc.message, "code": exc.code}, status_code=exc.status, headers=headers
            )
        return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _chunked(scope: Scope) -> bool:
    return any(
        name == b"transfer-encoding" and b"chunked" in value.lower()
        for name, value in scope.get("headers", ())
    )
