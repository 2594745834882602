"""Agent groups and tiers through the HTTP API: groups CRUD and its checks, tickets routed to a
group by a rule and assigned round robin within it, "escalate to tier" (moved, unassigned,
audited, the next tier's agents told in the app), group filters, bulk moves, and reports by group."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Audit
from hub import outbox
from hub.context import Hub
from tests.conftest import Member, TenantSet

GROUPS = "/api/v1/support/groups/"
TICKETS = "/api/v1/support/tickets/"
RULES = "/api/v1/support/rules/"
SETTINGS = "/api/v1/support/automation/"


def _ticket(member: Member, subject: str = "VPN drops every hour") -> int:
    r = member.post(
        TICKETS,
        json={"subject": subject, "description": "It drops.", "category": "Technical Issue"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _group(admin: Member, name: str, tier: int | None, members: list[int]) -> int:
    r = admin.post(GROUPS, json={"name": name, "tier": tier, "members": members})
    assert r.status_code == 201, r.text
    assert r.json()["members"] == sorted(members)
    return int(r.json()["id"])


def _agents(org: TenantSet, make_member, n: int) -> list[Member]:  # type: ignore[no-untyped-def]
    return [make_member(org.tenant, "agent") for _ in range(n)]


def test_groups_are_checked_and_scoped(org: TenantSet, other_org: TenantSet) -> None:
    first = _group(org.admin, "Tier 1", 1, [org.agent.user_id])
    # A name is unique in the tenant (case folded); members are the tenant's staff only.
    r = org.admin.post(GROUPS, json={"name": "tier 1"})
    assert r.status_code == 422 and "already a group" in r.json()["detail"]
    r = org.admin.post(GROUPS, json={"name": "Billing", "members": [org.end_user.user_id]})
    assert r.status_code == 422 and r.json()["field"] == "members"
    r = org.admin.post(GROUPS, json={"name": "Billing", "members": [other_org.agent.user_id]})
    assert r.status_code == 422
    r = org.admin.post(GROUPS, json={"name": "Odd", "tier": 0})
    assert r.status_code == 422
    # Agents read groups; only admins change them; end users and other tenants see nothing.
    assert [g["name"] for g in org.agent.get(GROUPS).json()] == ["Tier 1"]
    assert org.agent.post(GROUPS, json={"name": "Mine"}).status_code == 403
    assert org.end_user.get(GROUPS).status_code == 403
    assert other_org.admin.get(GROUPS).json() == []
    assert other_org.admin.get(f"{GROUPS}{first}/").status_code == 404
    r = org.admin.patch(f"{GROUPS}{first}/", json={"name": "First line", "tier": None})
    assert r.status_code == 200 and r.json()["tier"] is None
    assert r.json()["members"] == [org.agent.user_id]
    # A ticket may only join a group of its own tenant.
    tid = _ticket(org.end_user)
    theirs = _group(other_org.admin, "Theirs", 1, [])
    r = org.agent.patch(f"{TICKETS}{tid}/", json={"group_id": theirs})
    assert r.status_code == 422 and r.json()["field"] == "group_id"
    trail = org.admin.get(
        "/api/v1/admin/audit/", params={"action": "Group Changed", "trail": "ticket"}
    )
    assert trail.status_code == 200, trail.text
    assert [r["new_value"] for r in trail.json()["results"]] == [str(first)]


def test_a_rule_routes_to_a_group_and_assignment_stays_inside_it(
    org: TenantSet, make_member, hub: Hub
) -> None:  # type: ignore[no-untyped-def]
    a, b, outsider = _agents(org, make_member, 3)
    tier1 = _group(org.admin, "Tier 1", 1, [a.user_id, b.user_id])
    assert org.admin.patch(SETTINGS, json={"assign_mode": "round_robin"}).status_code == 200
    rule = {
        "name": "Technical to Tier 1",
        "trigger": "ticket.created",
        "conditions": [{"field": "category", "op": "eq", "value": "Technical Issue"}],
        "actions": [{"type": "set_group", "group_id": tier1}],
    }
    assert org.admin.post(RULES, json=rule).status_code == 201, "rule"
    bad = dict(rule, name="bad", actions=[{"type": "set_group", "group_id": 999_999}])
    r = org.admin.post(RULES, json=bad)
    assert r.status_code == 422 and "agent group" in r.json()["detail"]
    ids = [_ticket(org.end_user, f"Problem {n}") for n in range(4)]
    outbox.drain(hub)
    got = [org.agent.get(f"{TICKETS}{t}/").json() for t in ids]
    assert {t["group_id"] for t in got} == {tier1}
    assignees = [t["assigned_to"] for t in got]
    assert set(assignees) == {a.user_id, b.user_id}, "only the group's members take its tickets"
    assert outsider.user_id not in assignees and org.agent.user_id not in assignees
    assert assignees[0] != assignees[1], "round robin within the group"
    # The group queue, and the tickets of no group.
    page = org.agent.get(TICKETS, params={"group": tier1}).json()["results"]
    assert sorted(t["id"] for t in page) == sorted(ids)
    assert org.agent.get(TICKETS, params={"group": "none"}).json()["results"] == []
    assert org.agent.get(TICKETS, params={"group": "x"}).status_code == 422


def test_escalate_to_the_next_tier(org: TenantSet, make_member, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    first, second, bystander = _agents(org, make_member, 3)
    assert org.admin.patch(SETTINGS, json={"assign_mode": "off"}).status_code == 200
    tier1 = _group(org.admin, "Tier 1", 1, [first.user_id])
    tier2 = _group(org.admin, "Tier 2", 2, [second.user_id])
    _group(org.admin, "Specialists", None, [bystander.user_id])
    tid = _ticket(org.end_user)
    r = first.patch(f"{TICKETS}{tid}/", json={"group_id": tier1, "assigned_to": first.user_id})
    assert r.status_code == 200 and r.json()["assigned_to"] == first.user_id
    offered = first.get(f"{TICKETS}{tid}/escalation-targets/").json()
    tier = [t for t in offered if t["target"] == "tier"]
    assert tier and "Tier 2" in tier[0]["label"]
    r = first.post(f"{TICKETS}{tid}/escalate/", json={"target": "tier", "note": "needs L2"})
    assert r.status_code == 202, r.text
    after = first.get(f"{TICKETS}{tid}/").json()
    assert after["group_id"] == tier2 and after["assigned_to"] is None
    with hub.session() as s:
        actions = [a.action for a in s.scalars(select(Audit).where(Audit.ticket_id == tid))]
    assert "Tier Escalation" in actions and "Group Change" in actions
    outbox.drain(hub)

    def escalations(m: Member) -> list[dict]:  # type: ignore[type-arg]
        rows = m.get("/api/v1/notifications/?unread=false").json()
        return [n for n in rows if n["ticket_id"] == tid and n["kind"] == "escalation"]

    assert escalations(second), "the next tier's agents are told"
    assert not escalations(bystander) and not escalations(first)  # first acted
    assert not escalations(org.end_user)
    # At the top of the ladder there is nowhere higher to go.
    offered = first.get(f"{TICKETS}{tid}/escalation-targets/").json()
    assert "tier" not in [t["target"] for t in offered]
    r = first.post(f"{TICKETS}{tid}/escalate/", json={"target": "tier"})
    assert r.status_code == 422 and "higher tier" in r.json()["detail"]


def test_moving_groups_lets_go_of_an_outside_assignee_and_bulk_moves(
    org: TenantSet, make_member
) -> None:  # type: ignore[no-untyped-def]
    (inside,) = _agents(org, make_member, 1)
    assert org.admin.patch(SETTINGS, json={"assign_mode": "off"}).status_code == 200
    billing = _group(org.admin, "Billing", None, [inside.user_id])
    one, two = _ticket(org.end_user, "Refund"), _ticket(org.end_user, "Invoice")
    org.agent.patch(f"{TICKETS}{one}/", json={"assigned_to": org.agent.user_id})
    org.agent.patch(f"{TICKETS}{two}/", json={"assigned_to": inside.user_id})
    r = org.agent.post(
        f"{TICKETS}bulk/", json={"ids": [one, two], "action": "set_group", "group_id": billing}
    )
    assert r.status_code == 200 and all(x["ok"] for x in r.json()["results"]), r.text
    t1, t2 = (org.agent.get(f"{TICKETS}{t}/").json() for t in (one, two))
    assert t1["group_id"] == t2["group_id"] == billing
    assert t1["assigned_to"] is None, "not a member of Billing: lets go"
    assert t2["assigned_to"] == inside.user_id, "a member keeps it"
    # A group with open tickets is not deleted; emptied, it is.
    assert org.admin.delete(f"{GROUPS}{billing}/").status_code == 409
    r = org.agent.post(f"{TICKETS}bulk/", json={"ids": [one, two], "action": "set_group"})
    assert r.status_code == 200
    assert org.admin.delete(f"{GROUPS}{billing}/").status_code == 204


def test_reports_filter_and_group_by_agent_group(org: TenantSet) -> None:
    assert org.admin.patch(SETTINGS, json={"assign_mode": "off"}).status_code == 200
    tier1 = _group(org.admin, "Tier 1", 1, [org.agent.user_id])
    ids = [_ticket(org.end_user, f"Case {n}") for n in range(3)]
    org.agent.patch(f"{TICKETS}{ids[0]}/", json={"group_id": tier1})
    org.agent.patch(f"{TICKETS}{ids[1]}/", json={"group_id": tier1})
    url = "/api/v1/support/reports/volume/"
    grouped = org.manager.get(
        "/api/v1/support/reports/resolution/", params={"group": "agent_group"}
    )
    assert grouped.status_code == 200, grouped.text
    only = org.manager.get(url, params={"agent_group": str(tier1)})
    none = org.manager.get(url, params={"agent_group": "none"})
    assert only.status_code == none.status_code == 200

    def created(body: dict) -> int:  # type: ignore[type-arg]
        return int(body["totals"]["created"])

    assert created(only.json()) == 2 and created(none.json()) == 1
    r = org.manager.get(url, params={"agent_group": "tier one"})
    assert r.status_code == 422 and r.json()["field"] == "agent_group"
