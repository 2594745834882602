"""Errors an operator can act on, found before a process starts, and ``hub check``.

Each start-up check raises ``OperatorError`` with one line that says what is wrong and which
setting changes it (a bad or unreachable database URL, a port in use, an unwritable data
directory, pending migrations); the CLI prints the line and exits non-zero, without a traceback.
A URL is shown with its password masked. ``report`` lists every setting's effective value,
secrets masked, for ``hub check``.
"""

from __future__ import annotations

import errno
import os
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

if TYPE_CHECKING:
    from hub.settings import Settings

MASK = "********"
SECRET_WORDS = ("secret", "password", "token", "keys", "dsn")
CONNECT_TIMEOUT = 5


class OperatorError(Exception):
    """A setting or the environment stops the hub; the message is one line for the operator."""


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by ``********``."""
    if not url:
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        pass
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:{MASK}@{parts.hostname or ''}"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


# ------------------------------------------------------------------ start-up checks


def check_data_dir(settings: Settings) -> Path:
    """The data directory exists (made if need be) and the hub can write files in it."""
    path = Path(settings.data_dir).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise OperatorError(
            f"the data directory {path} is not writable ({exc.strerror or exc}): "
            "set HUB_DATA_DIR to a folder this user can write"
        ) from None
    return path


def check_database_url(settings: Settings) -> str:
    """The database URL is one SQLAlchemy can use; returns it."""
    url = settings.resolved_database_url
    try:
        parsed = make_url(url)
        create_engine(_psycopg(url)).dispose()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise OperatorError(
            f"HUB_DATABASE_URL is not a usable database URL ({mask_url(url)!r}: "
            f"{_first_line(exc)}); use postgresql://user:password@host/db or sqlite:///path"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise OperatorError(
            f"HUB_DATABASE_URL names {parsed.get_backend_name()!r}: the hub runs on "
            "PostgreSQL (postgresql://...) or SQLite (sqlite:///...)"
        )
    return url


def _psycopg(url: str) -> str:
    return (
        "postgresql+psycopg://" + url[len("postgresql://") :]
        if url.startswith("postgresql://")
        else url
    )


def check_database_reachable(settings: Settings) -> None:
    """The database accepts a connection (within ``CONNECT_TIMEOUT`` seconds)."""
    url = check_database_url(settings)
    args: dict[str, Any] = (
        {"connect_timeout": CONNECT_TIMEOUT} if url.startswith("postgresql") else {}
    )
    engine = create_engine(_psycopg(url), connect_args=args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise OperatorError(
            f"the database at {mask_url(url)} refuses the connection ({_first_line(exc)}): "
            "check HUB_DATABASE_URL and that the server is running"
        ) from None
    finally:
        engine.dispose()


def pending_migrations(settings: Settings) -> int:
    """How many migration heads of this code the database lacks."""
    from alembic.runtime.migration import MigrationContext

    from hub.health import code_heads

    engine = create_engine(_psycopg(settings.resolved_database_url))
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return len(code_heads() - current)


def check_migrations(settings: Settings) -> None:
    missing = pending_migrations(settings)
    if missing:
        raise OperatorError(
            f"the database is not up to date ({missing} migration head(s) not applied): "
            "run `hub migrate` first"
        )


def check_port(setting: str, host: str, port: int) -> None:
    """Nothing listens on ``host:port`` yet (the hub would fail to bind it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise OperatorError(
                f"port {port} on {host} is already in use: set {setting} (or --port) to a "
                "free port, or stop what listens there"
            ) from None
        raise OperatorError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): check {setting} and "
            f"{setting.replace('PORT', 'HOST')}"
        ) from None
    finally:
        sock.close()


def preflight(
    settings: Settings,
    *,
    database: bool = True,
    migrations: bool = True,
    ports: tuple[tuple[str, str, int], ...] = (),
) -> None:
    """The start-up checks of one command, in order; the first problem raises."""
    check_data_dir(settings)
    if database:
        check_database_reachable(settings)
        if migrations:
            check_migrations(settings)
    for setting, host, port in ports:
        check_port(setting, host, port)


# ------------------------------------------------------------------ hub check


def is_secret(name: str) -> bool:
    return any(word in name for word in SECRET_WORDS)


def effective_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(environment variable, effective value with secrets masked, where it came from)."""
    out = []
    given = set(settings.model_fields_set)
    for name in sorted(type(settings).model_fields):
        value = getattr(settings, name)
        env = f"HUB_{name.upper()}"
        source = "set" if name in given or env in os.environ else "default"
        if is_secret(name):
            shown = f"{MASK} (set)" if value else "(not set)"
        elif name.endswith("_url") or name == "rate_limit_storage":
            shown = mask_url(str(value))
        else:
            shown = str(value)
        out.append((env, shown, source))
    out.append(("(database)", mask_url(settings.resolved_database_url), "resolved"))
    out.append(("(broker)", mask_url(settings.resolved_broker_url), "resolved"))
    return out


def dependency_checks(settings: Settings) -> list[tuple[str, str]]:
    """(what, ``ok`` or the problem) for the data directory, the database and, when the
    database answers, every readiness check of a hub built on these settings."""
    results: list[tuple[str, str]] = []
    for name, check in (
        ("data directory", check_data_dir),
        ("database", check_database_reachable),
    ):
        try:
            check(settings)
            results.append((name, "ok"))
        except OperatorError as exc:
            results.append((name, f"failed: {exc}"))
    if any(v != "ok" for _, v in results):
        return results
    from hub import health
    from hub.context import Hub

    hub = Hub(settings)
    try:
        for name, outcome in health.run_checks(hub).items():
            if name != "database":
                results.append((name, outcome))
    finally:
        hub.engine.dispose()
    return results
