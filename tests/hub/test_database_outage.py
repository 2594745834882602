"""A database outage, for real: a private PostgreSQL this test starts, stops and restarts.

It never touches the machine's own PostgreSQL (5432): the cluster is made with the Debian
package's initdb in a temporary directory, listens on a free port of 127.0.0.1 only, and runs as
the ``postgres`` user when the tests run as root (PostgreSQL refuses to run as root). In CI a
missing PostgreSQL installation is a failure, never a skip (``tests.services.require``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.services import identity
from hub.app import create_app
from hub.context import Hub
from hub.migrate import upgrade
from hub.settings import Settings
from tests.private_servers import PrivatePostgres, pg_bindir
from tests.services import require

pytestmark = pytest.mark.postgres


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


@pytest.fixture
def outage_hub(private_pg: PrivatePostgres, tmp_path: Path) -> Iterator[tuple[Hub, TestClient]]:
    import psycopg

    with psycopg.connect(private_pg.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE hub")
    url = private_pg.url("hub")
    upgrade(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key="outage-secret-key-0123456789",
        base_url="http://hub.test",
        _env_file=None,
    )  # type: ignore[call-arg]
    hub = Hub(settings)
    with TestClient(create_app(hub), raise_server_exceptions=False) as client:
        yield hub, client
    hub.engine.dispose()


def _agent(hub: Hub) -> dict[str, str]:
    with hub.session() as s:
        tenant = identity.create_tenant(s, slug=f"t-{uuid.uuid4().hex[:6]}", name="Outage")
        user = identity.ensure_user(s, email="agent@outage.example")
        identity.ensure_member(s, tenant.id, user, "agent")
        token = identity.create_token(s, tenant.id, user)
    return {"Authorization": f"Bearer {token}"}


def _article(client: TestClient, headers: dict[str, str], n: int):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/support/kb/articles/",
        headers=headers,
        json={"title": f"Article {n}", "body": "text", "status": "published"},
    )


def test_outage_is_503_nothing_acknowledged_is_lost_and_restart_is_seamless(
    private_pg: PrivatePostgres, outage_hub: tuple[Hub, TestClient]
) -> None:
    hub, client = outage_hub
    headers = _agent(hub)
    acknowledged: list[int] = []

    def write(n: int):  # type: ignore[no-untyped-def]
        r = _article(client, headers, n)
        if r.status_code == 201:
            acknowledged.append(r.json()["id"])
        return r

    for n in range(5):
        assert write(n).status_code == 201
    # Tickets too (the group-commit writer), so the pool has connections of both paths.
    r = client.post(
        "/api/v1/support/tickets/",
        headers=headers,
        json={"subject": "before", "description": "the outage", "category": "Other"},
    )
    assert r.status_code == 201, r.text

    # 1. A restart nobody noticed: the pooled connections are dead, the first request succeeds.
    private_pg.stop()
    private_pg.start()
    first = write(100)
    assert first.status_code == 201, first.text
    assert client.get("/api/v1/support/kb/articles/", headers=headers).status_code == 200

    # 2. An outage: writes and reads answer 503 with Retry-After (never 500, never 2xx).
    private_pg.stop()
    for n in range(200, 203):
        down = write(n)
        assert down.status_code == 503, down.text
        assert int(down.headers["retry-after"]) > 0 and down.json()["detail"]
    read = client.get("/api/v1/support/kb/articles/", headers=headers)
    assert read.status_code == 503 and read.headers.get("retry-after")
    ticket = client.post(
        "/api/v1/support/tickets/",
        headers=headers,
        json={"subject": "during", "description": "the outage", "category": "Other"},
    )
    assert ticket.status_code == 503, ticket.text

    # 3. Back up: the first request succeeds, and every acknowledged write is there.
    private_pg.start()
    after = write(300)
    assert after.status_code == 201, after.text
    listed = client.get(
        "/api/v1/support/kb/articles/", headers=headers, params={"limit": 200}
    ).json()
    stored = {a["id"] for a in listed["results"]}
    assert set(acknowledged) <= stored and len(acknowledged) == 7
    assert listed["total"] == len(acknowledged)  # nothing answered 503 was stored either
    tickets = client.get("/api/v1/support/tickets/", headers=headers).json()["results"]
    assert [t["subject"] for t in tickets] == ["before"]
