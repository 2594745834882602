"""The standard reports against a brute-force computation over the same tickets.

Tickets with known timings (a business-hours SLA calendar, pauses on Pending, reopening, closing,
reassignment, a merge, several channels) are made through the API under a frozen clock in a
tenant whose time zone is New York; the test keeps its own log of what it did and computes every
figure from that log minute by minute, then asks the API. A rebuild of the rollups from the
tickets must give the same rows and the same reports.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import clock
from core.models import ReportDaily, ReportFact, ReportMove, Tenant
from core.permissions import system_actor
from core.reports import rollups, summaries
from core.services.tickets import create_ticket
from hub.context import Hub
from tests.conftest import TenantSet
from tests.hub import report_sums

T = "/api/v1/support/tickets/"
R = "/api/v1/support/reports/"
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
WORKDAY = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
DEFAULT = {"High": (240, 1440), "Low": (1440, 10080)}
POLICY = (120, 600)  # Billing / High, on the Berlin calendar
DONE = {"Resolved", "Closed"}
STOPPED = {"Pending", "Resolved", "Closed"}
BASE = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday


@dataclass
class Plan:
    id: int = 0
    created: datetime = BASE
    category: str = "Other"
    priority: str = "Low"
    channel: str = "api"
    agent: int | None = None
    first_response: datetime | None = None
    statuses: list[tuple[str, datetime]] = field(default_factory=list)
    replies: list[tuple[int, datetime]] = field(default_factory=list)
    rating: int | None = None
    merged: bool = False

    @property
    def business(self) -> bool:
        return self.category == "Billing" and self.priority == "High"

    def status_at(self, at: datetime) -> str | None:
        if at < self.created:
            return None
        status = "New"
        for s, when in self.statuses:
            if when <= at:
                status = s
        return status

    def resolution_end(self) -> datetime | None:
        resolved = closed = None
        for s, at in self.statuses:
            if s == "Closed":
                closed = at
            if s == "Resolved":
                resolved = at
            elif s not in DONE:
                resolved = closed = None
        final = self.statuses[-1][0] if self.statuses else "New"
        if final not in DONE:
            return None
        return resolved or closed


def _open_minute(plan: Plan, at: datetime) -> bool:
    if not plan.business:
        return True
    local = at.astimezone(BERLIN)
    return local.weekday() < 5 and 9 <= local.hour < 17


def _business(plan: Plan, start: datetime, end: datetime, *, working_only: bool) -> float:
    """Minute by minute: open minutes of the calendar (and, for resolution, not stopped)."""
    total, at = 0, start
    while at < end:
        if _open_minute(plan, at) and (not working_only or plan.status_at(at) not in STOPPED):
            total += 1
        at += timedelta(minutes=1)
    return float(total)


def _stats(values: list[float]) -> dict[str, Any] | None:
    if not values:
        return None
    xs = sorted(values)
    n = len(xs)
    return {
        "count": n,
        "mean": sum(xs) / n,
        "median": xs[(n + 1) // 2 - 1],
        "p90": xs[-(-9 * n // 10) - 1],
    }


class Scenario:
    def __init__(self, org: TenantSet, agents: list[Any], hub: Hub) -> None:
        self.org, self.agents, self.hub = org, agents, hub
        self.plans: list[Plan] = []

    def at(self, when: datetime) -> None:
        clock.set_clock(lambda: when)

    def status(self, plan: Plan, status: str, when: datetime, who: Any = None) -> None:
        self.at(when)
        r = (who or self.org.admin).patch(f"{T}{plan.id}/", json={"status": status})
        assert r.status_code == 200, r.text
        plan.statuses.append((status, when))

    def run(self, n: int = 28) -> None:
        rng = random.Random(17)
        for i in range(n):
            plan = Plan(created=BASE + timedelta(minutes=373 * i))
            plan.category = rng.choice(["Billing", "Access", "Other"])
            plan.priority = rng.choice(["High", "Low"])
            plan.channel = rng.choice(["email", "web", "slack", "api"])
            self.at(plan.created)
            with self.hub.session() as s:
                plan.id = create_ticket(
                    s,
                    system_actor(self.org.tenant[0]),
                    subject=f"t{i}",
                    description="d",
                    category=plan.category,
                    priority=plan.priority,
                    requester_id=self.org.end_user.user_id,
                    channel=plan.channel,
                ).id
            self.plans.append(plan)
            t = plan.created
            agent = None
            if rng.random() < 0.8:
                agent = rng.choice(self.agents)
                t += timedelta(minutes=5)
                self.at(t)
                r = self.org.admin.patch(f"{T}{plan.id}/", json={"assigned_to": agent.user_id})
                assert r.status_code == 200, r.text
                plan.agent = agent.user_id
                plan.statuses.append(("Open", t))
            if rng.random() < 0.8:
                writer = agent or self.agents[0]
                t += timedelta(minutes=rng.randint(10, 3000))
                self.at(t)
                r = writer.post(f"{T}{plan.id}/comment/", json={"comment": "On it"})
                assert r.status_code == 201, r.text
                plan.first_response = t
                plan.replies.append((writer.user_id, t))
            if rng.random() < 0.35:
                t += timedelta(minutes=10)
                self.status(plan, "Pending", t)
                t += timedelta(minutes=rng.randint(30, 2000))
                self.status(plan, "In Progress", t)
            if agent is not None and rng.random() < 0.2:
                other = self.agents[1] if agent is self.agents[0] else self.agents[0]
                t += timedelta(minutes=3)
                self.at(t)
                r = self.org.admin.patch(f"{T}{plan.id}/", json={"assigned_to": other.user_id})
                assert r.status_code == 200, r.text
                plan.agent = other.user_id
            if rng.random() < 0.7:
                t += timedelta(minutes=rng.randint(20, 4000))
                self.status(plan, "Resolved", t)
                if rng.random() < 0.3:
                    t += timedelta(minutes=60)
                    self.status(plan, "Reopened", t, who=self.org.end_user)
                    t += timedelta(minutes=rng.randint(30, 900))
                    self.status(plan, "Resolved", t)
                if rng.random() < 0.6:
                    t += timedelta(minutes=1)
                    self.at(t)
                    plan.rating = rng.randint(1, 5)
                    r = self.org.end_user.patch(
                        f"{T}{plan.id}/",
                        json={"satisfaction_rating": plan.rating, "feedback": f"fb {i}"},
                    )
                    assert r.status_code == 200, r.text
                if rng.random() < 0.3:
                    t += timedelta(minutes=30)
                    self.status(plan, "Closed", t)
            elif rng.random() < 0.2:
                t += timedelta(minutes=50)
                self.status(plan, "Closed", t)
        # One duplicate merged into the first ticket: closed, and left out of the durations.
        dup = next(p for p in self.plans[1:] if not p.statuses or p.statuses[-1][0] not in DONE)
        when = max([dup.created, *(a for _, a in dup.statuses), *(a for _, a in dup.replies)])
        when += timedelta(minutes=7)
        self.at(when)
        r = self.org.admin.post(f"{T}{dup.id}/merge/", json={"target_id": self.plans[0].id})
        assert r.status_code == 200, r.text
        dup.statuses.append(("Closed", when))
        dup.merged = True
        self.at(BASE + timedelta(days=40))

    # ------------------------------------------------------------ the brute force

    def day(self, at: datetime) -> date:
        return at.astimezone(NY).date()

    def targets(self, plan: Plan) -> tuple[int, int]:
        return POLICY if plan.business else DEFAULT[plan.priority]

    def first_response(self, plan: Plan) -> tuple[float, float] | None:
        if plan.first_response is None:
            return None
        cal = (plan.first_response - plan.created).total_seconds() / 60
        return cal, _business(plan, plan.created, plan.first_response, working_only=False)

    def resolution(self, plan: Plan) -> tuple[float, float] | None:
        end = plan.resolution_end()
        if end is None:
            return None
        cal = (end - plan.created).total_seconds() / 60
        return cal, _business(plan, plan.created, end, working_only=True)


@pytest.fixture
def scenario(org: TenantSet, make_member, hub: Hub) -> Scenario:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        tenant = s.get(Tenant, org.tenant[0])
        assert tenant is not None
        tenant.settings = {**(tenant.settings or {}), "timezone": "America/New_York"}
    r = org.admin.post(
        "/api/v1/support/slas/",
        json={
            "category": "Billing",
            "priority": "High",
            "response_minutes": POLICY[0],
            "resolution_minutes": POLICY[1],
            "calendar": {"timezone": "Europe/Berlin", "hours": WORKDAY},
        },
    )
    assert r.status_code == 201, r.text
    second = make_member(org.tenant, "agent")
    run = Scenario(org, [org.agent, second], hub)
    run.run()
    return run


def _range(sc: Scenario) -> dict[str, str]:
    first = min(sc.day(p.created) for p in sc.plans)
    return {"start": first.isoformat(), "end": (first + timedelta(days=30)).isoformat()}


def _close(got: dict[str, Any] | None, want: dict[str, Any] | None) -> None:
    if want is None:
        assert got is None
        return
    assert got is not None
    assert got["count"] == want["count"]
    for k in ("mean", "median", "p90"):
        assert got[k] == pytest.approx(want[k], abs=1e-6), k


def test_durations_match_brute_force(scenario: Scenario) -> None:
    sc, params = scenario, _range(scenario)
    live = [p for p in sc.plans if not p.merged]
    for name, measure, dated in (
        ("first-response", sc.first_response, lambda p: p.created),
        ("resolution", sc.resolution, lambda p: p.resolution_end()),
    ):
        body = sc.org.manager.get(f"{R}{name}/", params=params).json()
        got = {row["group"]: row for row in body["rows"]}["all"]
        measured = [m for p in live if (m := measure(p)) is not None and dated(p) is not None]
        assert len(measured) > 5
        _close(got["calendar"], _stats([m[0] for m in measured]))
        _close(got["business"], _stats([m[1] for m in measured]))
        buckets = got["business"]["buckets"]
        assert sum(buckets.values()) == len(measured)
        assert buckets["under 15 min"] == sum(1 for m in measured if m[1] < 15)
        # Grouped by priority: each group is its own brute force.
        grouped = sc.org.manager.get(f"{R}{name}/", params={**params, "group": "priority"})
        for row in grouped.json()["rows"]:
            mine = [m for p in live if p.priority == row["group"] and (m := measure(p)) is not None]
            _close(row["calendar"], _stats([m[0] for m in mine]))
    # The Berlin calendar really is in play: business time differs from calendar time.
    business = [p for p in live if p.business and sc.first_response(p)]
    assert any(sc.first_response(p)[0] != sc.first_response(p)[1] for p in business)  # type: ignore[index]


def test_volume_and_backlog_match_brute_force(scenario: Scenario) -> None:
    sc, params = scenario, _range(scenario)
    body = sc.org.manager.get(f"{R}volume/", params=params).json()
    start = date.fromisoformat(params["start"])
    created, resolved, closed, reopened = Counter(), Counter(), Counter(), Counter()
    for p in sc.plans:
        created[sc.day(p.created)] += 1
        prev = "New"
        for s, at in p.statuses:
            d = sc.day(at)
            if prev not in DONE and s in DONE:
                (resolved if s == "Resolved" else closed)[d] += 1
            elif prev == "Resolved" and s == "Closed":
                closed[d] += 1
            elif prev in DONE and s not in DONE:
                reopened[d] += 1
            prev = s
    for row in body["series"]:
        d = date.fromisoformat(row["period"])
        end_of_day = datetime(d.year, d.month, d.day, tzinfo=NY) + timedelta(days=1)
        end_of_day = datetime.combine(d + timedelta(days=1), datetime.min.time(), NY)
        backlog = sum(
            1
            for p in sc.plans
            if (s := p.status_at(end_of_day - timedelta(microseconds=1))) and s not in DONE
        )
        assert (row["created"], row["resolved"], row["closed"], row["reopened"]) == (
            created[d],
            resolved[d],
            closed[d],
            reopened[d],
        ), d
        assert row["backlog"] == backlog, d
    assert body["totals"]["created"] == len(sc.plans)
    assert body["opening_backlog"] == 0
    # Weekly: the same moves folded into ISO weeks, in the tenant's zone.
    weekly = sc.org.manager.get(f"{R}volume/", params={**params, "interval": "week"}).json()
    week_created: Counter[date] = Counter()
    for d, n in created.items():
        week_created[d - timedelta(days=d.weekday())] += n
    assert {
        date.fromisoformat(r["period"]): r["created"] for r in weekly["series"] if r["created"]
    } == dict(week_created)
    # A later window opens with the backlog left by the days before it.
    later = (start + timedelta(days=3)).isoformat()
    part = sc.org.manager.get(f"{R}volume/", params={"start": later, "end": params["end"]})
    cut = datetime.combine(start + timedelta(days=3), datetime.min.time(), NY)
    expected = sum(
        1 for p in sc.plans if (s := p.status_at(cut - timedelta(microseconds=1))) and s not in DONE
    )
    assert part.json()["opening_backlog"] == expected


def test_sla_agents_satisfaction_and_trends_match(scenario: Scenario) -> None:
    sc, params = scenario, _range(scenario)
    live = [p for p in sc.plans if not p.merged]
    sla = sc.org.manager.get(f"{R}sla/", params=params).json()["rows"][0]
    responded = [p for p in live if p.first_response]
    met = [p for p in responded if sc.first_response(p)[1] <= sc.targets(p)[0]]  # type: ignore[index]
    resolved = [p for p in live if sc.resolution(p)]
    res_met = [p for p in resolved if sc.resolution(p)[1] <= sc.targets(p)[1]]  # type: ignore[index]
    assert (sla["responded"], sla["response_met"]) == (len(responded), len(met))
    assert (sla["resolved"], sla["resolution_met"]) == (len(resolved), len(res_met))
    assert sla["response_compliance"] == pytest.approx(len(met) / len(responded))

    agents = {
        r["agent"]: r for r in sc.org.manager.get(f"{R}agents/", params=params).json()["rows"]
    }
    for agent in sc.agents:
        mine = [p for p in sc.plans if p.agent == agent.user_id]
        row = agents[agent.user_id]
        assert row["assigned"] == len(mine)
        assert row["resolved"] == sum(1 for p in mine if p.resolution_end())
        assert row["replied"] == sum(
            1 for p in sc.plans for u, _ in p.replies if u == agent.user_id
        )
        fr = _stats([m[0] for p in mine if (m := sc.first_response(p))])
        assert row["median_first_response"] == (fr["median"] if fr else None)
        ratings = [p.rating for p in mine if p.rating]
        assert row["rating_count"] == len(ratings)
        if ratings:
            assert row["rating_average"] == pytest.approx(sum(ratings) / len(ratings))
        reopened = [p for p in mine if any(s == "Reopened" for s, _ in p.statuses)]
        assert row["reopened"] == len(reopened)

    sat = sc.org.manager.get(f"{R}satisfaction/", params=params).json()
    ratings = [p.rating for p in sc.plans if p.rating]
    assert sat["count"] == len(ratings) and sat["average"] == pytest.approx(
        sum(ratings) / len(ratings)
    )
    assert sat["distribution"] == {str(k): ratings.count(k) for k in range(1, 6)}
    assert {f["ticket_id"] for f in sat["feedback"]} == {p.id for p in sc.plans if p.rating}

    trends = sc.org.manager.get(f"{R}trends/", params=params).json()
    assert trends["channel"]["totals"] == dict(Counter(p.channel for p in sc.plans))
    assert trends["category"]["totals"] == dict(Counter(p.category for p in sc.plans))
    weekly = defaultdict(Counter)
    for p in sc.plans:
        d = sc.day(p.created)
        weekly[(d - timedelta(days=d.weekday())).isoformat()][p.priority] += 1
    for row in trends["priority"]["series"]:
        assert all(row[v] == weekly[row["period"]][v] for v in trends["priority"]["values"])


def test_filters_apply_and_unknown_ones_are_refused(scenario: Scenario) -> None:
    sc, params = scenario, _range(scenario)
    agent = sc.agents[0].user_id
    q = {**params, "category": "Billing,Access", "agent": str(agent)}
    body = sc.org.manager.get(f"{R}first-response/", params=q).json()
    mine = [
        m
        for p in sc.plans
        if not p.merged
        and p.category in ("Billing", "Access")
        and p.agent == agent
        and (m := sc.first_response(p))
    ]
    got = {r["group"]: r for r in body["rows"]}.get("all")
    _close(got["calendar"] if got else None, _stats([m[0] for m in mine]))
    assert body["filters"]["category"] == "Billing,Access"
    vol = sc.org.manager.get(f"{R}volume/", params={**params, "channel": "email"}).json()
    assert vol["totals"]["created"] == sum(1 for p in sc.plans if p.channel == "email")
    for bad in (
        {"assigned_to": "2"},
        {"tag": "v!p"},
        {"category": "Nope"},
        {"group": "moon"},
        {"interval": "year"},
        {"start": "2026-13-01"},
        {"agent": "x"},
    ):
        r = sc.org.manager.get(f"{R}first-response/", params={**params, **bad})
        assert r.status_code == 422, (bad, r.text)
    r = sc.org.manager.get(f"{R}volume/", params={"assigned_to": "2"})
    assert "valid parameters" in r.text and "agent" in r.text
    # The original counts endpoint refuses what it cannot apply, too.
    assert sc.org.manager.get(R, params={"category": "Access"}).status_code == 422
    assert sc.org.end_user.get(f"{R}volume/").status_code == 403


def _snapshot(hub: Hub, tenant_id: Any) -> tuple[list[tuple[Any, ...]], ...]:
    with hub.read_session() as s:
        cols = [c for c in ReportFact.__table__.columns]
        facts = sorted(
            tuple(round(v, 6) if isinstance(v, float) else v for v in row)
            for row in s.execute(select(*cols).where(ReportFact.tenant_id == tenant_id))
        )
        moves = sorted(
            tuple(row)
            for row in s.execute(
                select(
                    ReportMove.ticket_id,
                    ReportMove.day,
                    ReportMove.kind,
                    ReportMove.actor_id,
                    ReportMove.backlog,
                ).where(ReportMove.tenant_id == tenant_id)
            )
        )
        daily = sorted(
            tuple(row)
            for row in s.execute(
                select(
                    ReportDaily.day,
                    ReportDaily.kind,
                    ReportDaily.actor_id,
                    ReportDaily.count,
                    ReportDaily.backlog,
                ).where(ReportDaily.tenant_id == tenant_id)
            )
        )
    assert daily, "the per-day sums are kept"
    return facts, moves, daily


def test_rollups_and_a_rebuild_agree(scenario: Scenario, hub: Hub) -> None:
    sc, params = scenario, _range(scenario)
    tenant_id = sc.org.tenant[0]
    before = _snapshot(hub, tenant_id)
    assert len(before[0]) == len(sc.plans)
    # The per-day sums kept by the listener are the sums of the facts.
    kept = report_sums.sums(hub, tenant_id)
    assert all(kept.values()), {k: len(v) for k, v in kept.items()}
    assert report_sums.refilled(hub, tenant_id) == kept
    reports_before = {
        n: sc.org.manager.get(f"{R}{n}/", params=params).json()
        for n in ("volume", "first-response", "resolution", "sla", "agents")
    }
    with hub.session() as s:
        assert rollups.rebuild(s, tenant_id, chunk=7) == len(sc.plans)
    after = _snapshot(hub, tenant_id)
    assert after == before
    assert report_sums.sums(hub, tenant_id) == kept
    for name, body in reports_before.items():
        assert sc.org.manager.get(f"{R}{name}/", params=params).json() == body


def _rounded(x: Any) -> Any:
    """Means and averages to 1e-6 (the sums keep durations to a micro-minute); all else exact."""
    if isinstance(x, float):
        return round(x, 6)
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items() if k != "filters"}
    if isinstance(x, list):
        return [_rounded(v) for v in x]
    return x


def test_reports_without_filters_read_the_sums_and_match_the_facts(
    scenario: Scenario, hub: Hub
) -> None:
    """Without filters the reports read the per-day sums (months whole, weeks, days at the
    edges); with a filter that keeps every ticket they read the facts: the same figures, the
    percentiles exact."""
    sc = scenario
    first = min(sc.day(p.created) for p in sc.plans)
    ranges = [
        _range(sc),
        {"start": first.replace(day=1).isoformat(), "end": date(2026, 5, 1).isoformat()},
        {
            "start": (first + timedelta(days=2)).isoformat(),
            "end": (first + timedelta(days=24)).isoformat(),
        },
    ]
    every = {"priority": "Low,Medium,High,Critical"}
    for params in ranges:
        for name in ("first-response", "resolution", "sla", "agents", "trends", "satisfaction"):
            extra = [{}, {"interval": "day"}] if name in ("trends", "satisfaction") else [{}]
            if name == "sla":
                extra.append({"group": "week"})
            for more in extra:
                q = {**params, **more}
                summed = sc.org.manager.get(f"{R}{name}/", params=q).json()
                facts = sc.org.manager.get(f"{R}{name}/", params={**q, **every}).json()
                assert _rounded(summed) == _rounded(facts), (name, q)
                if name == "first-response":
                    assert summed["rows"] and summed["rows"][0]["business"]["median"] is not None
    # Taking the facts' part out of the sums empties them (nothing is left over).
    with hub.session() as s:
        ids = list(s.scalars(select(ReportFact.ticket_id)))
        summaries.forget(s, ids)
    left = report_sums.sums(hub, sc.org.tenant[0])
    assert left == {name: [] for name in left}
