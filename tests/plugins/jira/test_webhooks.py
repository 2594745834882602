"""Jira webhooks: signatures, redelivery, status sync per status_map, comments both ways, no echo."""

from __future__ import annotations

import hashlib
import hmac
import json

from hub import outbox
from plugins.jira.client import label_for
from tests.plugins.jira.conftest import (
    URL,
    configure,
    open_ticket,
    recorded_webhook,
    sign,
    signed_request,
    webhook_doc,
)
from tests.plugins.jira.fake_jira import API_USER


def _escalated(hub, org) -> int:  # type: ignore[no-untyped-def]
    """A ticket escalated to Jira: the fake made it TES-41, the issue of the recorded webhooks."""
    ticket_id = open_ticket(org.end_user)
    r = org.agent.post(f"/api/v1/support/tickets/{ticket_id}/escalate/", json={"target": "jira"})
    assert r.status_code == 202
    outbox.drain(hub)
    refs = org.agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()["external_refs"]
    assert ("jira_issue", "TES-41") in [(x["kind"], x["value"]) for x in refs]
    return ticket_id


def _ticket(org, ticket_id):  # type: ignore[no-untyped-def]
    return org.agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()


def _notes(org, ticket_id):  # type: ignore[no-untyped-def]
    return [c for c in _ticket(org, ticket_id)["comments"] if c["is_internal"]]


