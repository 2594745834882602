"""Readiness: whether this process can do its work now (``/readyz``; ``hub check`` reuses it).

Each check answers ``None`` (fine) or one line saying what is wrong, never a secret: the
database answers, the broker accepts a connection (unless it is the in-memory one), the
database is at every migration head this code knows, clamd answers when configured, and every
stored plugin secret decrypts with the hub's keys. Every check is bounded in time.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import text

from hub.log_config import get_logger

if TYPE_CHECKING:
    from hub.context import Hub

log = get_logger("hub.health")
TIMEOUT = 3.0
_heads: set[str] | None = None


def code_heads() -> set[str]:
    """The migration heads of the installed code (core and every plugin), computed once."""
    global _heads
    if _heads is None:
        from alembic.script import ScriptDirectory

        from hub.migrate import alembic_config

        _heads = set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    return _heads


def database_heads(hub: Hub) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with hub.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def check_database(hub: Hub) -> str | None:
    with hub.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return None


def check_migrations(hub: Hub) -> str | None:
    missing = code_heads() - database_heads(hub)
    if missing:
        return f"{len(missing)} migration head(s) not applied: run `hub migrate`"
    return None


def check_broker(hub: Hub) -> str | None:
    url = hub.settings.resolved_broker_url
    if url.startswith("memory://"):
        return None
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
        return None
    from kombu import Connection

    with Connection(url, connect_timeout=TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT)
    return None


def check_clamd(hub: Hub) -> str | None:
    where = hub.settings.clamd_socket
    if not where:
        return None
    if where.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address: object = where
    else:
        host, _, port = where.rpartition(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        address = (host or "127.0.0.1", int(port))
    sock.settimeout(TIMEOUT)
    try:
        sock.connect(address)  # type: ignore[arg-type]
        sock.sendall(b"zPING\0")
        answer = sock.recv(64)
    finally:
        sock.close()
    return None if answer.startswith(b"PONG") else "clamd did not answer PING"


def check_secrets(hub: Hub) -> str | None:
    from core.services import plugins as plugin_service

    with hub.read_session() as s:
        bad = plugin_service.undecryptable(s, hub.keyring)
    if not bad:
        return None
    for tenant_id, plugin in bad:
        log.error("stored secrets undecryptable", tenant=str(tenant_id), plugin=plugin)
    names = sorted({plugin for _, plugin in bad})
    return (
        f"{len(bad)} plugin configuration(s) have secrets no key decrypts ({', '.join(names)}): "
        "add the old key to HUB_SECRET_KEYS"
    )


CHECKS: dict[str, Callable[[Hub], str | None]] = {
    "database": check_database,
    "migrations": check_migrations,
    "broker": check_broker,
    "clamd": check_clamd,
    "secrets": check_secrets,
}
# Checks that need the database: skipped (reported as such) when it is down.
NEEDS_DATABASE = ("migrations", "secrets")


def run_checks(hub: Hub) -> dict[str, str]:
    """Each check's result: ``"ok"``, ``"skipped: ..."``, or ``"failed: <reason>"``."""
    out: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and out.get("database", "ok") != "ok":
            out[name] = "skipped: the database is unreachable"
            continue
        if name == "clamd" and not hub.settings.clamd_socket:
            out[name] = "skipped: not configured"
            continue
        try:
            problem = check(hub)
        except Exception as exc:
            problem = describe_error(exc)
        out[name] = "ok" if problem is None else f"failed: {problem}"
    failed = [n for n, v in out.items() if v.startswith("failed")]
    if failed:
        log.warning("not ready", failed=failed)
    return out


def describe_error(exc: BaseException) -> str:
    """One line about a failure, without credentials (URLs are never repeated)."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0] if reason else ""
    return f"{type(exc).__name__}: {first}"[:300]
