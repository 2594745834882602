"""The per-ticket SLA clock through the services: due moments, business hours, pause, cycles,
recompute on change, and the sweep's warnings and breaches (frozen clock, never sleeping)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.clock import FrozenClock, set_clock
from core.models import OutboxEvent, SlaLog, SlaPolicy, SlaState, Ticket
from core.permissions import Actor
from core.services.comments import add_comment
from core.services.tickets import Changes, create_ticket, update_ticket
from core.sla import clock as sla_clock
from core.sla import sweep as sla_sweep
from hub.context import Hub
from tests.conftest import TenantSet

BERLIN = ZoneInfo("Europe/Berlin")
SPLIT = {d: [["09:00", "12:30"], ["13:30", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def actor(member) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(tenant_id=member.tenant_id, user_id=member.user_id, role=member.role)


@pytest.fixture
def clock() -> FrozenClock:
    c = FrozenClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # a Monday
    set_clock(c)
    return c


def new_ticket(
    hub: Hub, org: TenantSet, priority: str = "Critical", category: str = "Technical Issue"
) -> int:
    with hub.session() as s:
        t = create_ticket(
            s,
            actor(org.end_user),
            subject="Down",
            description="all of it",
            category=category,
            priority=priority,
        )
        return t.id


def change(hub: Hub, org: TenantSet, ticket_id: int, **fields: object) -> None:
    with hub.session() as s:
        t = s.get(Ticket, ticket_id)
        update_ticket(s, actor(org.agent), t, Changes(**fields))


def reply(hub: Hub, who, ticket_id: int, text: str = "On it") -> None:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        add_comment(s, actor(who), s.get(Ticket, ticket_id), comment=text)


def state(hub: Hub, ticket_id: int) -> tuple[Ticket, SlaState]:
    with hub.session() as s:
        return s.get(Ticket, ticket_id), s.get(SlaState, ticket_id)


def add_policy(hub: Hub, org: TenantSet, **kw: object) -> None:
    with hub.session() as s:
        s.add(SlaPolicy(tenant_id=org.tenant[0], **{"category": None, **kw}))


def test_default_targets_24x7_and_first_response(
    hub: Hub, org: TenantSet, clock: FrozenClock
) -> None:
    start = clock.at
    tid = new_ticket(hub, org)
    ticket, st = state(hub, tid)
    assert ticket.sla_due_at == start + timedelta(hours=1)
    assert st.response_warn_at == start + timedelta(minutes=48)
    clock.advance(minutes=20)
    reply(hub, org.end_user, tid, "more detail")  # the requester's reply is no first response
    assert state(hub, tid)[0].sla_due_at == start + timedelta(hours=1)
    reply(hub, org.agent, tid)
    ticket, st = state(hub, tid)
    assert ticket.first_response_at == clock.at
    assert ticket.sla_due_at == start + timedelta(hours=4)
    assert st.response_due_at is None


def test_priority_change_recomputes(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    start = clock.at
    tid = new_ticket(hub, org, priority="Low")
    assert state(hub, tid)[0].sla_due_at == start + timedelta(hours=24)
    change(hub, org, tid, priority="High")
    assert state(hub, tid)[0].sla_due_at == start + timedelta(hours=4)


def test_category_policy_wins_over_priority_policy(
    hub: Hub, org: TenantSet, clock: FrozenClock
) -> None:
    add_policy(hub, org, priority="High", response_minutes=120, resolution_minutes=600)
    add_policy(
        hub, org, priority="High", category="Billing", response_minutes=30, resolution_minutes=300
    )
    start = clock.at
    tid = new_ticket(hub, org, priority="High", category="Access")
    assert state(hub, tid)[0].sla_due_at == start + timedelta(minutes=120)
    change(hub, org, tid, category="Billing")
    assert state(hub, tid)[0].sla_due_at == start + timedelta(minutes=30)


def test_business_hours_out_of_hours_and_weekend(
    hub: Hub, org: TenantSet, clock: FrozenClock
) -> None:
    add_policy(
        hub,
        org,
        priority="High",
        response_minutes=60,
        resolution_minutes=8 * 60,
        calendar={"timezone": "Europe/Berlin", "hours": SPLIT, "holidays": ["2026-12-25"]},
    )
    clock.at = datetime(2026, 12, 24, 16, 30, tzinfo=BERLIN).astimezone(UTC)  # Thursday
    tid = new_ticket(hub, org, priority="High")
    ticket, st = state(hub, tid)
    # 30 min on Thursday; Friday 25th is a holiday; the weekend; 30 min on Monday 28th.
    assert ticket.sla_due_at == datetime(2026, 12, 28, 9, 30, tzinfo=BERLIN)
    # Warning at 80% = 48 min: 30 on Thursday, 18 on Monday.
    assert st.response_warn_at == datetime(2026, 12, 28, 9, 18, tzinfo=BERLIN)


def test_business_hours_across_new_york_dst(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    ny = ZoneInfo("America/New_York")
    hours = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    add_policy(
        hub,
        org,
        priority="Medium",
        response_minutes=120,
        resolution_minutes=16 * 60,
        calendar={"timezone": "America/New_York", "hours": hours},
    )
    clock.at = datetime(2026, 3, 6, 16, 0, tzinfo=ny).astimezone(UTC)  # Friday, EST
    tid = new_ticket(hub, org, priority="Medium")
    due = state(hub, tid)[0].sla_due_at
    assert due == datetime(2026, 3, 9, 10, 0, tzinfo=ny)  # Monday, EDT
    assert due == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_business_hours_across_berlin_dst(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    add_policy(
        hub,
        org,
        priority="Low",
        response_minutes=150,
        resolution_minutes=16 * 60,
        calendar={"timezone": "Europe/Berlin", "hours": SPLIT},
    )
    clock.at = datetime(2026, 10, 23, 16, 0, tzinfo=BERLIN).astimezone(UTC)  # Friday, CEST
    tid = new_ticket(hub, org, priority="Low")
    ticket, st = state(hub, tid)
    # 1 h on Friday; the clocks go back on Sunday; 1.5 h on Monday from 09:00 CET.
    assert ticket.sla_due_at == datetime(2026, 10, 26, 10, 30, tzinfo=BERLIN)
    assert ticket.sla_due_at == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)


def test_pending_pauses_and_resumes(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    start = clock.at
    tid = new_ticket(hub, org)
    reply(hub, org.agent, tid)  # response met at once; resolution due at +4 h
    clock.advance(hours=1)
    change(hub, org, tid, status="Pending")
    ticket, st = state(hub, tid)
    assert st.paused_since == clock.at and ticket.sla_due_at is None
    clock.advance(hours=10)
    reply(hub, org.end_user, tid, "here is the log")  # the requester's reply ends the wait
    ticket, st = state(hub, tid)
    assert ticket.status == "Open" and st.paused_since is None
    assert st.paused_seconds == 10 * 3600
    assert ticket.sla_due_at == start + timedelta(hours=14)


def test_pause_counts_business_time_only(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    add_policy(
        hub,
        org,
        priority="Critical",
        response_minutes=60,
        resolution_minutes=240,
        calendar={"timezone": "Europe/Berlin", "hours": SPLIT},
    )
    clock.at = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN).astimezone(UTC)  # Friday 09:00
    tid = new_ticket(hub, org)
    reply(hub, org.agent, tid)
    clock.at = datetime(2026, 11, 27, 10, 0, tzinfo=BERLIN).astimezone(UTC)
    change(hub, org, tid, status="Pending")
    clock.at = datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN).astimezone(UTC)  # Monday 10:00
    change(hub, org, tid, status="In Progress")
    ticket, st = state(hub, tid)
    # Paused: Friday 10:00-17:00 minus lunch (6 h) + Monday 09:00-10:00 (1 h).
    assert st.paused_seconds == 7 * 3600
    # 1 h used on Friday; 3 h left from Monday 10:00: 10:00-12:30 + 13:30-14:00.
    assert ticket.sla_due_at == datetime(2026, 11, 30, 14, 0, tzinfo=BERLIN)


def test_resolved_stops_and_reopen_starts_a_new_cycle(
    hub: Hub, org: TenantSet, clock: FrozenClock
) -> None:
    tid = new_ticket(hub, org)
    reply(hub, org.agent, tid)
    change(hub, org, tid, status="Resolved")
    ticket, st = state(hub, tid)
    assert ticket.sla_due_at is None and st.next_check_at is None
    clock.advance(hours=30)
    reply(hub, org.end_user, tid, "still broken")
    ticket, st = state(hub, tid)
    assert ticket.status == "Reopened" and st.cycle == 2
    assert ticket.sla_due_at == clock.at + timedelta(hours=4)


def _logs(hub: Hub, tid: int) -> list[tuple[str, str | None]]:
    with hub.session() as s:
        return [
            (r.event, r.target)
            for r in s.scalars(select(SlaLog).where(SlaLog.ticket_id == tid).order_by(SlaLog.id))
        ]


def _events(hub: Hub, tid: int) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    with hub.session() as s:
        return [
            (e.event_type, e.payload)
            for e in s.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.ticket_id == tid, OutboxEvent.event_type.like("sla.%"))
                .order_by(OutboxEvent.id)
            )
        ]


def sweep(hub: Hub) -> sla_sweep.SweepResult:
    with hub.session() as s:
        return sla_sweep.sweep(s)


def test_sweep_warns_then_breaches_once(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    tid = new_ticket(hub, org)
    assert sweep(hub).checked == 0
    clock.advance(minutes=47)
    assert sweep(hub).checked == 0
    clock.advance(minutes=2)
    assert sweep(hub).warnings == [(tid, "response")]
    assert sweep(hub).checked == 0
    clock.advance(minutes=12)
    assert sweep(hub).breaches == [(tid, "response")]
    clock.advance(minutes=5)
    assert sweep(hub).checked == 0
    assert _logs(hub, tid) == [("SLA_WARNING", "response"), ("SLA_BREACH", "response")]
    kinds = _events(hub, tid)
    assert [k for k, _ in kinds] == ["sla.warning", "sla.breached"]
    assert kinds[1][1]["sla_target"] == "response" and "target" not in kinds[1][1]
    ticket, _ = state(hub, tid)
    assert ticket.sla_breached
    # The resolution target goes on: warned at 80% of 4 h, breached at 4 h.
    clock.at = ticket.created_at + timedelta(hours=4, minutes=1)
    assert sweep(hub).breaches == [(tid, "resolution")]
    assert _logs(hub, tid)[-1] == ("SLA_BREACH", "resolution")


def test_late_response_is_logged_as_breach(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    tid = new_ticket(hub, org)
    clock.advance(minutes=70)
    reply(hub, org.agent, tid)  # no sweep ran in between
    assert ("SLA_BREACH", "response") in _logs(hub, tid)
    assert state(hub, tid)[0].sla_breached


def test_two_sweeps_at_once_log_each_breach_once(
    hub: Hub, org: TenantSet, clock: FrozenClock
) -> None:
    ids = [new_ticket(hub, org) for _ in range(30)]
    clock.advance(hours=2)
    results: list[sla_sweep.SweepResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                results.append(sweep(hub))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    breaches = [b for r in results for b in r.breaches]
    assert sorted(breaches) == sorted((i, "response") for i in ids)
    with hub.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(SlaLog).where(SlaLog.event == "SLA_BREACH"))
            == 30
        )
        assert (
            s.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.event_type == "sla.breached")
            )
            == 30
        )


def test_policy_recompute_hits_open_tickets(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    start = clock.at
    tid = new_ticket(hub, org, priority="High")
    with hub.session() as s:
        s.add(
            SlaPolicy(
                tenant_id=org.tenant[0],
                category=None,
                priority="High",
                response_minutes=15,
                resolution_minutes=60,
            )
        )
        s.flush()
        assert sla_clock.recompute_for_policy(s, org.tenant[0], "High", None) == 1
    assert state(hub, tid)[0].sla_due_at == start + timedelta(minutes=15)
