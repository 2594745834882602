"""Fixtures for the Jira plugin: the REST fake and a tenant with the plugin configured."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.clock import now, set_clock
from tests.plugins.jira.fake_jira import FakeJira, FakeJiraServer, fixture

WEBHOOK_SECRET = fixture("signed_requests/01_issue_created_valid.json")["secret"]
URL = "/plugins/jira/webhook"


@pytest.fixture(scope="session")
def jira_server() -> Iterator[FakeJiraServer]:
    server = FakeJiraServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_jira(jira_server: FakeJiraServer) -> Iterator[FakeJira]:
    """The fake's state, emptied for each test."""
    jira_server.state.reset()
    yield jira_server.state
    jira_server.state.reset()


def configure(admin: Any, fake: FakeJira, **overrides: Any) -> None:
    """Enable and configure Jira for the admin's tenant through the admin API."""
    settings = {
        "server": fake.url,
        "user": "hub-api@example.com",
        "api_token": "jira-token-0001",
        "project_key": "TES",
        "issue_type": "Task",
        "webhook_secret": WEBHOOK_SECRET,
        "status_map": {"In Progress": "In Progress", "Done": "Resolved", "To Do": "Reopened"},
        **overrides,
    }
    r = admin.post("/api/v1/admin/plugins/jira/enable/")
    assert r.status_code == 200, r.text
    r = admin.patch("/api/v1/admin/plugins/jira/", json={"settings": settings})
    assert r.status_code == 200, r.text


@pytest.fixture
def jira_org(org: Any, fake_jira: FakeJira) -> Any:
    """``org`` with Jira enabled and pointed at the fake."""
    configure(org.admin, fake_jira)
    return org


def open_ticket(member: Any, priority: str = "High") -> int:
    r = member.post(
        "/api/v1/support/tickets/",
        json={
            "subject": "Export to CSV drops the last row",
            "category": "Technical Issue",
            "description": "Every export misses its final line since Monday.",
            "priority": priority,
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def at_recorded_time(raw: bytes) -> None:
    """Run the hub's clock from the moment a recorded body says it was sent (its ``timestamp``),
    so the recorded, signed bytes pass the freshness check unchanged. ``_clean_state`` puts the
    wall clock back after the test."""
    sent = datetime.fromtimestamp(json.loads(raw)["timestamp"] / 1000, UTC)
    started = datetime.now(UTC)
    set_clock(lambda: sent + (datetime.now(UTC) - started))


def signed_request(name: str) -> tuple[bytes, dict[str, str]]:
    """(raw body, headers) of a recorded signed request, with the clock at its recorded time."""
    doc = fixture(f"signed_requests/{name}")
    raw = doc["raw_body"].encode()
    at_recorded_time(raw)
    return raw, dict(doc["headers"])


def webhook_doc(name: str) -> dict[str, Any]:
    """A recorded webhook body (tests/fixtures/jira/<name>) as sent now: ``timestamp`` is now."""
    doc = fixture(name)
    doc["timestamp"] = int(now().timestamp() * 1000)
    return doc


def sign(raw: bytes, identifier: str) -> dict[str, str]:
    """Headers Jira sends with a delivery, signed with the test secret."""
    sig = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": f"sha256={sig}",
        "X-Atlassian-Webhook-Identifier": identifier,
    }


def recorded_webhook(name: str, **changes: Any) -> bytes:
    """A recorded webhook body (tests/fixtures/jira/<name>) sent now (a fresh ``timestamp``),
    optionally with fields replaced."""
    doc = webhook_doc(name)
    doc.update(changes)
    return json.dumps(doc).encode()
