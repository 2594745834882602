"""Typed dependencies: the hub, a session per request, and the authenticated actor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyCookie, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from core.crypto import hash_token
from core.errors import Forbidden, Unauthenticated
from core.permissions import Actor
from core.services import identity, sessions, tokens
from hub.context import Hub

log = logging.getLogger(__name__)

SESSION_COOKIE = "hub_session"
CSRF_COOKIE = "hub_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_MAX_AGE = 14 * 24 * 3600


def client_ip(request: Request) -> str:
    """The client address of a request (what audit rows and throttles record)."""
    return request.client.host if request.client else "unknown"


async def get_hub(request: Request) -> Hub:
    return request.app.state.hub


HubDep = Annotated[Hub, Depends(get_hub)]


async def get_session(request: Request, hub: HubDep) -> AsyncIterator[Session]:
    """One transaction per request, committed when the endpoint returns, BEFORE the answer.

    The dependency has ``scope="function"``: its exit runs right after the endpoint (and the
    response model) and before the response is sent, so a commit that fails turns into the
    error answer (503 for a database outage) instead of a 2xx for data that is gone. With the
    default request scope FastAPI would run this teardown after the response had left.

    Safe methods get a read session, which never waits behind a writer. The dependency is async
    so that a request costs one thread-pool hop (the endpoint's): database work at its edges goes
    to the pool only when there is some (most endpoints commit themselves).
    """
    read = request.method in ("GET", "HEAD")
    session = (hub.read_sessions if read else hub.sessions)()
    try:
        yield session
        if not read and (
            session.in_transaction() or session.new or session.dirty or session.deleted
        ):
            await run_in_threadpool(session.commit)
    except BaseException:
        if session.in_transaction():
            await run_in_threadpool(session.rollback)
        raise
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


# scope="function": teardown (the commit) before the response is sent; see get_session.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def session_serializer(hub: Hub) -> URLSafeTimedSerializer:
    # The keyring's session key (HKDF, its own label), never the raw secret nor the key that
    # encrypts stored secrets.
    return URLSafeTimedSerializer(hub.keyring.session_key, salt="hub-session")


def session_csrf(hub: Hub, session_id: str) -> str:
    """The CSRF token of a session: an HMAC of its id under the session key (nothing stored)."""
    mac = hmac.new(hub.keyring.session_key, b"csrf:" + session_id.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def make_session_cookie(
    hub: Hub,
    *,
    user_id: int,
    tenant_id: uuid.UUID,
    session: Session | None = None,
    user_agent: str = "",
    ip: str = "",
) -> tuple[str, str]:
    """(session cookie value, CSRF token) for a signed-in user.

    Creates the server-side session row (``core.services.sessions``), in ``session`` when given
    (the caller commits) or in a transaction of its own; the cookie carries only its random id,
    signed."""
    if session is None:
        with hub.session() as own:
            sid = sessions.create(
                own, user_id=user_id, tenant_id=tenant_id, user_agent=user_agent, ip=ip
            )
    else:
        sid = sessions.create(
            session, user_id=user_id, tenant_id=tenant_id, user_agent=user_agent, ip=ip
        )
    return session_serializer(hub).dumps({"s": sid}), session_csrf(hub, sid)


def read_session_cookie(hub: Hub, value: str) -> str | None:
    """The session id a cookie carries when its signature holds (the row decides the rest)."""
    try:
        data = session_serializer(hub).loads(value, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    sid = data.get("s") if isinstance(data, dict) else None
    return sid if isinstance(sid, str) and sid else None


def current_session_hash(request: Request, hub: Hub) -> str:
    """The stored id of the console session a request came with ("" without one)."""
    sid = read_session_cookie(hub, request.cookies.get(SESSION_COOKIE, ""))
    return hash_token(sid) if sid else ""


def live_session(
    hub: Hub, session: Session, sid: str, *, writes: bool = False
) -> sessions.SessionIdentity | None:
    """The identity of a live session, recording its activity at most once a minute: in
    ``session`` when it ``writes`` (a request's write session, committed with the request; on
    SQLite it holds the write lock, so a second writer would wait for it), else in a short
    write transaction of its own."""
    found = sessions.lookup(session, sid)
    if found is not None and found.touch_due:
        if writes:
            sessions.touch(session, found.session_hash)
        else:
            with hub.session() as write:
                sessions.touch(write, found.session_hash)
    return found


def _cookie_actor(request: Request, hub: Hub, session: Session) -> Actor | None:
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    sid = read_session_cookie(hub, value)
    if sid is None:
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not secrets.compare_digest(sent, session_csrf(hub, sid)):
            raise Forbidden("missing or wrong CSRF token")
    found = live_session(hub, session, sid)
    if found is None:
        return None  # revoked, expired, user inactive or membership gone
    return Actor(
        tenant_id=found.tenant_id,
        user_id=found.user_id,
        role=found.role,
        email=found.email,
        name=found.name,
    )


def lookup_token(hub: Hub, token: str) -> identity.TokenIdentity | None:
    """The identity behind a bearer token, checked against the database on every request (no
    cache: a revoked token, an expired one or a deactivated owner is a 401 on the very next
    request, in every process). Its ``last_used_at`` is written at most once a minute, in a
    short transaction of its own whose failure never refuses the request."""
    with hub.read_session() as session:
        found = identity.authenticate_token(session, token)
    if found is not None and tokens.touch_due(found.last_used_at):
        try:
            with hub.session() as write:
                tokens.record_use(write, found)
        except Exception:
            log.warning("could not record the use of token %s", found.token_id, exc_info=True)
    return found


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_scope(found: identity.TokenIdentity, method: str, path: str) -> str:
    """The role a token acts with, or ``Forbidden`` when its scope does not reach the route.

    ``read``: safe methods only. ``write``: no admin routes (``/api/v1/admin/``), and an admin's
    write token acts as an agent. ``admin``: whatever the owner's role allows."""
    if found.scope == "read" and method not in READ_METHODS:
        raise Forbidden("this token is read-only (scope read)")
    if found.scope != "admin" and path.startswith("/api/v1/admin/"):
        raise Forbidden(f"this token's scope ({found.scope}) does not reach admin routes")
    if found.scope != "admin" and found.role == "admin":
        return "agent"
    return found.role


def _cookie_lookup(request: Request, hub: Hub) -> Actor | None:
    with hub.read_session() as session:
        return _cookie_actor(request, hub, session)


# Declared for the OpenAPI document only (its security schemes, ``hub.openapi``): they read a
# header or cookie and never refuse; ``get_actor`` does the checking.
_bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer")
_cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="cookie")


