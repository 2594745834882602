"""SLA countdowns (core.sla.countdown): the pure function's remaining time, share used and state,
and the loader and the at-risk SQL over real tickets under a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import FrozenClock, set_clock
from core.errors import Forbidden, Invalid
from core.models import Audit, Ticket
from core.permissions import Actor
from core.services.tickets import Changes, create_ticket, update_ticket
from core.sla import countdown as cd
from core.sla.calendar import BusinessCalendar
from hub.context import Hub
from tests.conftest import TenantSet

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday


def actor(member) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(tenant_id=member.tenant_id, user_id=member.user_id, role=member.role)


@pytest.fixture
def clock() -> FrozenClock:
    c = FrozenClock(T0)
    set_clock(c)
    return c


def test_running_target_counts_down_and_turns_at_risk() -> None:
    due = T0 + timedelta(hours=2, minutes=10)
    found = cd.countdown(T0, target="resolution", target_minutes=240, due_at=due)
    assert found.state == cd.ON_TRACK and found.label == "On track"
    assert found.text == "2 h 10 min left"
    assert found.left_minutes == 130
    assert found.used == pytest.approx(110 / 240)
    assert found.percent_used == 46
    # 59 of 240 minutes left: under 25 % -> at risk; with a 20 % share it is not.
    late = cd.countdown(
        T0 + timedelta(minutes=71), target="resolution", target_minutes=240, due_at=due
    )
    assert (late.state, late.label, late.text) == (cd.AT_RISK, "At risk", "59 min left")
    lenient = cd.countdown(
        T0 + timedelta(minutes=71),
        target="resolution",
        target_minutes=240,
        due_at=due,
        at_risk_percent=20,
    )
    assert lenient.state == cd.ON_TRACK


def test_breached_says_how_long_ago() -> None:
    due = T0 - timedelta(minutes=35)
    found = cd.countdown(T0, target="response", target_minutes=60, due_at=due)
    assert found.state == cd.BREACHED and found.label == "Breached"
    assert found.text == "breached 35 min ago"
    assert found.used == 1.0
    assert found.target_name == "first response"


def test_paused_says_it_is_paused_and_what_is_left() -> None:
    found = cd.countdown(T0, target="resolution", target_minutes=240, paused_elapsed_minutes=60)
    assert found.state == cd.PAUSED and found.label == "Paused"
    assert found.text == "paused, 3 h left"
    assert found.used == pytest.approx(0.25)
    over = cd.countdown(T0, target="resolution", target_minutes=60, paused_elapsed_minutes=90)
    assert over.text == "paused, target passed"


def test_business_hours_count_only_open_time() -> None:
    cal = BusinessCalendar.parse({"timezone": "UTC", "hours": {"mon": [["09:00", "17:00"]]}})
    # Monday 16:00 with the target due next Monday 10:00: 2 business hours left, exactly a
    # quarter of the target (not under it); due at 09:30, 90 minutes are left: at risk.
    at = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    due = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    found = cd.countdown(at, target="resolution", target_minutes=480, due_at=due, calendar=cal)
    assert (found.text, found.state, found.business_hours) == ("2 h left", cd.ON_TRACK, True)
    due = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    found = cd.countdown(at, target="resolution", target_minutes=480, due_at=due, calendar=cal)
    assert (found.text, found.state) == ("1 h 30 min left", cd.AT_RISK)


def test_durations_in_words() -> None:
    assert cd.duration(0.4) == "less than 1 min"
    assert cd.duration(35) == "35 min"
    assert cd.duration(120) == "2 h"
    assert cd.duration(3 * 1440 + 4 * 60 + 5) == "3 d 4 h"
    assert cd.duration(1440) == "1 d"
    with pytest.raises(ValueError):
        cd.countdown(T0, target="response", target_minutes=60)


def _ticket(hub: Hub, org: TenantSet, priority: str = "Critical") -> int:
    with hub.session() as s:
        t = create_ticket(
            s,
            actor(org.end_user),
            subject="Down",
            description="all of it",
            category="Technical Issue",
            priority=priority,
        )
        return t.id


def test_page_of_tickets_and_at_risk_filter(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    critical = _ticket(hub, org)  # first response due in 60 min
    low = _ticket(hub, org, "Low")  # first response due in 24 h
    paused = _ticket(hub, org)
    with hub.session() as s:
        update_ticket(s, actor(org.agent), s.get(Ticket, paused), Changes(status="In Progress"))
    clock.advance(minutes=20)
    with hub.session() as s:
        update_ticket(s, actor(org.agent), s.get(Ticket, paused), Changes(status="Pending"))
    clock.advance(minutes=30)  # critical: 10 of 60 min left
    tenant_id = org.tenant[0]
    with hub.session() as s:
        tickets = list(s.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id)))
        found = cd.countdowns(s, tenant_id, tickets)
        assert found[critical].state == cd.AT_RISK and found[critical].text == "10 min left"
        assert found[low].state == cd.ON_TRACK
        assert found[paused].state == cd.PAUSED
        assert found[paused].text == "paused, 40 min left"
        risky = set(
            s.scalars(
                select(Ticket.id).where(
                    Ticket.tenant_id == tenant_id, cd.at_risk_clause(s, tenant_id)
                )
            )
        )
        assert risky == {critical}
    clock.advance(minutes=11)
    with hub.session() as s:
        assert cd.countdowns(s, tenant_id, [s.get(Ticket, critical)])[critical].state == cd.BREACHED
        assert list(s.scalars(select(Ticket.id).where(cd.at_risk_clause(s, tenant_id)))) == []


def test_at_risk_share_is_a_tenant_setting(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    tenant_id = org.tenant[0]
    with hub.session() as s:
        assert cd.at_risk_percent(s, tenant_id) == 25
        with pytest.raises(Forbidden):
            cd.set_at_risk_percent(s, actor(org.agent), 40)
        with pytest.raises(Invalid) as bad:
            cd.set_at_risk_percent(s, actor(org.admin), 100)
        assert bad.value.field == "percent"
        cd.set_at_risk_percent(s, actor(org.admin), 40)
        s.commit()
    with hub.session() as s:
        assert cd.at_risk_percent(s, tenant_id) == 40
        row = s.scalars(select(Audit).where(Audit.action == cd.AT_RISK_CHANGED)).one()
        assert (row.old_value, row.new_value, row.tenant_id) == ("25", "40", tenant_id)
