"""API rate limiting per token (``limits``, fixed windows), per client address without a token.

Every answer under ``/api/`` carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds until the window ends; IETF draft names); a call over the limit is
answered 429 with ``Retry-After`` and the same headers, before the route runs or a body is read.

* With a bearer token the key is (a prefix of) the token's hash and the rate the tenant's
  (``Tenant.settings["api_rate_limit"]``, ``core.services.api_limits``) or the hub's default
  (``HUB_API_RATE_LIMIT``, 600/minute). A tenant's rate is cached here for ``RATE_TTL`` seconds,
  so a request costs no query for it (another process sees a change within that time).
* With a console session cookie (its signature checked, no query) the key is the session and
  the rate the hub's default.
* Otherwise (anonymous calls, sign-in, unknown tokens) the key is the client address and the
  rate ``HUB_API_RATE_LIMIT_ANONYMOUS`` (120/minute).

The token is looked up once here and kept on the request for ``get_actor`` (no second query).
Counters live where the sign-in throttle's do (``hub.ratelimit.storage_uri``): memory on
``make run``, Redis in production (``HUB_RATELIMIT_STORAGE``). If the storage is down the API is
not limited (a warning is logged) rather than refused to everyone.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
import weakref
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.crypto import hash_token
from core.services import api_limits
from hub.api.errors import DATABASE_DOWN, database_down
from hub.context import Hub

log = logging.getLogger(__name__)
RATE_TTL = 30.0  # seconds a tenant's rate is kept before it is read again


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_in: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_in),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, self.reset_in))
        return out


class ApiRateLimiter:
    def __init__(
        self,
        storage_uri: str = "memory://",
        *,
        default: str = "600/minute",
        anonymous: str = "120/minute",
        rate_ttl: float = RATE_TTL,
    ) -> None:
        storage = storage_from_string(storage_uri)
        if not isinstance(storage, Storage):
            raise ValueError(f"{storage_uri!r} names an asyncio storage; use a synchronous one")
        self.storage: Storage = storage
        self.in_memory = isinstance(storage, MemoryStorage)
        self.limiter = FixedWindowRateLimiter(storage)
        self.default: RateLimitItem = parse(default)
        self.anonymous: RateLimitItem = parse(anonymous)
        self.rate_ttl = rate_ttl
        self._rates: dict[uuid.UUID, tuple[float, RateLimitItem]] = {}

    def cached_rate(self, tenant_id: uuid.UUID) -> RateLimitItem | None:
        """The tenant's rate when it was read less than ``rate_ttl`` seconds ago."""
        hit = self._rates.get(tenant_id)
        if hit is not None and time.monotonic() - hit[0] < self.rate_ttl:
            return hit[1]
        return None

    def rate_for(self, hub: Hub, tenant_id: uuid.UUID) -> RateLimitItem:
        """The tenant's per-token rate, read at most every ``rate_ttl`` seconds."""
        cached = self.cached_rate(tenant_id)
        if cached is not None:
            return cached
        at = time.monotonic()
        with hub.read_session() as session:
            value = api_limits.rate_of(session, tenant_id)
        item = parse(value) if value else self.default
        if len(self._rates) > 10_000:
            self._rates.clear()
        self._rates[tenant_id] = (at, item)
        return item

    def invalidate(self, tenant_id: uuid.UUID | None = None) -> None:
        """Forget a tenant's cached rate (after an admin changed it), or every one."""
        if tenant_id is None:
            self._rates.clear()
        else:
            self._rates.pop(tenant_id, None)

    def hit(self, item: RateLimitItem, *keys: str) -> Decision | None:
        """Count one call; None when the storage is unavailable (not limited)."""
        try:
            allowed = self.limiter.hit(item, *keys)
            stats = self.limiter.get_window_stats(item, *keys)
        except Exception:
            log.warning("API rate-limit storage unavailable; not limiting", exc_info=True)
            return None
        return Decision(
            allowed=allowed,
            limit=item.amount,
            remaining=max(0, int(stats.remaining)),
            reset_in=max(0, math.ceil(stats.reset_time - time.time())),
        )

    def reset(self) -> None:
        """Forget every counter and cached rate (tests; memory storage only)."""
        self._rates.clear()
        if isinstance(self.storage, MemoryStorage):
            self.storage.reset()


_limiters: weakref.WeakKeyDictionary[Hub, ApiRateLimiter] = weakref.WeakKeyDictionary()


def api_limiter(hub: Hub) -> ApiRateLimiter:
    """The hub's API limiter, made on first use."""
    limiter = _limiters.get(hub)
    if limiter is None:
        from hub.ratelimit import storage_uri

        limiter = _limiters[hub] = ApiRateLimiter(
            storage_uri(hub),
            default=hub.settings.api_rate_limit,
            anonymous=hub.settings.api_rate_limit_anonymous,
        )
    return limiter


def install(hub: Hub, limiter: ApiRateLimiter) -> None:
    """Use this limiter for the hub (tests use short windows)."""
    _limiters[hub] = limiter


def reset_all() -> None:
    for limiter in list(_limiters.values()):
        limiter.reset()


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _session_id(hub: Hub, scope: Scope) -> str | None:
    """The session id of a validly signed console cookie (its row is not read here)."""
    from hub.api.deps import SESSION_COOKIE, read_session_cookie

    value = cookie_parser(_header(scope, b"cookie")).get(SESSION_COOKIE)
    return read_session_cookie(hub, value) if value else None


class ApiRateLimitMiddleware:
    """Pure ASGI, outside the routing: counts every ``/api/`` call before anything else runs."""

    def __init__(self, app: ASGIApp, *, hub: Hub) -> None:
        self.app, self.hub = app, hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        try:
            decision = await self._decide(scope)
        except DATABASE_DOWN as exc:  # the token could not be checked
            await database_down(exc)(scope, receive, send)
            return
        if decision is None:
            await self.app(scope, receive, send)
            return
        headers = decision.headers()
        if not decision.allowed:
            await JSONResponse(
                {
                    "detail": f"too many requests; try again in {headers['Retry-After']} s",
                    "code": "rate_limited",
                },
                status_code=429,
                headers=headers,
            )(scope, receive, send)
            return
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *raw]
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _decide(self, scope: Scope) -> Decision | None:
        from hub.api.deps import lookup_token

        hub = self.hub
        limiter = api_limiter(hub)
        scheme, _, token = _header(scope, b"authorization").partition(" ")
        found = None
        if scheme.lower() == "bearer" and token.strip():
            found = await run_in_threadpool(lookup_token, hub, token.strip())
            scope.setdefault("state", {})["token_identity"] = found  # reused by get_actor
        item: RateLimitItem = limiter.anonymous
        if found is not None:
            cached = limiter.cached_rate(found.tenant_id)
            if cached is None:
                cached = await run_in_threadpool(limiter.rate_for, hub, found.tenant_id)
            item = cached
            # The key is (a prefix of) the token's hash: never the token itself.
            keys = ("api-token", hash_token(token.strip())[:32])
        elif (sid := _session_id(hub, scope)) is not None:
            # A console session (signed cookie: checked without a query) counts on its own at
            # the default per-token rate, not against everyone behind the same address.
            item, keys = limiter.default, ("api-session", hash_token(sid)[:32])
        else:
            client = scope.get("client")
            keys = ("api-ip", client[0] if client else "unknown")
        if limiter.in_memory:
            return limiter.hit(item, *keys)
        return await run_in_threadpool(limiter.hit, item, *keys)
