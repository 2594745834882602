"""Outbox delivery under concurrency and load (security issue #13, items 3 and 6).

Exactly once while a holder lives: two deliverers and a slow notify hook never send an event
twice; a holder that dies is taken over when its lease runs out. Fairness: one tenant's backlog
or slow relay does not delay another tenant's event.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core import clock
from core.api import HubContext, TicketEvent, hookimpl
from core.models import OutboxEvent
from core.permissions import system_actor
from core.services import events
from hub import outbox
from hub.builtins import plugins as builtin_plugins
from hub.context import Hub
from hub.plugins import make_plugin_manager
from tests.conftest import TenantSet

T = "/api/v1/support/tickets/"
NEW = {"subject": "Help", "description": "Please.", "category": "Other"}


class SlowRelay:
    """A notify hook that takes its time: ``sleep`` real seconds, and moves a frozen clock on."""

    def __init__(
        self, sleep: float = 0.0, frozen: clock.FrozenClock | None = None, advance: float = 0.0
    ) -> None:
        self.sleep, self.frozen, self.advance = sleep, frozen, advance
        self.seen: list[tuple[Any, int]] = []
        self._lock = threading.Lock()

    @hookimpl
    def hub_notify(self, event: TicketEvent, hub: HubContext) -> None:
        time.sleep(self.sleep)
        with self._lock:
            if self.frozen is not None:
                self.frozen.advance(seconds=self.advance)
            self.seen.append((event.tenant_id, event.id))

    def ids(self, tenant_id: Any = None) -> list[int]:
        return [i for t, i in self.seen if tenant_id is None or t == tenant_id]


def _hub(hub: Hub, relay: SlowRelay, **settings: Any) -> Hub:
    pm = make_plugin_manager(extra=[*builtin_plugins(), ("slow-relay", relay)])
    return Hub(hub.settings.model_copy(update=settings), pm=pm, engine=hub.engine)


def _pending(hub: Hub, tenant_id: Any = None) -> list[OutboxEvent]:
    with hub.session() as s:
        stmt = select(OutboxEvent).where(OutboxEvent.status == "pending")
        if tenant_id is not None:
            stmt = stmt.where(OutboxEvent.tenant_id == tenant_id)
        return list(s.scalars(stmt.order_by(OutboxEvent.id)))


def _all_ids(hub: Hub) -> list[int]:
    with hub.session() as s:
        return list(s.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id)))


def _tickets(member: Any, n: int) -> None:
    for i in range(n):
        r = member.post(T, json={**NEW, "subject": f"Help {i}"})
        assert r.status_code == 201, r.text


def _run_deliverers(hub: Hub, n: int, until: float) -> list[BaseException]:
    """``n`` threads that keep draining until nothing is pending (or ``until`` seconds pass)."""
    errors: list[BaseException] = []
    deadline = time.monotonic() + until

    def work() -> None:
        try:
            while _pending(hub) and time.monotonic() < deadline:
                outbox.drain(hub)
                time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(until + 30)
    return errors


@pytest.fixture
def frozen() -> clock.FrozenClock:
    c = clock.FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    clock.set_clock(c)
    return c


def test_two_deliverers_and_a_slow_relay_deliver_each_event_once(
    hub: Hub,
    org: TenantSet,  # type: ignore[no-untyped-def]
    frozen,
) -> None:
    # Each mail takes a minute of (frozen) time: a batch of 30 outlives a two-minute lease.
    relay = SlowRelay(sleep=0.01, frozen=frozen, advance=40)
    h = _hub(hub, relay, outbox_tenant_concurrency=4)
    _tickets(org.end_user, 15)
    assert len(_all_ids(h)) >= 15
    assert _run_deliverers(h, 2, until=60) == []
    counts = Counter(relay.ids())
    assert sorted(counts) == _all_ids(h)  # delivery's own follow-up events included
    assert {i: c for i, c in counts.items() if c != 1} == {}
    assert _pending(h) == []


def test_lease_is_renewed_while_a_slow_hook_works(hub: Hub, org: TenantSet) -> None:
    # Real time, a 0.3 s lease and a hook that takes 1 s: only the renewal keeps the row held.
    relay = SlowRelay(sleep=1.0)
    h = _hub(hub, relay, outbox_lease_seconds=0.3, outbox_tenant_concurrency=4)
    _tickets(org.end_user, 2)
    assert _run_deliverers(h, 3, until=60) == []
    counts = Counter(relay.ids())
    assert sorted(counts) == _all_ids(h) and set(counts.values()) == {1}


def test_a_dead_holder_is_taken_over_when_its_lease_expires(
    hub: Hub,
    org: TenantSet,  # type: ignore[no-untyped-def]
    frozen,
) -> None:
    relay = SlowRelay()
    h = _hub(hub, relay)
    _tickets(org.end_user, 1)
    (event_id,) = _all_ids(h)
    assert outbox.take(h, event_id, "dead-holder-token")  # then the holder dies: no renewal
    assert outbox.drain(h) == 0 and relay.ids() == []
    frozen.advance(seconds=h.settings.outbox_lease_seconds - 1)
    assert outbox.drain(h) == 0 and relay.ids() == []
    frozen.advance(seconds=2)
    assert outbox.drain(h) >= 1  # the event, and what its delivery caused
    assert relay.ids().count(event_id) == 1
    # The old holder coming back finds the row settled and sends nothing.
    ghost = outbox.Holder(h)
    ghost.token = "dead-holder-token"
    assert outbox.deliver_one(h, event_id, ghost) == "gone"
    assert relay.ids().count(event_id) == 1


def test_a_holder_that_lost_its_lease_records_nothing(hub: Hub, org: TenantSet, frozen) -> None:  # type: ignore[no-untyped-def]
    relay = SlowRelay()
    h = _hub(hub, relay)
    _tickets(org.end_user, 1)
    (event_id,) = _all_ids(h)
    stale = outbox.Holder(h)
    assert outbox.take(h, event_id, stale.token)
    frozen.advance(seconds=h.settings.outbox_lease_seconds + 1)
    assert outbox.take(h, event_id, "new-holder")  # taken over
    assert outbox.deliver_one(h, event_id, stale) == "lost" and relay.ids() == []
    assert not outbox.take(h, event_id, "third")  # the new holder's lease is live


def test_one_tenants_backlog_does_not_delay_another_tenants_event(  # type: ignore[no-untyped-def]
    hub: Hub, org: TenantSet, other_org: TenantSet, frozen
) -> None:
    relay = SlowRelay()
    h = _hub(hub, relay)
    _tickets(org.end_user, 1)
    noisy = org.tenant[0]
    with h.session() as s:
        ticket_id = s.scalars(select(OutboxEvent.ticket_id)).first()
        events.emit_many(
            s,
            [
                (system_actor(noisy), "test.backlog", noisy, ticket_id, {"n": i})
                for i in range(1_000)
            ],
        )
    frozen.advance(seconds=1)
    _tickets(other_org.end_user, 1)
    quiet = _all_ids(h)[-1]
    # One batch: the quiet tenant's event is in it, the noisy tenant gets its share only.
    handled = outbox.drain(h, rounds=1)
    assert quiet in relay.ids(other_org.tenant[0])
    assert len(relay.ids(noisy)) <= h.settings.outbox_tenant_batch
    assert handled == len(relay.ids())


def test_a_slow_tenant_in_flight_does_not_hold_the_others(  # type: ignore[no-untyped-def]
    hub: Hub, org: TenantSet, other_org: TenantSet, frozen
) -> None:
    relay = SlowRelay()
    h = _hub(hub, relay, outbox_tenant_concurrency=1)
    _tickets(org.end_user, 3)
    _tickets(other_org.end_user, 1)
    busy = _pending(h, org.tenant[0])
    # A worker is stuck on the first tenant's relay (its lease is live): another worker skips
    # that tenant's rows and delivers the other tenant's.
    assert outbox.take(h, busy[0].id, "stuck-on-a-slow-relay")
    outbox.drain(h)
    assert relay.ids(org.tenant[0]) == []
    assert relay.ids(other_org.tenant[0]) != []
    assert _pending(h, other_org.tenant[0]) == []
    frozen.advance(seconds=h.settings.outbox_lease_seconds + 1)
    outbox.drain(h)
    assert set(relay.ids(org.tenant[0])) >= {r.id for r in busy}
    assert _pending(h) == []


def test_lease_setting_is_used(hub: Hub) -> None:
    h = _hub(hub, SlowRelay(), outbox_lease_seconds=7)
    assert outbox.lease(h) == timedelta(seconds=7)