def test_issue_moved_to_done_resolves_the_ticket(hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _escalated(hub, jira_org)
    raw = recorded_webhook("webhook-issue-updated-started-working.json")
    r = client.post(URL, content=raw, headers=sign(raw, "delivery-started"))
    assert r.status_code == 200 and r.json() == {"status": "status In Progress"}, r.text
    assert _ticket(jira_org, ticket_id)["status"] == "In Progress"
    raw = recorded_webhook("webhook-issue-updated-resolved.json")
    r = client.post(URL, content=raw, headers=sign(raw, "delivery-resolved"))
    assert r.status_code == 200 and r.json() == {"status": "status Resolved"}
    assert _ticket(jira_org, ticket_id)["status"] == "Resolved"
    audit = jira_org.agent.get(f"/api/v1/support/tickets/{ticket_id}/audit/").json()
    change = [a for a in audit if a["action"] == "Status Change" and a["new_value"] == "Resolved"]
    assert change and change[0]["performed_by"] is None  # the system actor
    # Reopened in Jira (Done -> To Do): the map sends the ticket to Reopened.
    raw = recorded_webhook("webhook-issue-updated-reopened.json")
    r = client.post(URL, content=raw, headers=sign(raw, "delivery-reopened"))
    assert r.json() == {"status": "status Reopened"}
    assert _ticket(jira_org, ticket_id)["status"] == "Reopened"


def test_transition_the_ticket_cannot_make_is_noted(hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _escalated(hub, jira_org)
    jira_org.agent.patch(f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Closed"})
    raw = recorded_webhook("webhook-issue-updated-resolved.json")
    r = client.post(URL, content=raw, headers=sign(raw, "d-1"))
    assert r.json() == {"status": "status not applicable"}
    assert _ticket(jira_org, ticket_id)["status"] == "Closed"
    assert any("left Closed" in c["comment"] for c in _notes(jira_org, ticket_id))


def test_unmapped_status_leaves_the_ticket(hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    configure(jira_org.admin, fake_jira, status_map={"Done": "Resolved"})
    ticket_id = _escalated(hub, jira_org)
    before = _ticket(jira_org, ticket_id)["status"]
    raw = recorded_webhook("webhook-issue-updated-started-working.json")
    r = client.post(URL, content=raw, headers=sign(raw, "d-2"))
    assert r.json() == {"status": "status In Progress not mapped"}
    assert _ticket(jira_org, ticket_id)["status"] == before != "In Progress"


def test_recorded_signed_comment_and_redelivery(hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _escalated(hub, jira_org)
    body, headers = signed_request("02_comment_created_valid.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"status": "comment noted"}, r.text
    [note] = _notes(jira_org, ticket_id)
    assert note["comment"].startswith("Jira comment by Test User on TES-41")
    assert "Added a comment" in note["comment"]
    # Jira retries the delivery with the same identifier: nothing new.
    body, headers = signed_request("03_comment_created_redelivery.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.json() == {"status": "duplicate"}
    # The same signed body under another delivery id (a replay): the content key knows it.
    r = client.post(URL, content=body, headers={**headers, "X-Atlassian-Webhook-Identifier": "x"})
    assert r.json() == {"status": "duplicate"}
    # The same comment in another delivery (issue_updated/issue_commented): noted once only.
    doc = json.loads(body)
    doc["webhookEvent"], doc["timestamp"] = "jira:issue_updated", doc["timestamp"] + 1
    other = json.dumps(doc).encode()
    r = client.post(URL, content=other, headers=sign(other, "y"))
    assert r.json() == {"status": "comment already noted"}
    assert len(_notes(jira_org, ticket_id)) == 1
    # A note that came from Jira is never posted back to Jira.
    outbox.drain(hub)
    assert fake_jira.calls("POST", r"/rest/api/2/issue/TES-41/comment") == []
    # End users do not see it.
    detail = jira_org.end_user.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    assert all(not c["is_internal"] for c in detail["comments"])


def test_recorded_tampered_signature_is_refused(jira_org, client) -> None:  # type: ignore[no-untyped-def]
    body, headers = signed_request("04_bad_signature.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 401
    assert r.json()["detail"] == "signature does not match"
    body, headers = signed_request("01_issue_created_valid.json")
    r = client.post(URL, content=body[:-1] + b" }", headers=headers)
    assert r.status_code == 401


def test_recorded_signed_issue_created_is_acknowledged(jira_org, client) -> None:  # type: ignore[no-untyped-def]
    body, headers = signed_request("01_issue_created_valid.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"status": "jira:issue_created ignored"}


def test_agent_note_marked_for_jira_is_posted_once(hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _escalated(hub, jira_org)
    r = jira_org.agent.post(
        f"/api/v1/support/tickets/{ticket_id}/comment/",
        json={"comment": "#jira Customer confirmed it on v2.3", "is_internal": True},
    )
    assert r.status_code == 201, r.text
    jira_org.agent.post(
        f"/api/v1/support/tickets/{ticket_id}/comment/",
        json={"comment": "not for jira", "is_internal": True},
    )
    jira_org.agent.post(
        f"/api/v1/support/tickets/{ticket_id}/comment/",
        json={"comment": "#jira but public replies never go", "is_internal": False},
    )
    outbox.drain(hub)
    outbox.drain(hub)
    [posted] = fake_jira.calls("POST", r"/rest/api/2/issue/TES-41/comment")
    assert posted.body["body"].startswith("Customer confirmed it on v2.3")
    assert f"support ticket #{ticket_id}" in posted.body["body"]
    # Jira's webhook for our own comment comes back: it is not added as a note (no echo).
    comment = fake_jira.comments["TES-41"][0]
    doc = webhook_doc("webhook-cloud-comment-created.json")
    doc["comment"].update(id=comment["id"], body=comment["body"], author=API_USER)
    raw = json.dumps(doc).encode()
    before = len(_notes(jira_org, ticket_id))
    r = client.post(URL, content=raw, headers=sign(raw, "echo-1"))
    assert r.json() == {"status": "own comment"}
    # Even when Jira reports another author for it, the comment id is known.
    doc["comment"]["author"] = webhook_doc("webhook-cloud-comment-created.json")["comment"][
        "author"
    ]
    raw = json.dumps(doc).encode()
    r = client.post(URL, content=raw, headers=sign(raw, "echo-2"))
    assert r.json() == {"status": "comment already noted"}
    assert len(_notes(jira_org, ticket_id)) == before


def test_marked_note_without_issue_is_explained(hub, jira_org, fake_jira) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(jira_org.end_user)
    jira_org.agent.post(
        f"/api/v1/support/tickets/{ticket_id}/comment/",
        json={"comment": "#jira please look", "is_internal": True},
    )
    outbox.drain(hub)
    assert fake_jira.requests == []
    assert any("has no Jira issue yet" in c["comment"] for c in _notes(jira_org, ticket_id))


def test_changes_by_our_api_user_are_ignored(hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _escalated(hub, jira_org)
    before = _ticket(jira_org, ticket_id)["status"]
    raw = recorded_webhook("webhook-issue-updated-resolved.json", user=API_USER)
    r = client.post(URL, content=raw, headers=sign(raw, "own-1"))
    assert r.json() == {"status": "own change ignored"}
    assert _ticket(jira_org, ticket_id)["status"] == before != "Resolved"


def test_label_finds_the_ticket_without_a_ref(hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(jira_org.end_user)
    doc = webhook_doc("webhook-issue-updated-resolved.json")
    doc["issue"]["key"] = "TES-99"
    doc["issue"]["fields"]["labels"] = ["test-label", label_for(jira_org.tenant[0], ticket_id)]
    raw = json.dumps(doc).encode()
    r = client.post(URL, content=raw, headers=sign(raw, "label-1"))
    assert r.json() == {"status": "status Resolved"}
    refs = [(x["kind"], x["value"]) for x in _ticket(jira_org, ticket_id)["external_refs"]]
    assert ("jira_issue", "TES-99") in refs


def test_tenants_and_disabled_plugin(hub, jira_org, other_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    body, headers = signed_request("01_issue_created_valid.json")
    r = client.post(f"{URL}?tenant={other_org.tenant[1]}", content=body, headers=headers)
    assert r.status_code == 404
    r = client.post(f"{URL}?tenant={jira_org.tenant[1]}", content=body, headers=headers)
    assert r.status_code == 200
    jira_org.admin.post("/api/v1/admin/plugins/jira/disable/")
    body, headers = signed_request("02_comment_created_valid.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 404


def test_issue_deleted_is_noted(hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _escalated(hub, jira_org)
    doc = webhook_doc("webhook-issue-deleted.json")
    doc["issue"]["key"] = "TES-41"
    raw = json.dumps(doc).encode()
    r = client.post(URL, content=raw, headers=sign(raw, "del-1"))
    assert r.json() == {"status": "deletion noted"}
    assert any("TES-41 was deleted" in c["comment"] for c in _notes(jira_org, ticket_id))


def test_malformed_body_is_400(jira_org, client) -> None:  # type: ignore[no-untyped-def]
    raw = b'{"hello": "world"}'
    r = client.post(URL, content=raw, headers=sign(raw, "bad-1"))
    assert r.status_code == 400 and "webhookEvent" in r.json()["detail"]


def test_a_tenant_secret_reaches_only_its_tickets(
    hub, jira_org, other_org, fake_jira, client
) -> None:  # type: ignore[no-untyped-def]
    ticket_a = _escalated(hub, jira_org)  # TES-41 in the first tenant
    configure(other_org.admin, fake_jira, webhook_secret="second-tenant-secret")
    ticket_b = open_ticket(other_org.end_user)
    other_org.agent.post(f"/api/v1/support/tickets/{ticket_b}/escalate/", json={"target": "jira"})
    outbox.drain(hub)
    raw = recorded_webhook("webhook-issue-updated-resolved.json")  # about TES-41
    sig = hmac.new(b"second-tenant-secret", raw, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature": f"sha256={sig}", "X-Atlassian-Webhook-Identifier": "iso-1"}
    r = client.post(URL, content=raw, headers=headers)
    assert r.json() == {"status": "unknown issue"}
    assert _ticket(jira_org, ticket_a)["status"] != "Resolved"
    # Naming the first tenant with the second tenant's signature is refused.
    r = client.post(
        f"{URL}?tenant={jira_org.tenant[1]}",
        content=raw,
        headers={**headers, "X-Atlassian-Webhook-Identifier": "iso-2"},
    )
    assert r.status_code == 401


def test_a_webhook_whose_commit_fails_is_not_acknowledged(hub, jira_org, fake_jira, client) -> None:  # type: ignore[no-untyped-def]
    """Jira must deliver again: a 2xx before the commit would lose the status change."""
    from tests.faults import failing_commits

    ticket_id = _escalated(hub, jira_org)
    raw = recorded_webhook("webhook-issue-updated-started-working.json")
    with failing_commits() as commits:
        r = client.post(URL, content=raw, headers=sign(raw, "delivery-commit-fails"))
    assert commits and r.status_code >= 500, r.text
    assert _ticket(jira_org, ticket_id)["status"] != "In Progress"
    r = client.post(URL, content=raw, headers=sign(raw, "delivery-commit-fails"))
    assert r.status_code == 200 and r.json() == {"status": "status In Progress"}, r.text
    assert _ticket(jira_org, ticket_id)["status"] == "In Progress"


def test_server_comment_without_issue_finds_it_from_comment_self(
    hub, jira_org, fake_jira, client
) -> None:  # type: ignore[no-untyped-def]
    """Jira Server / Data Center's comment_created has no ``issue``: the issue id in
    ``comment.self`` is fetched through the REST client and the comment is noted."""
    ticket_id = _escalated(hub, jira_org)
    doc = webhook_doc("webhook-server-comment-created.json")
    assert "issue" not in doc
    doc["comment"]["self"] = doc["comment"]["self"].replace("/issue/10013/", "/issue/10040/")
    raw = json.dumps(doc).encode()
    r = client.post(URL, content=raw, headers=sign(raw, "server-comment"))
    assert r.json() == {"status": "comment noted"}, r.text
    assert fake_jira.calls("GET", r"/rest/api/2/issue/10040")
    [note] = _notes(jira_org, ticket_id)
    assert note["comment"].startswith("Jira comment by Lev Brouk on TES-41")
    assert note["comment"].endswith("unik")


def test_server_comment_while_jira_is_down_is_refused_then_noted(
    hub, jira_org, fake_jira, client
) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _escalated(hub, jira_org)
    fake_jira.failures.append(("GET", r"/rest/api/2/issue/10040", 503, {"errorMessages": ["down"]}))
    doc = webhook_doc("webhook-server-comment-created.json")
    doc["comment"]["self"] = doc["comment"]["self"].replace("/issue/10013/", "/issue/10040/")
    raw = json.dumps(doc).encode()
    r = client.post(URL, content=raw, headers=sign(raw, "server-comment-down"))
    assert r.status_code == 503  # not acknowledged, so Jira sends it again
    r = client.post(URL, content=raw, headers=sign(raw, "server-comment-down"))
    assert r.json() == {"status": "comment noted"}
    assert len(_notes(jira_org, ticket_id)) == 1
