"""Teams test fixtures: the fake Microsoft endpoints, a tenant bound to the fixtures' bot,
activities sent as the Bot Connector sends them."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hub import outbox
from hub.context import Hub
from tests.conftest import TenantSet
from tests.plugins.teams.fake_teams import FakeTeams

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "teams"
APP_ID = "helpdesk-bot-app-id"  # the recipient "28:helpdesk-bot-app-id" of the authored fixtures
APP_PASSWORD = "fake-app-password-NOT-REAL"
TRIAGE = "19:triage@thread.tacv2"
MESSAGES_URL = "/plugins/teams/messages"
WEBHOOK_URL = "/plugins/teams/webhook"


def fixture(name: str) -> Any:
    """A payload fixture, parsed (a fresh copy each time)."""
    return json.loads((FIXTURES / name).read_text())


def webhook_secret() -> str:
    """The security token the outgoing-webhook fixtures were signed with (they carry it)."""
    return str(fixture("outgoing_webhook/request.valid_hmac.json")["security_token_b64"])


@pytest.fixture
def fake_teams() -> Iterator[FakeTeams]:
    fake = FakeTeams(app_id=APP_ID, app_password=APP_PASSWORD).start()
    yield fake
    fake.stop()


@dataclass
class TeamsWorld:
    """A tenant with Teams on, the fake Microsoft side and helpers to talk like Teams does."""

    hub: Hub
    client: TestClient
    org: TenantSet
    fake: FakeTeams

    def activity(self, name: str, **changes: Any) -> dict[str, Any]:
        """A fixture activity served by the fake Bot Connector, with changes applied."""
        act = copy.deepcopy(fixture(f"bot_framework/{name}.json"))
        act["serviceUrl"] = self.fake.service_url
        act.update(changes)
        return act

    def send(self, activity: dict[str, Any], token: str | None = None) -> httpx.Response:
        """POST an activity with a Bot Connector token (a valid one unless given)."""
        auth = token if token is not None else self.fake.token()
        return self.client.post(
            MESSAGES_URL,
            content=json.dumps(activity).encode(),
            headers={"Authorization": f"Bearer {auth}", "Content-Type": "application/json"},
        )

    def drain(self) -> None:
        """Deliver the outbox (notifications), as the Celery task would."""
        outbox.drain(self.hub)

    def tickets(self) -> list[dict[str, Any]]:
        r = self.org.agent.get("/api/v1/support/tickets/")
        assert r.status_code == 200, r.text
        return list(r.json()["results"])

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        r = self.org.agent.get(f"/api/v1/support/tickets/{ticket_id}/")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        r = self.org.agent.get(f"/api/v1/support/tickets/{ticket_id}/comments/")
        assert r.status_code == 200, r.text
        body = r.json()
        return list(body["results"] if isinstance(body, dict) else body)


def configure(org: TenantSet, fake: FakeTeams, **extra: Any) -> None:
    """Bind the tenant to the bot through the admin API, then enable the plugin."""
    settings = {
        "app_id": APP_ID,
        "app_password": APP_PASSWORD,
        "outgoing_webhook_secret": webhook_secret(),
        "login_url": fake.login_url,
        "openid_metadata_url": fake.openid_url,
        "triage_conversation": TRIAGE,
        **extra,
    }
    r = org.admin.patch("/api/v1/admin/plugins/teams/", json={"settings": settings})
    assert r.status_code == 200, r.text
    r = org.admin.post("/api/v1/admin/plugins/teams/enable/")
    assert r.status_code == 200, r.text


@pytest.fixture
def world(hub: Hub, client: TestClient, org: TenantSet, fake_teams: FakeTeams) -> TeamsWorld:
    """Tenant ``org`` owns the bot; Alice (29:user-abc) is an end user; the invoke fixture's
    user is the tenant's agent (the fake Bot Connector tells their email)."""
    configure(org, fake_teams)
    # Built-in auto-assignment would assign every new ticket; these tests assign from Teams.
    r = org.admin.patch("/api/v1/support/automation/", json={"assign_mode": "off"})
    assert r.status_code == 200, r.text
    fake_teams.members["29:user-abc"] = {
        "id": "29:user-abc",
        "name": "Alice",
        "aadObjectId": "33333333-3333-4333-8333-333333333333",
        "email": "alice@example.org",
        "userPrincipalName": "alice@example.org",
    }
    invoker = fixture("bot_framework/invoke.adaptiveCard_action.personal.json")["from"]
    fake_teams.members[invoker["id"]] = {
        "id": invoker["id"],
        "name": "Rido",
        "aadObjectId": invoker["aadObjectId"],
        "email": org.agent.email,
        "userPrincipalName": org.agent.email,
    }
    return TeamsWorld(hub=hub, client=client, org=org, fake=fake_teams)
