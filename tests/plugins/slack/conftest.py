"""Slack test fixtures: the fake Web API, a tenant bound to workspace T111, signed requests."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier

from core import clock
from hub import outbox
from hub.context import Hub
from plugins.slack.worker import WORKER
from tests.conftest import TenantSet
from tests.plugins.slack.fake_slack import FakeSlack

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"
EVENTS_URL = "/plugins/slack/events"
SECRET = "test-signing-secret-NOT-REAL-0001"  # the fixtures' (fake) signing secret
TEAM = "T111"
TRIAGE = "CTRIAGE"
REQUESTER_SLACK = "W222"  # the user of the app_mention and DM fixtures
AGENT_SLACK = "U0AGENT"  # the agent (the fixtures' W111 is the bot user: "<@W111> Hi there!")
BOT_SLACK = "W111"


def fixture(name: str) -> Any:
    """A payload fixture, parsed (a fresh copy each time)."""
    path = FIXTURES / name
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else text


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(team=TEAM, bot_user_id=BOT_SLACK).start()
    yield fake
    fake.stop()


@dataclass
class SlackWorld:
    """A tenant with Slack on, its fake workspace and helpers to talk like Slack does."""

    hub: Hub
    client: TestClient
    org: TenantSet
    fake: FakeSlack
    requester_email: str

    # ------------------------------------------------------------ requests

    def send(
        self,
        body: str | dict[str, Any],
        *,
        form: bool = False,
        timestamp: int | None = None,
        secret: str = SECRET,
        retry: int | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        """POST a request signed exactly as Slack signs it (v0 HMAC over ``v0:ts:body``)."""
        raw = body if isinstance(body, str) else json.dumps(body)
        ts = str(timestamp if timestamp is not None else int(clock.now().timestamp()))
        headers = {
            "Content-Type": content_type
            or ("application/x-www-form-urlencoded" if form else "application/json"),
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
                timestamp=ts, body=raw
            )
            or "",
        }
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return self.client.post(EVENTS_URL, content=raw.encode(), headers=headers)

    def interactive(self, payload: dict[str, Any]) -> httpx.Response:
        """Interactivity arrives form-encoded as ``payload=<json>``."""
        return self.send("payload=" + quote(json.dumps(payload)), form=True)

    def event(self, event: dict[str, Any], event_id: str, **kw: Any) -> httpx.Response:
        """An Events API envelope around one event (shape of the fixtures)."""
        envelope = fixture("events/event_callback.message.user_in_channel_with_blocks.json")
        envelope["event"] = event
        envelope["event_id"] = event_id
        envelope["authorizations"][0]["user_id"] = self.fake.bot_user_id
        return self.send(envelope, **kw)

    def wait(self) -> None:
        """Wait until the work after the acknowledgements is done."""
        assert WORKER.wait(15), "slack work did not finish"

    def drain(self) -> None:
        """Deliver the outbox (notifications), as the Celery task would."""
        self.wait()
        outbox.drain(self.hub)

    # ------------------------------------------------------------ the hub side

    def tickets(self) -> list[dict[str, Any]]:
        r = self.org.agent.get("/api/v1/support/tickets/")
        assert r.status_code == 200, r.text
        return r.json()["results"]

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        r = self.org.agent.get(f"/api/v1/support/tickets/{ticket_id}/")
        assert r.status_code == 200, r.text
        return r.json()

    def comments(self, ticket_id: int, who: Any = None) -> list[dict[str, Any]]:
        member = who or self.org.agent
        r = member.get(f"/api/v1/support/tickets/{ticket_id}/comments/")
        assert r.status_code == 200, r.text
        body = r.json()
        return body["results"] if isinstance(body, dict) else body


def configure(org: TenantSet, fake: FakeSlack, **extra: Any) -> None:
    """Bind the tenant to the workspace through the admin API, then enable the plugin."""
    settings = {
        "team_id": TEAM,
        "bot_token": "xoxb-fake-token",
        "signing_secret": SECRET,
        "triage_channel": TRIAGE,
        "api_base_url": fake.base_url,
        **extra,
    }
    r = org.admin.patch("/api/v1/admin/plugins/slack/", json={"settings": settings})
    assert r.status_code == 200, r.text
    r = org.admin.post("/api/v1/admin/plugins/slack/enable/")
    assert r.status_code == 200, r.text


@pytest.fixture
def world(
    hub: Hub, client: TestClient, org: TenantSet, fake_slack: FakeSlack
) -> Iterator[SlackWorld]:
    """Tenant ``org`` owns workspace T111 (bot W111); W222 is an end user, U0AGENT its agent."""
    requester_email = "casey.requester@example.org"
    fake_slack.add_user(REQUESTER_SLACK, requester_email, "Casey Requester")
    fake_slack.add_user(AGENT_SLACK, org.agent.email, "Alex Agent")
    fake_slack.add_user("UB111", None, "other-app", is_bot=True)
    configure(org, fake_slack)
    # Built-in round-robin auto-assignment would assign every new ticket; these tests assign
    # from Slack themselves.
    r = org.admin.patch("/api/v1/support/automation/", json={"assign_mode": "off"})
    assert r.status_code == 200, r.text
    w = SlackWorld(
        hub=hub, client=client, org=org, fake=fake_slack, requester_email=requester_email
    )
    yield w
    WORKER.wait(15)


def dm(
    text: str,
    ts: str,
    *,
    user: str = REQUESTER_SLACK,
    thread_ts: str | None = None,
    channel: str = "D111",
) -> dict[str, Any]:
    """A DM to the bot, from the message.im fixture with the given text and timestamps."""
    event = copy.deepcopy(fixture("events/event_callback.message.im.json")["event"])
    event.update(text=text, ts=ts, event_ts=ts, user=user, channel=channel)
    event.pop("thread_ts", None)
    event.pop("parent_user_id", None)
    if thread_ts:
        event.update(thread_ts=thread_ts, parent_user_id=REQUESTER_SLACK)
    return event


def channel_message(
    text: str, ts: str, *, user: str, channel: str, thread_ts: str | None = None
) -> dict[str, Any]:
    """A channel message, from the message.channel fixture."""
    event = copy.deepcopy(fixture("events/event_callback.message.channel.json")["event"])
    event.update(text=text, ts=ts, event_ts=ts, user=user, channel=channel)
    event.pop("blocks", None)
    event["client_msg_id"] = f"cm-{ts}"
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def now_ts() -> int:
    return int(time.time())
