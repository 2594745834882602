"""Attachments are scanned by a REAL clamd (tests.private_clamd, with the tests' own signature
database) through clamd's zINSTREAM: clean files are served, infected ones are quarantined and
never served whoever asks, and a stopped clamd gives the tenant's chosen behaviour."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.api import Forbidden, read_attachment
from core.models import Attachment, Audit, TenantAudit
from core.permissions import Actor
from core.services import quarantine
from core.services.tickets import get_ticket
from hub.app import create_app
from hub.builtin_scan import run_rescan
from hub.context import Hub
from hub.scan import ScanUnavailable, scan_bytes
from tests.conftest import Member, TenantSet
from tests.private_clamd import BODY_MARK, BODY_SIGNATURE, HASH_SIGNATURE, HASHED_FILE

T = "/api/v1/support/tickets/"
INFECTED = b"report line 1\n" + BODY_MARK + b"\nreport line 3\n"
NEW = {"subject": "log", "description": "see file", "category": "Other"}


def _scanning(hub: Hub, settings: Any, address: str) -> Hub:
    return Hub(settings.model_copy(update={"clamd_socket": address}), pm=hub.pm, engine=hub.engine)


@pytest.fixture
def scan_client(hub: Hub, settings: Any, real_clamd: Any) -> Iterator[tuple[Hub, TestClient]]:
    scanning = _scanning(hub, settings, real_clamd.socket)
    with TestClient(create_app(scanning)) as client:
        yield scanning, client


def _as(member: Member, client: TestClient) -> Member:
    return Member(**{**member.__dict__, "client": client})


def _upload(user: Member, tid: int, name: str, data: bytes) -> Any:
    return user.post(
        f"{T}{tid}/attachment/", files={"file": (name, io.BytesIO(data), "text/plain")}
    )


def test_scan_protocol_unix_and_tcp(real_clamd: Any, tmp_path: Any) -> None:
    assert scan_bytes(real_clamd.socket, b"hello") is None
    # Bigger than one INSTREAM chunk: the mark straddles no boundary but comes after several.
    found = scan_bytes(real_clamd.socket, b"x" * 200_000 + BODY_MARK)
    assert found is not None and found.startswith(BODY_SIGNATURE)
    tcp = scan_bytes(real_clamd.tcp, HASHED_FILE)
    assert tcp is not None and tcp.startswith(HASH_SIGNATURE)
    with pytest.raises(ScanUnavailable):
        scan_bytes(str(tmp_path / "missing.sock"), b"x")


def test_clean_passes_and_infected_is_quarantined(scan_client, org: TenantSet) -> None:  # type: ignore[no-untyped-def]
    scanning, client = scan_client
    user = _as(org.end_user, client)
    tid = user.post(T, json=NEW).json()["id"]
    good = _upload(user, tid, "notes.txt", b"fine")
    assert good.status_code == 201, good.text
    assert good.json()["scan_status"] == "clean" and good.json()["held"] is None
    assert user.get(good.json()["download_url"]).content == b"fine"
    bad = _upload(user, tid, "report.txt", INFECTED)
    assert bad.status_code == 201, bad.text
    body = bad.json()
    assert body["scan_status"] == "infected" and body["held"] == "infected"
    assert body["scan_signature"].startswith(BODY_SIGNATURE)
    assert body["download_url"] == ""
    with scanning.session() as s:
        actions = s.scalars(select(Audit.action).where(Audit.ticket_id == tid)).all()
    assert "Attachment Held" in actions


def _download_routes(app: Any) -> list[str]:
    """Every GET route of the app that serves one attachment, plugins' and pages' included."""
    from fastapi.routing import _IncludedRouter  # the flattened view of included routers

    def walk(routes: list[Any]) -> Iterator[str]:
        for route in routes:
            if isinstance(route, _IncludedRouter):
                yield from walk(route.effective_candidates())
                continue
            original = getattr(route, "original_route", route)
            path = getattr(route, "path", "") or getattr(original, "path", "")
            if "GET" in (getattr(original, "methods", None) or set()) and "attachment" in path:
                yield path

    return sorted({p for p in walk(app.routes) if re.search(r"attachments?/\{", p)})


def test_a_quarantined_file_is_never_served_whoever_asks(
    scan_client, org: TenantSet, other_org: TenantSet
) -> None:  # type: ignore[no-untyped-def]
    scanning, client = scan_client
    user = _as(org.end_user, client)
    tid = user.post(T, json=NEW).json()["id"]
    att = _upload(user, tid, "report.txt", INFECTED).json()["id"]
    routes = _download_routes(client.app)
    assert routes, "no download route found"
    people = [org.end_user, org.agent, org.admin, org.manager, other_org.admin]
    for path in routes:
        url = path.replace("{ticket_id}", str(tid)).replace("{attachment_id}", str(att))
        for who in people:
            r = _as(who, client).get(url)
            assert r.status_code in (403, 404), (url, who.role, r.status_code)
            assert BODY_MARK not in r.content
    # The ticket's pages and API answers show it held, never its bytes or a link to them.
    for who in (org.end_user, org.agent, org.admin):
        detail = _as(who, client).get(f"{T}{tid}/")
        assert BODY_MARK not in detail.content
        [listed] = detail.json()["attachments"]
        assert listed["held"] == "infected" and listed["download_url"] == ""
    # A plugin forwarding files (core.api.read_attachment) is refused too.
    with scanning.session() as s:
        admin = Actor(tenant_id=org.admin.tenant_id, user_id=org.admin.user_id, role="admin")
        ticket = get_ticket(s, admin, tid)
        with pytest.raises(Forbidden):
            read_attachment(s, admin, ticket, att, scanning.blob_store)


def test_release_makes_it_downloadable_and_delete_removes_it(
    scan_client, org: TenantSet, other_org: TenantSet
) -> None:  # type: ignore[no-untyped-def]
    scanning, client = scan_client
    user = _as(org.end_user, client)
    tid = user.post(T, json=NEW).json()["id"]
    one = _upload(user, tid, "one.txt", INFECTED).json()["id"]
    two = _upload(user, tid, "two.txt", INFECTED + b"2").json()["id"]
    admin = Actor(tenant_id=org.admin.tenant_id, user_id=org.admin.user_id, role="admin")
    stranger = Actor(
        tenant_id=other_org.admin.tenant_id, user_id=other_org.admin.user_id, role="admin"
    )
    agent = Actor(tenant_id=org.agent.tenant_id, user_id=org.agent.user_id, role="agent")
    with scanning.session() as s:
        with pytest.raises(Forbidden):
            quarantine.release(s, agent, one)
    from core.errors import NotFound

    with scanning.session() as s:
        with pytest.raises(NotFound):
            quarantine.release(s, stranger, one)
    with scanning.session() as s:
        held = [h.attachment.id for h in quarantine.held_files(s, admin)]
        assert set(held) == {one, two}
        quarantine.release(s, admin, one)
    r = user.get(f"{T}{tid}/attachments/{one}/")
    assert r.status_code == 200 and BODY_MARK in r.content
    with scanning.session() as s:
        key = s.get(Attachment, two).file_path
        gone = quarantine.delete(s, admin, two)
    assert gone.file_name == "two.txt" and gone.blob == key
    scanning.blob_store.delete(key)
    assert user.get(f"{T}{tid}/attachments/{two}/").status_code == 404
    with pytest.raises(FileNotFoundError):
        scanning.blob_store.get(key)
    with scanning.session() as s:
        actions = s.scalars(select(Audit.action).where(Audit.ticket_id == tid)).all()
    assert {"Attachment Released", "Attachment Deleted"} <= set(actions)


def _set_when_down(hub: Hub, org: TenantSet, value: str) -> None:
    admin = Actor(tenant_id=org.admin.tenant_id, user_id=org.admin.user_id, role="admin")
    with hub.session() as s:
        quarantine.set_when_down(s, admin, value)


def test_stopped_clamd_refuses_by_default_then_holds_when_chosen(
    hub: Hub, settings: Any, stoppable_clamd: Any, org: TenantSet
) -> None:
    scanning = _scanning(hub, settings, stoppable_clamd.socket)
    with TestClient(create_app(scanning)) as client:
        user = _as(org.end_user, client)
        tid = user.post(T, json=NEW).json()["id"]
        assert _upload(user, tid, "before.txt", b"fine").json()["scan_status"] == "clean"
        stoppable_clamd.stop()
        refused = _upload(user, tid, "notes.txt", b"fine too")
        assert refused.status_code == 503 and "scanner unavailable" in refused.json()["detail"]
        assert [a["file_name"] for a in user.get(f"{T}{tid}/attachments/").json()] == ["before.txt"]
        _set_when_down(scanning, org, "hold")
        with scanning.session() as s:
            assert s.scalar(
                select(TenantAudit.id).where(
                    TenantAudit.tenant_id == org.admin.tenant_id,
                    TenantAudit.action == quarantine.POLICY_CHANGED,
                )
            )
        clean = _upload(user, tid, "notes.txt", b"fine too").json()
        dirty = _upload(user, tid, "report.txt", INFECTED).json()
        for held in (clean, dirty):
            assert held["held"] == "unscanned" and held["scan_status"] == "not_scanned"
            assert user.get(f"{T}{tid}/attachments/{held['id']}/").status_code == 403
        # Still down: the rescan leaves them held.
        assert run_rescan(scanning).still_unscanned == 2
        stoppable_clamd.start()
        done = run_rescan(scanning)
        assert (done.clean, done.infected, done.still_unscanned) == (1, 1, 0)
        assert user.get(f"{T}{tid}/attachments/{clean['id']}/").content == b"fine too"
        after = {a["id"]: a for a in user.get(f"{T}{tid}/attachments/").json()}
        assert after[dirty["id"]]["held"] == "infected"
        assert after[dirty["id"]]["scan_signature"].startswith(BODY_SIGNATURE)
        assert user.get(f"{T}{tid}/attachments/{dirty['id']}/").status_code == 403


def test_quarantine_and_scan_policy_api(scan_client, org: TenantSet) -> None:  # type: ignore[no-untyped-def]
    scanning, client = scan_client
    user, admin = _as(org.end_user, client), _as(org.admin, client)
    tid = user.post(T, json=NEW).json()["id"]
    att = _upload(user, tid, "report.txt", INFECTED).json()["id"]
    [held] = [h for h in admin.get("/api/v1/admin/quarantine/").json() if h["id"] == att]
    assert held["scan_signature"].startswith(BODY_SIGNATURE) and held["ticket_subject"] == "log"
    policy = admin.get("/api/v1/admin/scan-policy/").json()
    assert policy["when_down"] == "refuse" and real_socket_named(policy["scanning"])
    bad = client.put(
        "/api/v1/admin/scan-policy/", json={"when_down": "shrug"}, headers=admin.headers
    )
    assert bad.status_code == 422
    ok = client.put("/api/v1/admin/scan-policy/", json={"when_down": "hold"}, headers=admin.headers)
    assert ok.json()["when_down"] == "hold"
    assert admin.get("/api/v1/admin/scan-policy/").json()["when_down"] == "hold"
    released = admin.post(f"/api/v1/admin/quarantine/{att}/release/").json()
    assert released["held"] is None and released["download_url"]
    assert BODY_MARK in user.get(released["download_url"]).content


def real_socket_named(scanning: str) -> bool:
    return scanning.startswith("ClamAV at ") and scanning.endswith("clamd.sock")


def test_hub_attachments_rescan_command(
    hub: Hub, settings: Any, stoppable_clamd: Any, org: TenantSet, monkeypatch: Any
) -> None:
    from typer.testing import CliRunner

    from hub.cli import app as cli

    monkeypatch.setenv("HUB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HUB_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("HUB_CLAMD_SOCKET", stoppable_clamd.socket)
    scanning = _scanning(hub, settings, stoppable_clamd.socket)
    _set_when_down(scanning, org, "hold")
    stoppable_clamd.stop()
    with TestClient(create_app(scanning)) as client:
        user = _as(org.end_user, client)
        tid = user.post(T, json=NEW).json()["id"]
        att = _upload(user, tid, "notes.txt", b"fine").json()
        assert att["held"] == "unscanned"
        down = CliRunner().invoke(cli, ["attachments", "rescan"])
        assert down.exit_code == 1 and "1 still unscanned" in down.output, down.output
        stoppable_clamd.start()
        up = CliRunner().invoke(cli, ["attachments", "rescan"])
        assert up.exit_code == 0 and "1 clean" in up.output, up.output
        assert user.get(f"{T}{tid}/attachments/{att['id']}/").content == b"fine"
