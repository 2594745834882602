"""SLA policies by agent group through the HTTP API: the most specific active policy wins (group
and category, group, category, neither, the spec's default), a ticket moved to another group
(by hand, by a rule, in bulk, by "escalate to tier") is re-timed at once, the at-risk list (SQL,
one term per policy) agrees with each ticket's own clock, group ids are checked per tenant, a
group a policy names is not deleted, and the SLA report by agent group follows the group targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.clock import FrozenClock, set_clock
from core.models import Audit, SlaPolicy
from hub import outbox
from hub.context import Hub
from tests.conftest import Member, TenantSet

SLAS = "/api/v1/support/slas/"
TICKETS = "/api/v1/support/tickets/"
GROUPS = "/api/v1/support/groups/"
RULES = "/api/v1/support/rules/"
SETTINGS = "/api/v1/support/automation/"


@pytest.fixture
def clock() -> FrozenClock:
    c = FrozenClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    set_clock(c)
    return c


def _group(admin: Member, name: str, tier: int | None) -> int:
    r = admin.post(GROUPS, json={"name": name, "tier": tier})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _policy(admin: Member, priority: str, response: int, **scope: object) -> int:
    body = {
        "priority": priority,
        "response_minutes": response,
        "resolution_minutes": response * 4,
        **scope,
    }
    r = admin.post(SLAS, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["group_id"] == scope.get("group_id")
    return int(r.json()["id"])


def _ticket(org: TenantSet, priority: str, category: str, group_id: int | None) -> int:
    r = org.end_user.post(
        TICKETS,
        json={"subject": "VPN", "description": "drops", "category": category, "priority": priority},
    )
    assert r.status_code == 201, r.text
    tid = int(r.json()["id"])
    if group_id is not None:
        r = org.agent.patch(f"{TICKETS}{tid}/", json={"group_id": group_id})
        assert r.status_code == 200, r.text
    return tid


def _sla(org: TenantSet, tid: int) -> dict:  # type: ignore[type-arg]
    r = org.agent.get(f"{TICKETS}{tid}/sla/")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _at_risk(org: TenantSet) -> set[int]:
    r = org.agent.get(TICKETS, params={"sla_at_risk": "true", "page_size": 100})
    assert r.status_code == 200, r.text
    return {t["id"] for t in r.json()["results"]}


def _off(org: TenantSet) -> None:
    assert org.admin.patch(SETTINGS, json={"assign_mode": "off"}).status_code == 200


def test_tier_2_policy_times_tier_2_tickets_and_the_general_one_the_rest(
    org: TenantSet, clock: FrozenClock, hub: Hub
) -> None:
    _off(org)
    tier1, tier2 = _group(org.admin, "Tier 1", 1), _group(org.admin, "Tier 2", 2)
    general = _policy(org.admin, "High", 600)
    special = _policy(org.admin, "High", 60, group_id=tier2)
    one, two = (_ticket(org, "High", "Technical Issue", g) for g in (tier1, tier2))
    got1, got2 = _sla(org, one), _sla(org, two)
    assert got1["policy_id"] == general and got1["targets"]["response"]["minutes"] == 600
    assert got2["policy_id"] == special and got2["targets"]["response"]["minutes"] == 60
    assert datetime.fromisoformat(got2["sla_due_at"]) == clock.at + timedelta(minutes=60)
    assert datetime.fromisoformat(got1["sla_due_at"]) == clock.at + timedelta(minutes=600)
    # The listing returns the group, and a second Tier 2 / High policy is a clash.
    listed = {p["id"]: p for p in org.agent.get(SLAS).json() if p["id"]}
    assert (listed[general]["group_id"], listed[special]["group_id"]) == (None, tier2)
    r = org.admin.post(
        SLAS,
        json={
            "priority": "High",
            "response_minutes": 5,
            "resolution_minutes": 9,
            "group_id": tier2,
        },
    )
    assert r.status_code == 409 and "Tier 2 / every category / High" in r.json()["detail"]
    # Turned off, the group's policy no longer applies: its tickets fall back, in the same call.
    r = org.admin.patch(f"{SLAS}{special}/", json={"is_active": False})
    assert r.status_code == 200, r.text
    assert _sla(org, two)["policy_id"] == general
    # Moved to Tier 1's scope by the edit: Tier 1 tickets are re-timed, Tier 2 ones fall back.
    r = org.admin.patch(f"{SLAS}{special}/", json={"is_active": True, "group_id": tier1})
    assert r.status_code == 200 and r.json()["group_id"] == tier1
    assert _sla(org, one)["policy_id"] == special and _sla(org, two)["policy_id"] == general
    with hub.session() as s:
        rows = s.scalars(
            select(Audit).where(Audit.action == "SLA Policy Changed").order_by(Audit.id)
        ).all()
    assert [(r.details or {})["group_id"] for r in rows] == [tier2, tier1]
    assert rows[-1].new_value == str(special) and rows[-1].ticket_id is None


def test_most_specific_policy_wins_and_the_at_risk_list_agrees(
    org: TenantSet, clock: FrozenClock
) -> None:
    """Every group x category x priority: the ticket's own clock picks the policy in the stated
    order, and at each moment the at-risk list (SQL) holds exactly the tickets whose own targets
    put them at risk (a quarter of the target left, not yet due)."""
    _off(org)
    tier1, tier2 = _group(org.admin, "Tier 1", 1), _group(org.admin, "Tier 2", 2)
    policies = {
        ("High", None, None): _policy(org.admin, "High", 400),
        ("High", None, "Billing"): _policy(org.admin, "High", 200, category="Billing"),
        ("High", tier2, None): _policy(org.admin, "High", 100, group_id=tier2),
        ("High", tier2, "Billing"): _policy(
            org.admin, "High", 40, group_id=tier2, category="Billing"
        ),
        # Medium: no general policy, so the default (480 min) covers all but Tier 2.
        ("Medium", tier2, None): _policy(org.admin, "Medium", 80, group_id=tier2),
    }
    tickets: dict[tuple[str, int | None, str], int] = {}
    for priority in ("High", "Medium"):
        for group in (None, tier1, tier2):
            for category in ("Billing", "Technical Issue"):
                tickets[(priority, group, category)] = _ticket(org, priority, category, group)
    expected_policy = {
        ("High", None, "Billing"): policies[("High", None, "Billing")],
        ("High", None, "Technical Issue"): policies[("High", None, None)],
        ("High", tier1, "Billing"): policies[("High", None, "Billing")],
        ("High", tier1, "Technical Issue"): policies[("High", None, None)],
        ("High", tier2, "Billing"): policies[("High", tier2, "Billing")],
        ("High", tier2, "Technical Issue"): policies[("High", tier2, None)],
        ("Medium", tier2, "Billing"): policies[("Medium", tier2, None)],
        ("Medium", tier2, "Technical Issue"): policies[("Medium", tier2, None)],
    }
    targets: dict[int, int] = {}
    for key, tid in tickets.items():
        got = _sla(org, tid)
        assert got["policy_id"] == expected_policy.get(key), key
        targets[tid] = got["targets"]["response"]["minutes"]
    assert sorted(set(targets.values())) == [40, 80, 100, 200, 400, 480]

    def risky(elapsed: int) -> set[int]:
        return {t for t, m in targets.items() if m * 0.75 < elapsed < m}

    seen: set[int] = set()
    for elapsed in (35, 70, 90, 170, 350, 390):
        clock.at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC) + timedelta(minutes=elapsed)
        listed = _at_risk(org)
        assert listed == risky(elapsed), elapsed
        assert listed, f"nothing at risk at {elapsed} min: the check would prove nothing"
        seen |= listed
    assert seen == set(tickets.values()), "every ticket was at risk at one of the moments"


def test_a_move_to_another_group_re_times_the_ticket(
    org: TenantSet, clock: FrozenClock, hub: Hub
) -> None:
    """By escalate-to-tier, by hand (PATCH), in bulk and by a rule's set_group: each move is
    re-timed in its own request, as a priority or category change is."""
    _off(org)
    tier1, tier2 = _group(org.admin, "Tier 1", 1), _group(org.admin, "Tier 2", 2)
    general = _policy(org.admin, "High", 600)
    special = _policy(org.admin, "High", 60, group_id=tier2)
    start = clock.at
    tid = _ticket(org, "High", "Technical Issue", tier1)
    assert _sla(org, tid)["policy_id"] == general
    clock.advance(minutes=10)
    r = org.agent.post(f"{TICKETS}{tid}/escalate/", json={"target": "tier", "note": "L2"})
    assert r.status_code == 202, r.text
    after = _sla(org, tid)
    assert after["policy_id"] == special
    assert datetime.fromisoformat(after["sla_due_at"]) == start + timedelta(minutes=60)
    assert org.agent.get(f"{TICKETS}{tid}/").json()["group_id"] == tier2
    with hub.session() as s:
        actions = [a.action for a in s.scalars(select(Audit).where(Audit.ticket_id == tid))]
    assert "Tier Escalation" in actions and "Group Change" in actions
    # Back by hand: the general targets again.
    r = org.agent.patch(f"{TICKETS}{tid}/", json={"group_id": tier1})
    assert r.status_code == 200
    back = _sla(org, tid)
    assert back["policy_id"] == general
    assert datetime.fromisoformat(back["sla_due_at"]) == start + timedelta(minutes=600)
    # In bulk.
    r = org.agent.post(
        f"{TICKETS}bulk/", json={"ids": [tid], "action": "set_group", "group_id": tier2}
    )
    assert r.status_code == 200 and all(x["ok"] for x in r.json()["results"]), r.text
    assert _sla(org, tid)["policy_id"] == special
    # A rule routing new High tickets to Tier 2: they start on the Tier 2 targets.
    rule = {
        "name": "High to Tier 2",
        "trigger": "ticket.created",
        "conditions": [{"field": "priority", "op": "eq", "value": "High"}],
        "actions": [{"type": "set_group", "group_id": tier2}],
    }
    assert org.admin.post(RULES, json=rule).status_code == 201
    routed = _ticket(org, "High", "Billing", None)
    outbox.drain(hub)
    assert org.agent.get(f"{TICKETS}{routed}/").json()["group_id"] == tier2
    got = _sla(org, routed)
    assert got["policy_id"] == special
    assert datetime.fromisoformat(got["sla_due_at"]) == clock.at + timedelta(minutes=60)


def test_group_ids_are_checked_per_tenant(org: TenantSet, other_org: TenantSet) -> None:
    mine = _group(org.admin, "Tier 2", 2)
    theirs = _group(other_org.admin, "Their Tier 2", 2)
    body = {"priority": "Low", "response_minutes": 60, "resolution_minutes": 600}
    for bad in (theirs, 999_999):
        r = org.admin.post(SLAS, json={**body, "group_id": bad})
        assert r.status_code == 422, r.text
        assert r.json()["field"] == "group_id" and "no agent group" in r.json()["detail"]
    for odd in (0, "two", True):
        r = org.admin.post(SLAS, json={**body, "group_id": odd})
        assert r.status_code == 422, (odd, r.text)
    pid = _policy(org.admin, "Low", 60, group_id=mine)
    r = org.admin.patch(f"{SLAS}{pid}/", json={"group_id": theirs})
    assert r.status_code == 422 and r.json()["field"] == "group_id"
    assert other_org.admin.patch(f"{SLAS}{pid}/", json={"group_id": theirs}).status_code == 404
    # A group a policy names is not deleted; once the policy covers every group, it is.
    r = org.admin.delete(f"{GROUPS}{mine}/")
    assert r.status_code == 409 and f"SLA policies (id {pid})" in r.json()["detail"]
    r = org.admin.patch(f"{SLAS}{pid}/", json={"group_id": None})
    assert r.status_code == 200 and r.json()["group_id"] is None
    assert org.admin.delete(f"{GROUPS}{mine}/").status_code == 204


def test_sla_report_by_agent_group_follows_the_group_targets(
    org: TenantSet, clock: FrozenClock
) -> None:
    """A reply after 90 min meets Tier 1's 600-min target and misses Tier 2's 60-min one."""
    _off(org)
    tier1, tier2 = _group(org.admin, "Tier 1", 1), _group(org.admin, "Tier 2", 2)
    _policy(org.admin, "High", 600)
    special = _policy(org.admin, "High", 60, group_id=tier2)
    ids = {g: _ticket(org, "High", "Technical Issue", g) for g in (tier1, tier2)}
    clock.advance(minutes=90)
    for tid in ids.values():
        r = org.agent.post(
            f"{TICKETS}{tid}/comment/", json={"comment": "On it.", "is_internal": False}
        )
        assert r.status_code == 201, r.text
    url = "/api/v1/support/reports/sla/"
    day = {"start": "2026-11-23", "end": "2026-11-24"}
    grouped = org.manager.get(url, params={**day, "group": "agent_group"})
    assert grouped.status_code == 200, grouped.text
    rows = {row["group"]: row for row in grouped.json()["rows"]}
    assert (rows[str(tier1)]["responded"], rows[str(tier1)]["response_met"]) == (1, 1)
    assert (rows[str(tier2)]["responded"], rows[str(tier2)]["response_met"]) == (1, 0)
    only = org.manager.get(url, params={**day, "agent_group": str(tier2)})
    assert only.status_code == 200, only.text
    body = only.json()
    assert [(r["responded"], r["response_met"]) for r in body["rows"]] == [(1, 0)]
    assert body["breaches_by_policy"] == [
        {"policy_id": special, "response_breaches": 1, "resolution_breaches": 0}
    ]


def test_the_database_keeps_one_policy_per_scope(org: TenantSet, hub: Hub) -> None:
    """NULL group and category count as one value: a second "every group / every category /
    High" row is refused by the database itself, not only by the service's check."""
    tier2 = _group(org.admin, "Tier 2", 2)
    _policy(org.admin, "High", 600)
    _policy(org.admin, "High", 60, group_id=tier2)
    for group_id in (None, tier2):
        with hub.read_session() as s:  # rolled back at the end
            s.add(
                SlaPolicy(
                    tenant_id=org.tenant[0],
                    group_id=group_id,
                    priority="High",
                    response_minutes=5,
                    resolution_minutes=50,
                )
            )
            with pytest.raises(IntegrityError):
                s.flush()
