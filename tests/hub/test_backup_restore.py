"""Backup and restore as docs/deploy.md tells it: pg_dump of a private PostgreSQL plus the blob
store, restored into a new database and a new data directory; the ticket and its attachment read
back through the API of a hub on the restored copy."""

from __future__ import annotations

import io
import tarfile
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
from tests.samples import PNG
from tests.services import require

pytestmark = pytest.mark.postgres
KEY = "backup-secret-key-0123456789"


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


def _hub(url: str, data_dir: Path) -> Hub:
    return Hub(
        Settings(database_url=url, data_dir=data_dir, secret_key=KEY, _env_file=None)  # type: ignore[call-arg]
    )


def test_dump_and_blobs_restore_into_a_new_database(private_pg: PrivatePostgres, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    with psycopg.connect(private_pg.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE hub")
        conn.execute("CREATE DATABASE restored")
    url = private_pg.url("hub")
    upgrade(url)
    original_dir = tmp_path / "original"
    hub = _hub(url, original_dir)
    with hub.session() as s:
        tenant = identity.create_tenant(s, slug=f"t-{uuid.uuid4().hex[:6]}", name="Backup")
        user = identity.ensure_user(s, email="agent@backup.example")
        identity.ensure_member(s, tenant.id, user, "agent")
        token = identity.create_token(s, tenant.id, user)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(create_app(hub)) as client:
            made = client.post(
                "/api/v1/support/tickets/",
                headers=headers,
                json={"subject": "Keep me", "description": "through a restore"},
            )
            assert made.status_code == 201, made.text
            ticket_id = made.json()["id"]
            up = client.post(
                f"/api/v1/support/tickets/{ticket_id}/attachment/",
                headers=headers,
                files={"file": ("pixel.png", io.BytesIO(PNG), "image/png")},
            )
            assert up.status_code in (200, 201), up.text
    finally:
        hub.engine.dispose()

    # Backup: the database, then the blobs.
    dump = private_pg.dir / "hub.dump"
    private_pg.run(
        "pg_dump",
        "--format=custom",
        f"--file={dump}",
        "-h",
        "127.0.0.1",
        "-p",
        str(private_pg.port),
        "-U",
        "postgres",
        "hub",
    )
    blobs = tmp_path / "blobs.tar.gz"
    with tarfile.open(blobs, "w:gz") as tar:
        tar.add(original_dir / "attachments", arcname="attachments")

    # Restore into an empty database and a new data directory.
    private_pg.run(
        "pg_restore",
        "--no-owner",
        "-h",
        "127.0.0.1",
        "-p",
        str(private_pg.port),
        "-U",
        "postgres",
        "--dbname=restored",
        str(dump),
    )
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    with tarfile.open(blobs) as tar:
        tar.extractall(restored_dir)  # the archive made above
    restored_url = private_pg.url("restored")
    upgrade(restored_url)  # `hub migrate`: nothing to do at the same version
    again = _hub(restored_url, restored_dir)
    try:
        with TestClient(create_app(again)) as client:
            shown = client.get(f"/api/v1/support/tickets/{ticket_id}/", headers=headers)
            assert shown.status_code == 200, shown.text
            assert shown.json()["subject"] == "Keep me"
            listed = client.get(
                f"/api/v1/support/tickets/{ticket_id}/attachments/", headers=headers
            )
            assert listed.status_code == 200 and len(listed.json()) == 1
            attachment_id = listed.json()[0]["id"]
            data = client.get(
                f"/api/v1/support/tickets/{ticket_id}/attachments/{attachment_id}/", headers=headers
            )
            assert data.status_code == 200 and data.content == PNG
            assert client.get("/readyz").status_code == 200
    finally:
        again.engine.dispose()
