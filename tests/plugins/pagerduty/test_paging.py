"""End to end: breaches and agent actions reach a PagerDuty fake over HTTPS; resolve follows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.clock import FrozenClock, set_clock
from core.models import OutboxEvent
from hub import outbox
from plugins.pagerduty.paging import dedup_key
from tests.plugins.pagerduty.conftest import ROUTING_KEY, breach, configure, open_ticket
from tests.plugins.pagerduty.fake_pagerduty import recorded_response
from tests.services import free_port


def _row(hub, event_id):  # type: ignore[no-untyped-def]
    with hub.session() as s:
        row = s.get(OutboxEvent, event_id)
        return row.status, row.attempts, row.last_error


def _internal_notes(member, ticket_id):  # type: ignore[no-untyped-def]
    r = member.get(f"/api/v1/support/tickets/{ticket_id}/")
    assert r.status_code == 200, r.text
    return [c["comment"] for c in r.json()["comments"] if c["is_internal"]]


def test_critical_breach_pages_once_then_resolve(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    tenant_id = pd_org.tenant[0]
    ticket_id = open_ticket(pd_org.end_user)
    event_id = breach(hub, tenant_id, ticket_id)
    outbox.drain(hub)
    outbox.drain(hub)
    assert _row(hub, event_id)[0] == "delivered"
    triggers = fake_pd.events("trigger")
    assert len(triggers) == 1
    sent = triggers[0]
    key = dedup_key(tenant_id, ticket_id)
    assert sent["dedup_key"] == key
    assert sent["routing_key"] == ROUTING_KEY
    assert f"Ticket #{ticket_id}" in sent["payload"]["summary"]
    assert "resolution" in sent["payload"]["summary"]
    assert sent["payload"]["severity"] == "critical"
    assert sent["payload"]["custom_details"]["ticket_id"] == ticket_id
    assert sent["links"][0]["href"] == f"http://hub.test/tickets/{ticket_id}"
    # The incident key is shown on the ticket.
    detail = pd_org.agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    assert {"kind": "pagerduty_dedup_key", "value": key}.items() <= detail["external_refs"][
        0
    ].items()

    # Another breach of the same open incident (first response, then resolution) pages no more.
    breach(hub, tenant_id, ticket_id, target="first_response")
    outbox.drain(hub)
    assert len(fake_pd.events("trigger")) == 1

    r = pd_org.agent.patch(f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"})
    assert r.status_code == 200, r.text
    outbox.drain(hub)
    resolves = fake_pd.events("resolve")
    assert [b["dedup_key"] for b in resolves] == [key]
    # Closing after resolving sends nothing more.
    pd_org.agent.patch(f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Closed"})
    outbox.drain(hub)
    assert len(fake_pd.events("resolve")) == 1


def test_breach_of_other_priority_does_not_page(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(pd_org.end_user, priority="High")
    event_id = breach(hub, pd_org.tenant[0], ticket_id)
    outbox.drain(hub)
    assert _row(hub, event_id)[0] == "delivered"
    assert fake_pd.requests == []


def test_priorities_setting_widens_paging(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    configure(pd_org.admin, fake_pd, priorities=["Critical", "High"], severity="error")
    ticket_id = open_ticket(pd_org.end_user, priority="High")
    breach(hub, pd_org.tenant[0], ticket_id)
    outbox.drain(hub)
    [sent] = fake_pd.events("trigger")
    assert sent["payload"]["severity"] == "error"


def test_throttled_trigger_is_retried_by_the_outbox(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    set_clock(clock)
    ticket_id = open_ticket(pd_org.end_user)
    fake_pd.script.append(recorded_response("response.429_throttled.json"))
    event_id = breach(hub, pd_org.tenant[0], ticket_id)
    outbox.drain(hub)
    status, attempts, error = _row(hub, event_id)
    assert (status, attempts) == ("pending", 1)
    assert "429" in error and "pagerduty" in error
    outbox.drain(hub)  # not due yet: backoff
    assert len(fake_pd.events("trigger")) == 1
    clock.advance(minutes=2)
    outbox.drain(hub)
    outbox.drain(hub)
    assert _row(hub, event_id)[0] == "delivered"
    assert len(fake_pd.events("trigger", status=429)) == 1
    accepted = fake_pd.events("trigger", status=202)
    assert [b["dedup_key"] for b in accepted] == [dedup_key(pd_org.tenant[0], ticket_id)]


def test_rejected_trigger_is_noted_and_not_retried(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(pd_org.end_user)
    fake_pd.script.append(recorded_response("response.400_invalid.json"))
    event_id = breach(hub, pd_org.tenant[0], ticket_id)
    outbox.drain(hub)
    assert _row(hub, event_id)[0] == "delivered"
    assert len(fake_pd.events("trigger")) == 1
    notes = _internal_notes(pd_org.agent, ticket_id)
    # The status, never the response body: what the endpoint answers is not copied in.
    assert any("did not accept" in n and "HTTP 400" in n for n in notes)
    assert not any("Event object is invalid" in n for n in notes)
    audit = pd_org.agent.get(f"/api/v1/support/tickets/{ticket_id}/audit/").json()
    assert any(a["action"] == "Escalation Failed" for a in audit)
    # No dedup ref is kept for a page that never happened.
    detail = pd_org.agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    assert all(r["kind"] != "pagerduty_dedup_key" for r in detail["external_refs"])


def test_network_error_is_retried(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    set_clock(clock)
    configure(pd_org.admin, fake_pd, base_url=f"https://127.0.0.1:{free_port()}")
    ticket_id = open_ticket(pd_org.end_user)
    event_id = breach(hub, pd_org.tenant[0], ticket_id)
    outbox.drain(hub)
    status, _, error = _row(hub, event_id)
    assert status == "pending" and "unreachable" in error
    configure(pd_org.admin, fake_pd)
    clock.advance(minutes=2)
    outbox.drain(hub)
    assert _row(hub, event_id)[0] == "delivered"
    assert len(fake_pd.events("trigger")) == 1


def test_untrusted_certificate_is_refused(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    configure(pd_org.admin, fake_pd, ca_bundle="")
    ticket_id = open_ticket(pd_org.end_user)
    event_id = breach(hub, pd_org.tenant[0], ticket_id)
    outbox.drain(hub)
    status, _, error = _row(hub, event_id)
    assert status == "pending" and "CERTIFICATE_VERIFY_FAILED" in error
    assert fake_pd.events() == []


def test_agent_pages_on_call(hub, pd_org, other_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(pd_org.end_user, priority="Medium")
    targets = pd_org.agent.get(f"/api/v1/support/tickets/{ticket_id}/escalation-targets/").json()
    assert {"plugin": "pagerduty", "target": "pagerduty", "label": "Page on-call"} in targets
    r = pd_org.agent.post(
        f"/api/v1/support/tickets/{ticket_id}/escalate/",
        json={"target": "pagerduty", "note": "customer-wide outage"},
    )
    assert r.status_code == 202, r.text
    outbox.drain(hub)
    [sent] = fake_pd.events("trigger")
    assert sent["payload"]["class"] == "manual"
    assert sent["payload"]["custom_details"]["note"] == "customer-wide outage"
    # Asking again while the incident is open sends nothing and says why.
    pd_org.agent.post(
        f"/api/v1/support/tickets/{ticket_id}/escalate/", json={"target": "pagerduty"}
    )
    outbox.drain(hub)
    assert len(fake_pd.events("trigger")) == 1
    assert any("not paged again" in n for n in _internal_notes(pd_org.agent, ticket_id))
    # A tenant without the plugin is not offered the target.
    other_ticket = open_ticket(other_org.end_user)
    r = other_org.agent.post(
        f"/api/v1/support/tickets/{other_ticket}/escalate/", json={"target": "pagerduty"}
    )
    assert r.status_code == 422
    outbox.drain(hub)
    with hub.session() as s:
        pending = s.scalars(select(OutboxEvent).where(OutboxEvent.status != "delivered")).all()
    assert pending == []
    assert len(fake_pd.events("trigger")) == 1


def test_ca_bundle_is_pem_content_not_a_path(hub, pd_org, fake_pd, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A path would make the hub read (and report on) its own files: only PEM text is taken.
    pem = tmp_path / "ca.pem"
    pem.write_text(fake_pd.ca_bundle)
    for bad in (
        str(pem),
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n",
    ):
        r = pd_org.admin.patch(
            "/api/v1/admin/plugins/pagerduty/", json={"settings": {"ca_bundle": bad}}
        )
        assert r.status_code == 422, (bad, r.text)
        assert "ca_bundle" in r.text
    ticket_id = open_ticket(pd_org.end_user)
    breach(hub, pd_org.tenant[0], ticket_id)
    outbox.drain(hub)
    assert len(fake_pd.events("trigger")) == 1  # the PEM text saved before still works


def test_merged_ticket_incident_is_resolved_with_the_target(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    source = open_ticket(pd_org.end_user, subject="Router down (duplicate)")
    target = open_ticket(pd_org.end_user, priority="High")
    breach(hub, pd_org.tenant[0], source)
    outbox.drain(hub)
    assert len(fake_pd.events("trigger")) == 1
    r = pd_org.agent.post(f"/api/v1/support/tickets/{source}/merge/", json={"target_id": target})
    assert r.status_code == 200, r.text
    outbox.drain(hub)
    assert fake_pd.events("resolve") == []  # the incident now follows the target ticket
    pd_org.agent.patch(f"/api/v1/support/tickets/{target}/", json={"status": "Resolved"})
    outbox.drain(hub)
    assert [b["dedup_key"] for b in fake_pd.events("resolve")] == [
        dedup_key(pd_org.tenant[0], source)
    ]


def test_rejected_resolve_is_noted_and_not_retried(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(pd_org.end_user)
    breach(hub, pd_org.tenant[0], ticket_id)
    outbox.drain(hub)
    fake_pd.script.append(recorded_response("response.400_invalid.json"))
    pd_org.agent.patch(f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"})
    outbox.drain(hub)
    outbox.drain(hub)
    assert len(fake_pd.events("resolve")) == 1
    with hub.session() as s:
        stuck = s.scalars(select(OutboxEvent).where(OutboxEvent.status != "delivered")).all()
    assert stuck == []
    assert any("did not accept the resolve" in n for n in _internal_notes(pd_org.agent, ticket_id))
