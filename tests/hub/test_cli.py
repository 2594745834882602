"""The ``hub`` command line, run in-process against the test database, and ``hub run`` for real."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from core.models import Ticket
from core.permissions import system_actor
from core.services import channel_keys, identity
from core.services import plugins as plugin_service
from hub.cli import app
from hub.context import build_hub
from hub.settings import Settings
from tests.services import free_port

runner = CliRunner()


@pytest.fixture
def cli_env(settings, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HUB_SECRET_KEY", settings.secret_key)
    return settings


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["serve"],
        ["worker"],
        ["migrate"],
        ["smtp"],
        ["tenant", "create"],
        ["user", "create"],
        ["user", "invite"],
        ["token", "create"],
        ["token", "list"],
        ["token", "revoke"],
        ["user", "deactivate"],
        ["user", "reactivate"],
        ["user", "remove"],
        ["plugins", "list"],
        ["plugins", "enable"],
        ["plugins", "disable"],
        ["plugins", "configure"],
        ["reports"],
    ],
)
def test_help_on_every_command(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_tenant_user_token_plugins(cli_env, hub, client) -> None:  # type: ignore[no-untyped-def]
    assert "created" in _ok("tenant", "create", "acme", "--name", "Acme Inc")
    assert "is agent in acme" in _ok(
        "user",
        "create",
        "--tenant",
        "acme",
        "--email",
        "ann@acme.example",
        "--role",
        "agent",
        "--password",
        "pw-1234567890",
    )
    token = _ok("token", "create", "--tenant", "acme", "--email", "ann@acme.example").strip()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["email"] == "ann@acme.example" and me["role"] == "agent"
    assert "email" in _ok("plugins", "list")
    assert "enabled for acme" in _ok("plugins", "enable", "pagerduty", "--tenant", "acme")
    out = _ok(
        "plugins",
        "configure",
        "pagerduty",
        "--tenant",
        "acme",
        'priorities=["Critical", "High"]',
        "routing_key=R0UTINGKEY0123456789012345678901",
    )
    assert "routing_key (secret)" in out and "R0UTINGKEY" not in out
    listed = _ok("plugins", "list", "--tenant", "acme")
    assert "High" in listed and "R0UTINGKEY" not in listed
    assert "disabled for acme" in _ok("plugins", "disable", "pagerduty", "--tenant", "acme")


def test_offboarding_and_tokens_on_the_cli(cli_env, hub, client, org) -> None:  # type: ignore[no-untyped-def]
    slug = org.tenant[1]
    bearer = {"Authorization": f"Bearer {org.agent.token}"}
    tid = org.end_user.post(
        "/api/v1/support/tickets/",
        json={"subject": "VPN", "description": "down", "category": "Other"},
    ).json()["id"]
    org.admin.patch(f"/api/v1/support/tickets/{tid}/", json={"assigned_to": org.agent.user_id})

    token = _ok(
        "token", "create", "--tenant", slug, "--email", org.agent.email,
        "--name", "ro", "--scope", "read", "--expires", "7",
    ).strip()  # fmt: skip
    read = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/support/tickets/", headers=read).status_code == 200
    assert client.post("/api/v1/support/tickets/", headers=read, json={}).status_code == 403
    listed = _ok("token", "list", "--tenant", slug)
    assert token[:12] in listed and "read" in listed and token not in listed
    assert "revoked" in _ok("token", "revoke", token[:12])
    assert client.get("/api/v1/support/tickets/", headers=read).status_code == 401

    out = _ok(
        "user", "deactivate", org.agent.email, "--tenant", slug, "--reassign-to", org.admin.email
    )
    assert "deactivated in" in out and "1 open tickets reassigned" in out
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert org.admin.get(f"/api/v1/support/tickets/{tid}/").json()["assigned_to"] == (
        org.admin.user_id
    )
    assert "active again" in _ok("user", "reactivate", org.agent.email, "--tenant", slug)
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    # The whole account, everywhere (the operator's switch).
    assert "everywhere" in _ok("user", "deactivate", org.agent.email)
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert "active again" in _ok("user", "reactivate", org.agent.email)
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert "removed from" in _ok("user", "remove", org.agent.email, "--tenant", slug)
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    # The last admin is guarded on the CLI too.
    result = runner.invoke(app, ["user", "deactivate", org.admin.email, "--tenant", slug])
    assert result.exit_code == 2 and "last admin" in result.output
    result = runner.invoke(app, ["user", "deactivate", org.admin.email])
    assert result.exit_code == 2 and "last admin" in result.output
    result = runner.invoke(app, ["token", "revoke", "hub_nothing"])
    assert result.exit_code == 2 and "no token" in result.output


def test_cli_errors_are_clear(cli_env, hub) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["user", "create", "--tenant", "nope", "--email", "a@b.example"])
    assert result.exit_code == 2 and "no tenant nope" in result.output
    result = runner.invoke(
        app, ["user", "create", "--tenant", "x", "--email", "a@b.example", "--role", "boss"]
    )
    assert result.exit_code == 2 and "role must be one of" in result.output


def test_hub_run_starts_everything_and_stops_on_ctrl_c(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port, smtp_port = free_port(), free_port()
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(tmp_path / "var"),
        "HUB_PORT": str(port),
        "HUB_SMTP_PORT": str(smtp_port),
        "HUB_DATABASE_URL": "",
        "HUB_BROKER_URL": "",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("hub run did not answer /healthz within 60 s")
        # The demo tenant takes mail out of the box: a message becomes its ticket.
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
            client.sendmail(
                "jane@customer.test",
                ["support@demo.example"],
                b"From: Jane <jane@customer.test>\r\nTo: support@demo.example\r\n"
                b"Subject: VPN drops every hour\r\n\r\nSince Monday.\r\n",
            )
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
    assert "admin@demo.example" in output and "API token hub_" in output
    assert f"Mail to support@demo.example on 127.0.0.1:{smtp_port}" in output
    hub = build_hub(Settings(data_dir=tmp_path / "var", database_url=""))
    with hub.session() as session:
        mailed = session.scalars(select(Ticket.subject).where(Ticket.channel == "email")).all()
        assert mailed == ["VPN drops every hour"]
        assert len(session.scalars(select(Ticket.id)).all()) > 10  # the demo's own tickets
    hub.engine.dispose()
    assert "stopped" in output
    assert "manager@demo.example" in output and "A demo tenant 'demo' was created" in output
    # The logins again, on any later day.
    again = subprocess.run(
        [sys.executable, "-m", "hub.cli", "demo", "logins"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    for role in ("admin", "agent", "manager", "user"):
        assert f"{role}@demo.example" in again.stdout
    assert (tmp_path / "var" / "demo-logins.json").stat().st_mode & 0o077 == 0


def test_hub_smtp_with_two_processes_shares_the_port(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``hub smtp --processes 2``: two processes listen on one port (SO_REUSEPORT), every
    message sent lands once, and SIGINT stops them all."""
    from hub.migrate import upgrade

    smtp_port = free_port()
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(tmp_path / "var"),
        "HUB_SMTP_PORT": str(smtp_port),
        "HUB_DATABASE_URL": "",
        "HUB_BROKER_URL": "",
    }
    (tmp_path / "var").mkdir()
    settings = Settings(data_dir=tmp_path / "var", database_url="")
    upgrade(settings.resolved_database_url)
    hub = build_hub(settings)
    with hub.session() as session:
        tenant = identity.create_tenant(session, slug="acme", name="Acme")
        system = system_actor(tenant.id)
        plugin_service.set_enabled(session, system, "email", True)
        plugin_service.configure(
            session,
            system,
            "email",
            secrets={},
            keyring=hub.keyring,
            settings={"addresses": ["help@acme.test"]},
        )
        channel_keys.mark_verified(session, tenant.id, "email", "help@acme.test")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "smtp", "--processes", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        listening = []
        while len(listening) < 2:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line, "hub smtp stopped before both processes listened"
            if "SMTP intake listening" in line:
                listening.append(line)
        for n in range(12):
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
                client.sendmail(
                    f"user{n}@customer.test",
                    ["help@acme.test"],
                    f"From: user{n}@customer.test\r\nTo: help@acme.test\r\n"
                    f"Subject: Case {n}\r\n\r\nHelp.\r\n".encode(),
                )
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert len({line.rsplit("process ", 1)[-1] for line in listening}) == 2, listening
    with hub.session() as session:
        subjects = session.scalars(select(Ticket.subject).where(Ticket.tenant_id == tenant.id))
        assert sorted(subjects) == sorted(f"Case {n}" for n in range(12))
    hub.engine.dispose()