async def get_actor(
    request: Request,
    hub: HubDep,
    _bearer: Annotated[object, Depends(_bearer_scheme)] = None,
    _cookie: Annotated[object, Depends(_cookie_scheme)] = None,
) -> Actor:
    """The caller, by ``Authorization: Bearer <token>`` or the web session cookie.

    Needs no session of the request's: a look-up uses a short read session of its own (a token
    is checked on every request, ``lookup_token``; its scope by ``check_scope``). An actor already found for this request
    (``hub.api.limits`` authenticates API writes before their body is read) is reused."""
    known = getattr(request.state, "actor", None)
    if isinstance(known, Actor):
        return known
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        # hub.api.ratelimit looked the token up already for this request, when it ran.
        if _has(request, "token_identity"):
            found = request.state.token_identity
        else:
            found = await run_in_threadpool(lookup_token, hub, token.strip())
        if found is None:
            raise Unauthenticated("the token is unknown, expired or revoked")
        role = check_scope(found, request.method, request.url.path)
        request.state.token_scope = found.scope
        actor = Actor(
            tenant_id=found.tenant_id,
            user_id=found.user_id,
            role=role,
            email=found.email,
            name=found.name,
        )
    else:
        cookie_actor = await run_in_threadpool(_cookie_lookup, request, hub)
        if cookie_actor is None:
            raise Unauthenticated("authentication required")
        actor = cookie_actor
    request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]


def _has(request: Request, name: str) -> bool:
    return name in request.scope.get("state", {})


def token_scope(request: Request) -> str | None:
    """The scope of the bearer token the request came with (None: a console session)."""
    return request.state.token_scope if _has(request, "token_scope") else None


MAX_ID = 2**63 - 1
# Path ids are bounded so that an absurd number is a 422, not a database overflow.
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
