"""Inbound v3 webhooks: signatures (valid, tampered, rotated), replays, tenants, notes."""

from __future__ import annotations

import hashlib
import hmac
import json

from hub import outbox
from plugins.pagerduty.paging import dedup_key
from tests.plugins.pagerduty.conftest import (
    INCIDENT,
    URL,
    WEBHOOK_SECRET,
    body_with,
    notes_on,
    paged_ticket,
    signed_request,
)


def test_acknowledged_adds_a_note_once(hub, pd_org, fake_pd, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = paged_ticket(hub, pd_org, fake_pd)
    body, headers = signed_request("incident.acknowledged.signed_valid.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "noted"}
    # The incident was named by id only: the REST API was asked for its key, with the token.
    [lookup] = [q for q in fake_pd.requests if q.method == "GET"]
    assert lookup.path == f"/incidents/{INCIDENT}"
    assert lookup.headers["authorization"] == "Token token=pd-rest-token-0001"
    notes = notes_on(pd_org, ticket_id)
    assert len(notes) == 1
    assert "acknowledged by Tenex Engineer" in notes[0]
    assert "https://acme.pagerduty.com/incidents/PGR0VU2" in notes[0]
    # The same delivery again (a replay or PagerDuty's retry) changes nothing.
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"status": "duplicate"}
    assert len(notes_on(pd_org, ticket_id)) == 1
    # End users never see the note.
    detail = pd_org.end_user.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    assert all(not c["is_internal"] for c in detail["comments"])


def test_reassigned_and_resolvednotes_on(hub, pd_org, fake_pd, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = paged_ticket(hub, pd_org, fake_pd)
    for name in ("incident.reassigned.signed_valid.json", "incident.resolved.signed_valid.json"):
        body, headers = signed_request(name)
        r = client.post(URL, content=body, headers=headers)
        assert r.status_code == 200 and r.json() == {"status": "noted"}, r.text
    notes = notes_on(pd_org, ticket_id)
    assert any("reassigned to Night Shift Engineer by Tenex Engineer" in n for n in notes)
    assert any("was resolved by Tenex Engineer" in n for n in notes)
    # Only one REST lookup: the incident id is remembered as a ref of the ticket.
    assert len([q for q in fake_pd.requests if q.method == "GET"]) == 1
    # Already resolved in PagerDuty: resolving the ticket sends no second resolve.
    pd_org.agent.patch(f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"})
    outbox.drain(hub)
    assert fake_pd.events("resolve") == []


def test_incident_key_in_payload_needs_no_lookup(hub, pd_org, fake_pd, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = paged_ticket(hub, pd_org, fake_pd)
    fake_pd.incidents.clear()
    doc = body_with(
        "incident.acknowledged.signed_valid.json",
        incident_key=dedup_key(pd_org.tenant[0], ticket_id),
    )
    raw = json.dumps(doc).encode()
    sig = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    r = client.post(
        URL,
        content=raw,
        headers={"X-PagerDuty-Signature": f"v1={sig}", "Content-Type": "application/json"},
    )
    assert r.json() == {"status": "noted"}
    assert [q for q in fake_pd.requests if q.method == "GET"] == []
    assert len(notes_on(pd_org, ticket_id)) == 1


def test_tampered_signature_is_refused(pd_org, client) -> None:  # type: ignore[no-untyped-def]
    body, headers = signed_request("incident.priority_updated.signed_mismatch.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 401
    assert r.json()["detail"] == "signature does not match"
    body, headers = signed_request("incident.acknowledged.signed_valid.json")
    r = client.post(URL, content=body.replace(b"Tenex", b"Evil!"), headers=headers)
    assert r.status_code == 401
    r = client.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401


def test_rotation_signatures_and_unhandled_events(pd_org, client) -> None:  # type: ignore[no-untyped-def]
    body, headers = signed_request("incident.priority_updated.signed_rotation.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 200
    assert r.json() == {"status": "ignored"}


def test_unknown_incident_is_acknowledged(pd_org, fake_pd, client) -> None:  # type: ignore[no-untyped-def]
    body, headers = signed_request("incident.acknowledged.signed_valid.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"status": "unknown incident"}


def test_tenant_without_the_plugin_gets_404(pd_org, other_org, client) -> None:  # type: ignore[no-untyped-def]
    body, headers = signed_request("incident.acknowledged.signed_valid.json")
    r = client.post(f"{URL}?tenant={other_org.tenant[1]}", content=body, headers=headers)
    assert r.status_code == 404
    r = client.post(f"{URL}?tenant={pd_org.tenant[1]}", content=body, headers=headers)
    assert r.status_code == 200
    r = client.post(f"{URL}?tenant={pd_org.tenant[0]}", content=body, headers=headers)
    assert r.status_code == 200
    pd_org.admin.post("/api/v1/admin/plugins/pagerduty/disable/")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 404


def test_secret_picks_the_tenant(hub, pd_org, other_org, fake_pd, client) -> None:  # type: ignore[no-untyped-def]
    from tests.plugins.pagerduty.conftest import configure

    configure(other_org.admin, fake_pd, webhook_secret="another-tenant-secret")
    ticket_id = paged_ticket(hub, pd_org, fake_pd)
    body, headers = signed_request("incident.acknowledged.signed_valid.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.json() == {"status": "noted"}
    assert len(notes_on(pd_org, ticket_id)) == 1


def test_malformed_body_is_400(pd_org, client) -> None:  # type: ignore[no-untyped-def]
    raw = b'{"not": "an event"}'
    sig = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    r = client.post(URL, content=raw, headers={"X-PagerDuty-Signature": f"v1={sig}"})
    assert r.status_code == 400
    assert "detail" in r.json()


def test_secrets_never_returned(pd_org) -> None:  # type: ignore[no-untyped-def]
    plugins = pd_org.admin.get("/api/v1/admin/plugins/").json()
    [pd] = [p for p in plugins if p["name"] == "pagerduty"]
    text = json.dumps(pd)
    assert WEBHOOK_SECRET not in text and "pd-rest-token-0001" not in text
    assert sorted(pd["secrets_set"]) == ["api_token", "routing_key", "webhook_secret"]


def test_oversized_body_is_413(pd_org, client) -> None:  # type: ignore[no-untyped-def]
    r = client.post(URL, content=b"x" * (512 * 1024 + 1), headers={"X-PagerDuty-Signature": "v1=0"})
    assert r.status_code == 413


def test_rest_outage_asks_pagerduty_to_deliver_again(hub, pd_org, fake_pd, client) -> None:  # type: ignore[no-untyped-def]
    from tests.plugins.pagerduty.conftest import configure
    from tests.services import free_port

    ticket_id = paged_ticket(hub, pd_org, fake_pd)
    configure(pd_org.admin, fake_pd, api_base_url=f"https://127.0.0.1:{free_port()}")
    body, headers = signed_request("incident.acknowledged.signed_valid.json")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 503
    assert notes_on(pd_org, ticket_id) == []
    configure(pd_org.admin, fake_pd)
    r = client.post(URL, content=body, headers=headers)  # PagerDuty's redelivery
    assert r.json() == {"status": "noted"}


def test_a_webhook_whose_commit_fails_is_not_acknowledged(hub, pd_org, fake_pd, client) -> None:  # type: ignore[no-untyped-def]
    """PagerDuty must deliver again: a 2xx before the commit would lose the note."""
    from tests.faults import failing_commits

    ticket_id = paged_ticket(hub, pd_org, fake_pd)
    body, headers = signed_request("incident.acknowledged.signed_valid.json")
    with failing_commits() as commits:
        r = client.post(URL, content=body, headers=headers)
    assert commits and r.status_code >= 500, r.text
    assert notes_on(pd_org, ticket_id) == []
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"status": "noted"}, r.text
    assert len(notes_on(pd_org, ticket_id)) == 1


def test_an_event_without_an_id_is_noted_once_by_its_content(hub, pd_org, fake_pd, client) -> None:  # type: ignore[no-untyped-def]
    ticket_id = paged_ticket(hub, pd_org, fake_pd)
    doc = body_with(
        "incident.acknowledged.signed_valid.json",
        incident_key=dedup_key(pd_org.tenant[0], ticket_id),
    )
    doc["event"].pop("id")
    raw = json.dumps(doc).encode()
    sig = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"X-PagerDuty-Signature": f"v1={sig}", "Content-Type": "application/json"}
    first = client.post(URL, content=raw, headers=headers)
    again = client.post(URL, content=raw, headers=headers)
    assert first.status_code == 200 and first.json() == {"status": "noted"}
    assert again.status_code == 200 and again.json() != {"status": "noted"}
    assert len(notes_on(pd_org, ticket_id)) == 1