def test_cli_refuses_a_weak_password(cli_env, hub) -> None:  # type: ignore[no-untyped-def]
    _ok("tenant", "create", "pwco")
    result = runner.invoke(
        app, ["user", "create", "--tenant", "pwco", "--email", "e@pw.example", "--password", "x"]
    )
    assert result.exit_code == 2 and "at least 12 characters" in result.output
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "--tenant",
            "pwco",
            "--email",
            "e@pw.example",
            "--password",
            "password123",
        ],
    )
    assert result.exit_code == 2 and "most common" in result.output
    assert "is agent in pwco" in _ok(
        "user",
        "create",
        "--tenant",
        "pwco",
        "--email",
        "e@pw.example",
        "--role",
        "agent",
        "--password",
        "a fine passphrase",
    )


def test_reports_rebuild_recomputes_the_rollups(cli_env, hub, client) -> None:  # type: ignore[no-untyped-def]
    """``hub reports rebuild`` refills the rollups from the tickets (here: after they were lost)."""
    from sqlalchemy import delete, func

    from core.models import ReportFact, ReportMove
    from core.services.tickets import create_ticket

    _ok("tenant", "create", "rolls")
    with hub.session() as s:
        tenant = identity.tenant_by_slug(s, "rolls")
        user = identity.ensure_user(s, email="r@example.com")
        identity.ensure_member(s, tenant.id, user, "end_user")
        for n in range(3):
            create_ticket(
                s,
                system_actor(tenant.id),
                subject=f"s{n}",
                description="d",
                category="Other",
                requester_id=user.id,
            )
    with hub.session() as s:
        s.execute(delete(ReportMove))
        s.execute(delete(ReportFact))
    assert "rolls: 3 tickets" in _ok("reports", "rebuild", "--tenant", "rolls")
    with hub.read_session() as s:
        assert s.scalar(select(func.count()).select_from(ReportFact)) == 3
        assert s.scalar(select(func.count()).select_from(ReportMove)) == 3
    result = runner.invoke(app, ["reports", "rebuild", "--tenant", "nope"])
    assert result.exit_code == 2
    out = _ok("reports", "timezone", "--tenant", "rolls", "--zone", "Asia/Tokyo")
    assert "rolls: reports in Asia/Tokyo; 3 tickets rebuilt" in out
    with hub.read_session() as s:
        assert identity.tenant_by_slug(s, "rolls").settings["timezone"] == "Asia/Tokyo"
    bad = runner.invoke(app, ["reports", "timezone", "--tenant", "rolls", "--zone", "Mars/Base"])
    assert bad.exit_code == 2


