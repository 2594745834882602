"""Fixtures for the Jira plugin: the REST fake and a tenant with the plugin configured."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.plugins.jira.fake_jira import FIXTURES, FakeJira, FakeJiraServer, fixture

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
    settings = {"server": fake.url, "user": "hub-api@example.com", "api_token": "jira-token-0001",
                "project_key": "TES", "issue_type": "Task", "webhook_secret": WEBHOOK_SECRET,
                "status_map": {"In Progress": "In Progress", "Done": "Resolved",
                               "To Do": "Reopened"}, **overrides}
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
    r = member.post("/api/v1/support/tickets/", json={
        "subject": "Export to CSV drops the last row", "category": "Technical Issue",
        "description": "Every export misses its final line since Monday.", "priority": priority})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def signed_request(name: str) -> tuple[bytes, dict[str, str]]:
    """(raw body, headers) of a recorded signed request."""
    doc = fixture(f"signed_requests/{name}")
    return doc["raw_body"].encode(), dict(doc["headers"])


def sign(raw: bytes, identifier: str) -> dict[str, str]:
    """Headers Jira sends with a delivery, signed with the test secret."""
    sig = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature": f"sha256={sig}",
            "X-Atlassian-Webhook-Identifier": identifier}


def recorded_webhook(name: str, **changes: Any) -> bytes:
    """A recorded webhook body (tests/fixtures/jira/<name>), optionally with fields replaced."""
    if not changes:
        return (FIXTURES / name).read_bytes()
    doc = fixture(name)
    doc.update(changes)
    return json.dumps(doc).encode()
