"""Every recorded Jira webhook is answered 2xx; every handled event type has a recorded fixture."""

from __future__ import annotations

import json

import pytest

from hub import outbox
from plugins.jira.payloads import HANDLED_EVENTS
from tests.plugins.jira.conftest import URL, open_ticket, recorded_webhook, sign
from tests.plugins.jira.fake_jira import FIXTURES

RECORDED = sorted(p.name for p in FIXTURES.glob("webhook-*.json"))
# What each recorded delivery does to a fresh ticket linked to TES-41 (other keys: no ticket).
EXPECTED = {
    "webhook-cloud-comment-created-mention-user.json": "comment noted",
    "webhook-cloud-comment-created.json": "comment noted",
    "webhook-issue-assigned-empty-changelog.json": "unknown issue",
    "webhook-issue-comment-created-indentation.json": "unknown issue",
    "webhook-issue-deleted.json": "unknown issue",
    "webhook-issue-updated-assigned-nobody.json": "ignored",
    "webhook-issue-updated-assigned.json": "ignored",
    "webhook-issue-updated-edited.json": "ignored",
    "webhook-issue-updated-labels.json": "ignored",
    "webhook-issue-updated-raised-priority.json": "ignored",
    # To Do maps to Reopened, which a ticket that was never resolved cannot become: noted.
    "webhook-issue-updated-reopened.json": "status not applicable",
    "webhook-issue-updated-resolved.json": "status Resolved",
    "webhook-issue-updated-started-working.json": "status In Progress",
    # Issue 10013 (from comment.self) is not in the fake Jira: fetched, not found.
    "webhook-server-comment-created.json": "unknown issue (id 10013 from comment.self)",
    "webhook-server-issue-updated-commented-2.json": "unknown issue",
    "webhook-server-issue-updated-resolved.json": "unknown issue",
    "webhook-server-old-issue-updated-no-event-type-commented.json": "unknown issue",
}


def test_each_handled_event_has_a_fixture() -> None:
    seen = {json.loads((FIXTURES / name).read_text())["webhookEvent"] for name in RECORDED}
    assert set(HANDLED_EVENTS) <= seen


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_webhook_is_answered(name, hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(jira_org.end_user)
    jira_org.agent.post(f"/api/v1/support/tickets/{ticket_id}/escalate/", json={"target": "jira"})
    outbox.drain(hub)  # the ticket is linked to TES-41, the issue of most recorded bodies
    raw = recorded_webhook(name)
    r = client.post(URL, content=raw, headers=sign(raw, f"fixture-{name}"))
    assert r.status_code == 200, r.text
    event = json.loads(raw)["webhookEvent"]
    status = r.json()["status"]
    if event not in HANDLED_EVENTS:
        assert status == f"{event} ignored"
    else:
        assert status == EXPECTED[name]
