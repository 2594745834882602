"""A signed Jira body is applied once and only while fresh: an old body replayed under a new
delivery id is refused (400, logged), the same body again under a new id is a duplicate."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from core.clock import now
from hub import outbox
from tests.plugins.jira.conftest import URL, open_ticket, recorded_webhook, sign


def _escalated(hub, org) -> int:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(org.end_user)
    assert (
        org.agent.post(
            f"/api/v1/support/tickets/{ticket_id}/escalate/", json={"target": "jira"}
        ).status_code
        == 202
    )
    outbox.drain(hub)
    return ticket_id


def _at(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _status(org, ticket_id) -> str:  # type: ignore[no-untyped-def]
    return org.agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()["status"]


def test_old_signed_body_under_a_new_delivery_id_is_refused(
    hub, jira_org, fake_jira, client, caplog
) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _escalated(hub, jira_org)
    old = recorded_webhook(
        "webhook-issue-updated-resolved.json", timestamp=_at(now() - timedelta(minutes=6))
    )
    with caplog.at_level(logging.WARNING, logger="plugins.jira"):
        r = client.post(URL, content=old, headers=sign(old, "brand-new-id-1"))
    assert r.status_code == 400, r.text
    assert "too old" in r.json()["detail"]
    assert any(
        "refused" in rec.getMessage() and "too old" in rec.getMessage() for rec in caplog.records
    )
    assert _status(jira_org, ticket_id) != "Resolved"
    # A body dated in the future (beyond the clock-skew window) is refused too, and so is one
    # without a timestamp.
    future = recorded_webhook(
        "webhook-issue-updated-resolved.json", timestamp=_at(now() + timedelta(minutes=6))
    )
    assert client.post(URL, content=future, headers=sign(future, "id-2")).status_code == 400
    doc = json.loads(old)
    del doc["timestamp"]
    bare = json.dumps(doc).encode()
    assert client.post(URL, content=bare, headers=sign(bare, "id-3")).status_code == 400
    assert _status(jira_org, ticket_id) != "Resolved"


def test_fresh_body_replayed_under_new_delivery_ids_is_applied_once(
    hub, jira_org, fake_jira, client
) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _escalated(hub, jira_org)
    body = recorded_webhook(
        "webhook-issue-updated-resolved.json", timestamp=_at(now() - timedelta(minutes=1))
    )
    r = client.post(URL, content=body, headers=sign(body, "first"))
    assert r.json() == {"status": "status Resolved"}
    # An agent reopens the ticket; the captured body comes back under fresh delivery ids.
    r = jira_org.agent.patch(f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Reopened"})
    assert r.status_code == 200, r.text
    for n in range(3):
        r = client.post(URL, content=body, headers=sign(body, f"replay-{n}"))
        assert r.status_code == 200 and r.json() == {"status": "duplicate"}, r.text
    # Without a delivery id header the content key still catches it.
    headers = {k: v for k, v in sign(body, "x").items() if k != "X-Atlassian-Webhook-Identifier"}
    assert client.post(URL, content=body, headers=headers).json() == {"status": "duplicate"}
    assert _status(jira_org, ticket_id) == "Reopened"
    # A genuinely new event (another timestamp, so another body) still applies.
    again = recorded_webhook("webhook-issue-updated-resolved.json", timestamp=_at(now()))
    assert client.post(URL, content=again, headers=sign(again, "second")).json() == {
        "status": "status Resolved"
    }
