"""/healthz is liveness only; /readyz checks the database, the broker, migrations, clamd and
stored secrets, and goes unready (503, naming the check) when a private PostgreSQL or Redis the
test starts is stopped (never the machine's own)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.context import Hub
from hub.migrate import alembic_config, upgrade
from hub.settings import Settings
from tests.private_servers import PrivatePostgres, PrivateRedis, pg_bindir
from tests.services import free_port, require


def _settings(tmp_path: Path, url: str, **kw: object) -> Settings:
    return Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key="health-secret-key-0123456789",
        base_url="http://hub.test",
        _env_file=None,
        **kw,
    )  # type: ignore[call-arg]


def test_ready_on_the_test_hub(client) -> None:  # type: ignore[no-untyped-def]
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert set(ready.json()["checks"]) == {"database", "migrations", "broker", "clamd", "secrets"}


def test_unready_with_pending_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0001_foundation")
    hub = Hub(_settings(tmp_path, url))
    with TestClient(create_app(hub), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["migrations"].startswith("failed") and "hub migrate" in checks["migrations"]
    assert checks["database"] == "ok"


def test_unready_when_clamd_does_not_answer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    upgrade(url)
    hub = Hub(_settings(tmp_path, url, clamd_socket=f"127.0.0.1:{free_port()}"))
    with TestClient(create_app(hub), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["clamd"].startswith("failed")


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    bindir = pg_bindir()
    require(bindir is not None, "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    assert bindir is not None
    pg = PrivatePostgres(bindir)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.cleanup()


@pytest.mark.postgres
def test_unready_while_a_private_postgres_is_stopped(private_pg: PrivatePostgres, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    with psycopg.connect(private_pg.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE hub")
    url = private_pg.url("hub")
    upgrade(url)
    hub = Hub(_settings(tmp_path, url))
    try:
        with TestClient(create_app(hub), raise_server_exceptions=False) as client:
            assert client.get("/readyz").status_code == 200
            private_pg.stop()
            down = client.get("/readyz")
            assert client.get("/healthz").status_code == 200, "alive, only not ready"
            private_pg.start()
            back = client.get("/readyz")
    finally:
        hub.engine.dispose()
    assert down.status_code == 503, down.text
    checks = down.json()["checks"]
    assert checks["database"].startswith("failed")
    assert checks["migrations"].startswith("skipped")
    assert "postgres@" not in down.text
    assert back.status_code == 200, back.text


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    require(server.binary is not None, "no redis-server on PATH")
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.mark.redis
def test_unready_while_a_private_redis_broker_is_stopped(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.sqlite3'}"
    upgrade(url)
    hub = Hub(_settings(tmp_path, url, broker_url=private_redis.url))
    with TestClient(create_app(hub), raise_server_exceptions=False) as client:
        assert client.get("/readyz").status_code == 200
        private_redis.stop()
        down = client.get("/readyz")
        private_redis.start()
        back = client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["checks"]["broker"].startswith("failed")
    assert down.json()["checks"]["database"] == "ok"
    assert back.status_code == 200, back.text
