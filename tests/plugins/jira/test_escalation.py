"""Escalating a ticket creates one Jira issue on the fake, whatever happens in between."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from core.clock import FrozenClock, set_clock
from core.models import OutboxEvent
from hub import outbox
from plugins.jira.client import label_for
from tests.plugins.jira.conftest import configure, open_ticket

ISSUES = r"/rest/api/2/issue"


def _escalate(member, ticket_id):  # type: ignore[no-untyped-def]
    r = member.post(
        f"/api/v1/support/tickets/{ticket_id}/escalate/",
        json={"target": "jira", "note": "needs a fix in the exporter"},
    )
    assert r.status_code == 202, r.text
    return r.json()["event_id"]


def _refs(member, ticket_id):  # type: ignore[no-untyped-def]
    detail = member.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    return [(r["kind"], r["value"]) for r in detail["external_refs"]]


def _status(hub, event_id):  # type: ignore[no-untyped-def]
    with hub.session() as s:
        row = s.get(OutboxEvent, event_id)
        return row.status, row.last_error


def test_escalation_creates_one_issue(hub, jira_org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(jira_org.end_user)
    targets = jira_org.agent.get(f"/api/v1/support/tickets/{ticket_id}/escalation-targets/").json()
    assert {"plugin": "jira", "target": "jira", "label": "Create Jira issue"} in targets
    event_id = _escalate(jira_org.agent, ticket_id)
    outbox.drain(hub)
    assert _status(hub, event_id) == ("delivered", None)
    # What the jira library did: server info on connect, then our calls.
    assert fake_jira.calls("GET", r"/rest/api/2/serverInfo")
    [create] = fake_jira.calls("POST", ISSUES)
    fields = create.body["fields"]
    assert fields["project"] == {"key": "TES"}
    assert fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == f"[#{ticket_id}] Export to CSV drops the last row"
    assert "Every export misses its final line" in fields["description"]
    assert f"http://hub.test/tickets/{ticket_id}" in fields["description"]
    assert "needs a fix in the exporter" in fields["description"]
    assert fields["labels"] == [label_for(jira_org.tenant[0], ticket_id)]
    assert fields["priority"] == {"name": "High"}
    expected = base64.b64encode(b"hub-api@example.com:jira-token-0001").decode()
    assert create.headers["authorization"] == f"Basic {expected}"
    assert fake_jira.properties[("TES-41", "support-hub")]["ticket_id"] == ticket_id
    assert ("jira_issue", "TES-41") in _refs(jira_org.agent, ticket_id)
    audit = jira_org.agent.get(f"/api/v1/support/tickets/{ticket_id}/audit/").json()
    assert any(a["action"] == "Escalated" and a["new_value"] == "TES-41" for a in audit)

    # Escalating again finds the stored key: no second issue.
    _escalate(jira_org.agent, ticket_id)
    outbox.drain(hub)
    outbox.drain(hub)
    assert len(fake_jira.calls("POST", ISSUES)) == 1


def test_issue_left_by_a_crash_is_found_by_label(hub, jira_org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(jira_org.end_user)
    key = fake_jira.add_issue("TES", [label_for(jira_org.tenant[0], ticket_id)])
    _escalate(jira_org.agent, ticket_id)
    outbox.drain(hub)
    assert fake_jira.calls("POST", ISSUES) == []
    [search] = fake_jira.calls("GET", r"/rest/api/2/search")
    assert label_for(jira_org.tenant[0], ticket_id) in search.query["jql"][0]
    assert ("jira_issue", key) in _refs(jira_org.agent, ticket_id)


def test_rejected_issue_is_noted_not_retried(hub, jira_org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    fake_jira.failures.append(
        (
            "POST",
            ISSUES,
            400,
            {"errorMessages": [], "errors": {"priority": "Priority name 'High' is not valid"}},
        )
    )
    ticket_id = open_ticket(jira_org.end_user)
    event_id = _escalate(jira_org.agent, ticket_id)
    outbox.drain(hub)
    assert _status(hub, event_id)[0] == "delivered"
    assert len(fake_jira.calls("POST", ISSUES)) == 1
    detail = jira_org.agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    notes = [c["comment"] for c in detail["comments"] if c["is_internal"]]
    # The status, never the response body: what a tenant's server answers is not copied in.
    assert any("Jira did not accept" in n and "HTTP 400" in n for n in notes)
    assert not any("is not valid" in n for n in notes)
    assert all(r["kind"] != "jira_issue" for r in detail["external_refs"])


def test_unavailable_jira_is_retried(hub, jira_org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    set_clock(clock)
    fake_jira.failures.append(("POST", ISSUES, 503, {"errorMessages": ["maintenance"]}))
    ticket_id = open_ticket(jira_org.end_user)
    event_id = _escalate(jira_org.agent, ticket_id)
    outbox.drain(hub)
    status, error = _status(hub, event_id)
    assert status == "pending" and "503" in error and "jira" in error
    clock.advance(minutes=2)
    outbox.drain(hub)
    assert _status(hub, event_id)[0] == "delivered"
    # The retry searched first, found nothing, and created the issue once.
    assert len(fake_jira.calls("POST", ISSUES)) == 2
    assert ("jira_issue", "TES-41") in _refs(jira_org.agent, ticket_id)


def test_escalation_without_configuration_is_noted(hub, org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    org.admin.post("/api/v1/admin/plugins/jira/enable/")
    ticket_id = open_ticket(org.end_user)
    event_id = _escalate(org.agent, ticket_id)
    outbox.drain(hub)
    assert _status(hub, event_id)[0] == "delivered"
    detail = org.agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    assert any(
        "server and project_key must be configured" in c["comment"] for c in detail["comments"]
    )
    assert fake_jira.requests == []


def test_pat_is_sent_as_bearer(hub, jira_org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    configure(jira_org.admin, fake_jira, user="", api_token="", pat="server-pat-0001")
    ticket_id = open_ticket(jira_org.end_user)
    _escalate(jira_org.agent, ticket_id)
    outbox.drain(hub)
    [create] = fake_jira.calls("POST", ISSUES)
    assert create.headers["authorization"] == "Bearer server-pat-0001"


def test_rule_action_escalates_to_jira(hub, jira_org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    r = jira_org.admin.post(
        "/api/v1/support/rules/",
        json={
            "name": "Exports go to engineering",
            "trigger": "ticket.created",
            "conditions": [{"field": "category", "op": "eq", "value": "Technical Issue"}],
            "actions": [{"type": "escalate", "target": "jira", "note": "rule"}],
        },
    )
    assert r.status_code == 201, r.text
    ticket_id = open_ticket(jira_org.end_user)
    outbox.drain(hub)
    outbox.drain(hub)
    [create] = fake_jira.calls("POST", ISSUES)
    assert create.body["fields"]["summary"].startswith(f"[#{ticket_id}]")
    assert ("jira_issue", "TES-41") in _refs(jira_org.agent, ticket_id)


def test_crash_recovery_on_jira_cloud_uses_the_new_search(hub, jira_org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    fake_jira.deployment = "Cloud"
    ticket_id = open_ticket(jira_org.end_user)
    key = fake_jira.add_issue("TES", [label_for(jira_org.tenant[0], ticket_id)])
    _escalate(jira_org.agent, ticket_id)
    outbox.drain(hub)
    assert fake_jira.calls("GET", r"/rest/api/2/search/jql")
    assert fake_jira.calls("POST", ISSUES) == []
    assert ("jira_issue", key) in _refs(jira_org.agent, ticket_id)
