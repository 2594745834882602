"""The weekly report mail: last week's figures to the chosen managers, once, through a real
SMTP socket standing for the hub's system relay."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from core import clock
from core.models import Tenant
from hub.cli import app as cli
from hub.context import Hub
from hub.report_mail import send_due
from tests.conftest import TenantSet
from tests.services import free_port


class Box:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []
        self.fail = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail:
            return "451 4.3.0 relay down for the test"
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def relay(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Iterator[Box]:
    port = free_port()
    box = Box()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(hub.settings, "system_relay_host", "127.0.0.1")
    monkeypatch.setattr(hub.settings, "system_relay_port", port)
    monkeypatch.setattr(hub.settings, "system_relay_tls", "none")
    yield box
    controller.stop()


def test_weekly_mail_goes_once_to_the_chosen_managers(
    hub: Hub,
    org: TenantSet,
    relay: Box,
    settings,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monday = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    clock.set_clock(lambda: monday)
    body = {"subject": "s", "description": "d", "category": "Other"}
    for _ in range(3):
        assert org.end_user.post("/api/v1/support/tickets/", json=body).status_code == 201
    monkeypatch.setenv("HUB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HUB_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    slug = org.tenant[1]
    refused = runner.invoke(cli, ["reports", "weekly", "--tenant", slug, "--to", org.agent.email])
    assert refused.exit_code == 2 and "not managers or admins" in refused.output
    ok = runner.invoke(cli, ["reports", "weekly", "--tenant", slug, "--to", org.manager.email])
    assert ok.exit_code == 0, ok.output
    with hub.session() as s:
        tenant = s.get(Tenant, org.tenant[0])
        assert tenant is not None
        assert tenant.settings["weekly_report"] == {"recipients": [org.manager.email]}

    next_week = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
    relay.fail = True
    assert send_due(hub, at=next_week) == []  # the relay refused: nothing claimed
    relay.fail = False
    assert send_due(hub, at=next_week) == [(slug, org.manager.email)]
    assert send_due(hub, at=next_week.replace(hour=9)) == []  # once per week
    [(rcpts, raw)] = relay.received
    assert rcpts == [org.manager.email]
    msg = email.message_from_bytes(raw, policy=policy.default)  # type: ignore[arg-type]
    assert msg["Subject"] == "Weekly support report, week of 2026-03-02"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert "Created 3, resolved 0, closed 0, reopened 0; backlog at the end of the week 3." in text
    assert "/reports/volume?start=2026-03-02&end=2026-03-09" in text