def test_migrate_builds_the_rollups_of_tickets_they_do_not_know(cli_env, hub, client) -> None:  # type: ignore[no-untyped-def]
    """Upgrading from before the rollups: ``hub migrate`` fills them in once."""
    from sqlalchemy import delete, func

    from core.models import ReportFact
    from core.services.tickets import create_ticket

    _ok("tenant", "create", "backfill")
    with hub.session() as s:
        tenant = identity.tenant_by_slug(s, "backfill")
        user = identity.ensure_user(s, email="b@example.com")
        identity.ensure_member(s, tenant.id, user, "end_user")
        for n in range(2):
            create_ticket(
                s,
                system_actor(tenant.id),
                subject=f"s{n}",
                description="d",
                category="Other",
                requester_id=user.id,
            )
        tenant_id = tenant.id
    with hub.session() as s:
        s.execute(delete(ReportFact).where(ReportFact.tenant_id == tenant_id))
    assert "report rollups built for 2 tickets" in _ok("migrate")
    with hub.read_session() as s:
        count = (
            select(func.count()).select_from(ReportFact).where(ReportFact.tenant_id == tenant_id)
        )
        assert s.scalar(count) == 2
    assert "report rollups built" not in _ok("migrate")  # once


def test_search_rebuild_refills_the_index(cli_env, hub, client) -> None:  # type: ignore[no-untyped-def]
    """``hub search rebuild`` rebuilds a tenant's search index from its tickets and comments."""
    from sqlalchemy import delete, func

    from core.search import SearchEntry
    from core.services.comments import add_comment
    from core.services.tickets import TicketFilter, create_ticket, list_tickets

    _ok("tenant", "create", "finds")
    with hub.session() as s:
        tenant = identity.tenant_by_slug(s, "finds")
        user = identity.ensure_user(s, email="f@example.com")
        identity.ensure_member(s, tenant.id, user, "end_user")
        actor = system_actor(tenant.id)
        ticket = create_ticket(
            s, actor, subject="Scanner", description="d", category="Other", requester_id=user.id
        )
        add_comment(s, actor, ticket, comment="try the duplex tray", author_id=user.id)
    with hub.session() as s:
        s.execute(delete(SearchEntry))
    assert "finds: 1 tickets" in _ok("search", "rebuild", "--tenant", "finds")
    with hub.read_session() as s:
        assert s.scalar(select(func.count()).select_from(SearchEntry)) == 2
        rows, _ = list_tickets(s, actor, TicketFilter(q="duplex"))
        assert [t.subject for t in rows] == ["Scanner"]
    assert runner.invoke(app, ["search", "rebuild", "--tenant", "nope"]).exit_code == 2
