"""The issue's end-to-end check with the real SLA sweep: breach -> one page; resolve -> resolve."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import FrozenClock, set_clock
from hub import outbox
from hub.builtin_automation import run_sla_sweep
from plugins.pagerduty.paging import dedup_key
from tests.plugins.pagerduty.conftest import open_ticket
from tests.plugins.pagerduty.fake_pagerduty import recorded_response


def test_sweep_breach_pages_once_and_resolve_follows(hub, pd_org, fake_pd) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    set_clock(clock)
    ticket_id = open_ticket(pd_org.end_user, priority="Critical")
    outbox.drain(hub)
    clock.advance(minutes=61)  # past the 1 h first-response target of a Critical ticket
    fake_pd.script.append(recorded_response("response.429_throttled.json"))
    run_sla_sweep(hub)
    run_sla_sweep(hub)  # a second sweep announces nothing new
    outbox.drain(hub)
    outbox.drain(hub)
    assert len(fake_pd.events("trigger", status=429)) == 1
    clock.advance(minutes=5)  # the outbox's backoff has passed
    outbox.drain(hub)
    outbox.drain(hub)
    key = dedup_key(pd_org.tenant[0], ticket_id)
    accepted = fake_pd.events("trigger", status=202)
    assert [t["dedup_key"] for t in accepted] == [key]
    assert "response" in accepted[0]["payload"]["summary"]
    # The resolution target breaches later while the incident is open: no second page.
    clock.advance(hours=4)
    run_sla_sweep(hub)
    outbox.drain(hub)
    assert len(fake_pd.events("trigger", status=202)) == 1

    r = pd_org.agent.patch(f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"})
    assert r.status_code == 200, r.text
    outbox.drain(hub)
    assert [b["dedup_key"] for b in fake_pd.events("resolve")] == [key]
