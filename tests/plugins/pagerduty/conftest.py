"""Fixtures for the PagerDuty plugin: the HTTPS fake and a tenant with the plugin configured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.api import events, system_actor
from core.clock import now, set_clock
from hub import outbox
from plugins.pagerduty.paging import dedup_key
from tests.plugins.pagerduty.fake_pagerduty import FakePagerDuty, FakePagerDutyServer, fixture

ROUTING_KEY = "R0UTINGKEY0000000000000000000001"
WEBHOOK_SECRET = fixture("webhooks_v3/incident.priority_updated.signed_valid.json")["secret"]


@pytest.fixture(scope="session")
def pd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakePagerDutyServer]:
    server = FakePagerDutyServer(tmp_path_factory.mktemp("pd-certs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_pd(pd_server: FakePagerDutyServer) -> Iterator[FakePagerDuty]:
    """The fake's state, emptied for each test."""
    pd_server.state.reset()
    yield pd_server.state
    pd_server.state.reset()


def configure(admin: Any, fake: FakePagerDuty, **overrides: Any) -> None:
    """Enable and configure PagerDuty for the admin's tenant through the admin API."""
    settings = {
        "routing_key": ROUTING_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "api_token": "pd-rest-token-0001",
        "base_url": fake.url,
        "api_base_url": fake.url,
        "ca_bundle": fake.ca_bundle,
        **overrides,
    }
    r = admin.post("/api/v1/admin/plugins/pagerduty/enable/")
    assert r.status_code == 200, r.text
    r = admin.patch("/api/v1/admin/plugins/pagerduty/", json={"settings": settings})
    assert r.status_code == 200, r.text


@pytest.fixture
def pd_org(org: Any, fake_pd: FakePagerDuty) -> Any:
    """``org`` with PagerDuty enabled and pointed at the fake."""
    configure(org.admin, fake_pd)
    return org


def open_ticket(member: Any, priority: str = "Critical", subject: str = "Core router down") -> int:
    r = member.post(
        "/api/v1/support/tickets/",
        json={
            "subject": subject,
            "description": "All sites lost connectivity at 09:00.",
            "category": "Technical Issue",
            "priority": priority,
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def breach(hub: Any, tenant_id: Any, ticket_id: int, target: str = "resolution") -> int:
    """Emit ``sla.breached`` for a ticket as the SLA sweep does; returns the outbox row id."""
    with hub.session() as s:
        row = events.emit(
            s,
            system_actor(tenant_id),
            events.SLA_BREACHED,
            tenant_id=tenant_id,
            ticket_id=ticket_id,
            payload={"sla_target": target},
        )
        s.flush()
        return int(row.id)


def at_recorded_time(raw: bytes) -> None:
    """Run the hub's clock from the moment a recorded event occurred (``event.occurred_at``), so
    the recorded, signed bytes pass the freshness check unchanged; ``_clean_state`` restores it."""
    sent = datetime.fromisoformat(json.loads(raw)["event"]["occurred_at"])
    started = datetime.now(UTC)
    set_clock(lambda: sent + (datetime.now(UTC) - started))


def signed_request(name: str) -> tuple[bytes, dict[str, str]]:
    """(raw body, headers) of a signed webhook fixture, with the clock at its recorded time."""
    doc = fixture(f"webhooks_v3/{name}")
    raw = doc["raw_body"].encode()
    at_recorded_time(raw)
    return raw, dict(doc["headers"])


def body_with(name: str, **data: Any) -> dict[str, Any]:
    """A webhook fixture's body with ``event.data`` fields replaced (to be re-signed), as if it
    occurred now."""
    doc = json.loads(fixture(f"webhooks_v3/{name}")["raw_body"])
    doc["event"]["data"].update(data)
    doc["event"]["occurred_at"] = now().isoformat().replace("+00:00", "Z")
    return doc


URL = "/plugins/pagerduty/webhook"
INCIDENT = "PGR0VU2"  # the incident id in the recorded webhook bodies


def paged_ticket(hub, org, fake_pd) -> int:  # type: ignore[no-untyped-def]
    """A Critical ticket that breached and paged; the fake knows the incident behind it."""
    ticket_id = open_ticket(org.end_user)
    breach(hub, org.tenant[0], ticket_id)
    outbox.drain(hub)
    assert len(fake_pd.events("trigger")) == 1
    fake_pd.incidents[INCIDENT] = dedup_key(org.tenant[0], ticket_id)
    return ticket_id


def notes_on(org, ticket_id):  # type: ignore[no-untyped-def]
    detail = org.agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    return [c["comment"] for c in detail["comments"] if c["is_internal"]]
