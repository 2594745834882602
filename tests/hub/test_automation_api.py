"""Automation through the HTTP API: rules CRUD and firing, loops, time rules, auto-assignment,
auto-close after 48 h (spec section 16), KB auto-response, and macros (frozen clock)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.api import HubContext, Suggestion, hookimpl
from core.clock import FrozenClock, set_clock
from core.models import Audit, Membership
from hub import outbox
from hub.builtin_automation import run_time_automation
from hub.context import Hub
from tests.conftest import TenantSet

RULES = "/api/v1/support/rules/"
MACROS = "/api/v1/support/macros/"
SETTINGS = "/api/v1/support/automation/"
TICKETS = "/api/v1/support/tickets/"


@pytest.fixture
def clock() -> FrozenClock:
    c = FrozenClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    set_clock(c)
    return c


def ticket(
    member,
    priority: str = "Medium",
    category: str = "Billing",  # type: ignore[no-untyped-def]
    subject: str = "Invoice is wrong",
) -> int:
    r = member.post(
        TICKETS,
        json={
            "subject": subject,
            "description": "Charged twice",
            "category": category,
            "priority": priority,
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def get(member, tid: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return member.get(f"{TICKETS}{tid}/").json()  # type: ignore[no-any-return]


def automation_audits(hub: Hub, tid: int) -> list[Audit]:
    with hub.session() as s:
        return list(
            s.scalars(
                select(Audit)
                .where(Audit.ticket_id == tid, Audit.action == "Automation")
                .order_by(Audit.id)
            )
        )


def no_auto_assign(org: TenantSet) -> None:
    assert (
        org.admin.patch(SETTINGS, json={"assign_mode": "off", "auto_respond": False}).status_code
        == 200
    )


# ---------------------------------------------------------------- rules


def test_rule_crud_and_validation(org: TenantSet, other_org: TenantSet) -> None:
    rule = {
        "name": "Billing to high",
        "trigger": "ticket.created",
        "conditions": [{"field": "category", "op": "eq", "value": "Billing"}],
        "actions": [{"type": "set_priority", "value": "High"}],
    }
    assert org.agent.post(RULES, json=rule).status_code == 403
    r = org.admin.post(RULES, json=rule)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert org.admin.post(RULES, json=rule).status_code == 409
    for bad, words in (
        ({"trigger": "ticket.deleted"}, "trigger"),
        ({"trigger": "time.no_update"}, "hours"),
        ({"conditions": [{"field": "password", "op": "eq", "value": 1}]}, "field"),
        ({"actions": [{"type": "set_priority", "value": "Urgent"}]}, "set_priority"),
        ({"actions": [{"type": "assign", "user_id": other_org.agent.user_id}]}, "assign"),
        ({"actions": []}, "actions"),
        ({"actions": [{"type": "escalate", "target": "nowhere"}]}, "unknown escalation"),
    ):
        r = org.admin.post(RULES, json={**rule, "name": "x", **bad})
        assert r.status_code == 422, (bad, r.text)
        assert words in r.json()["detail"]
    r = org.admin.patch(f"{RULES}{rid}/", json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert [x["id"] for x in org.manager.get(RULES).json()] == [rid]
    assert other_org.admin.get(f"{RULES}{rid}/").status_code == 404
    assert other_org.admin.patch(f"{RULES}{rid}/", json={"is_active": True}).status_code == 404
    assert org.admin.client.delete(f"{RULES}{rid}/", headers=org.admin.headers).status_code == 204
    assert org.admin.get(RULES).json() == []


def test_event_rule_acts_and_is_audited_with_the_rule(hub: Hub, org: TenantSet) -> None:
    no_auto_assign(org)
    rid = org.admin.post(
        RULES,
        json={
            "name": "Security escalates",
            "trigger": "ticket.created",
            "conditions": [{"field": "category", "op": "eq", "value": "Security"}],
            "actions": [
                {"type": "set_priority", "value": "Critical"},
                {"type": "assign", "user_id": org.agent.user_id},
                {"type": "internal_note", "text": "Auto: security ticket #{ticket_id}"},
                {"type": "notify", "to": "admins", "text": "Security ticket {ticket_id}"},
            ],
        },
    ).json()["id"]
    other = ticket(org.end_user, category="Billing")
    assert get(org.agent, other)["priority"] == "Medium"
    tid = ticket(org.end_user, category="Security")
    body = get(org.agent, tid)
    assert body["priority"] == "Critical" and body["assigned_to"] == org.agent.user_id
    assert body["status"] == "Open"
    comments = org.agent.get(f"{TICKETS}{tid}/comments/").json()
    notes = [
        c
        for c in (comments["results"] if isinstance(comments, dict) else comments)
        if c["is_internal"]
    ]
    assert notes and notes[0]["comment"] == f"Auto: security ticket #{tid}"
    assert org.end_user.get(f"{TICKETS}{tid}/comments/").text.count("Auto: security") == 0
    audits = automation_audits(hub, tid)
    assert [a.new_value for a in audits] == ["set_priority", "assign", "internal_note", "notify"]
    assert all(a.details["rule_id"] == rid for a in audits)
    assert [n["ticket_id"] for n in org.admin.get("/api/v1/notifications/").json()] == [tid]


def test_rules_never_loop(hub: Hub, org: TenantSet) -> None:
    no_auto_assign(org)
    # Each rule undoes the other: without the guard they would ping-pong forever.
    for name, value in (("up", "High"), ("down", "Low")):
        r = org.admin.post(
            RULES,
            json={
                "name": name,
                "trigger": "ticket.updated",
                "actions": [{"type": "set_priority", "value": value}],
            },
        )
        assert r.status_code == 201
    self_rule = org.admin.post(
        RULES,
        json={
            "name": "self",
            "trigger": "comment.added",
            "actions": [{"type": "internal_note", "text": "noted"}],
        },
    )
    assert self_rule.status_code == 201
    tid = ticket(org.end_user)
    r = org.agent.patch(f"{TICKETS}{tid}/", json={"status": "In Progress"})
    assert r.status_code == 200, r.text
    assert len(automation_audits(hub, tid)) <= 4
    r = org.agent.post(f"{TICKETS}{tid}/comment/", json={"comment": "looking"})
    assert r.status_code in (200, 201), r.text
    notes = [a for a in automation_audits(hub, tid) if a.new_value == "internal_note"]
    assert len(notes) == 1  # the rule's own note did not fire it again


def test_failing_rule_never_fails_the_change(hub: Hub, org: TenantSet) -> None:
    no_auto_assign(org)
    org.admin.post(
        RULES,
        json={
            "name": "bad",
            "trigger": "ticket.created",
            "actions": [{"type": "set_status", "value": "Reopened"}],
        },
    )
    tid = ticket(org.end_user)  # New -> Reopened is not a transition
    assert get(org.agent, tid)["status"] == "New"
    with hub.session() as s:
        failed = s.scalars(
            select(Audit).where(Audit.ticket_id == tid, Audit.action == "Automation Failed")
        ).all()
    assert len(failed) == 1 and failed[0].details["rule"] == "bad"


def test_time_rule_fires_once_per_quiet_period(
    hub: Hub, org: TenantSet, clock: FrozenClock
) -> None:
    no_auto_assign(org)
    r = org.admin.post(
        RULES,
        json={
            "name": "stale",
            "trigger": "time.no_update",
            "hours": 2,
            "conditions": [{"field": "status", "op": "in", "value": ["New", "Open"]}],
            "actions": [
                {"type": "set_priority", "value": "High"},
                {"type": "escalate", "target": "admin", "note": "quiet for 2 h"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    tid = ticket(org.end_user)
    clock.advance(hours=1, minutes=59)
    run_time_automation(hub)
    assert get(org.agent, tid)["priority"] == "Medium"
    clock.advance(minutes=2)
    run_time_automation(hub)
    run_time_automation(hub)
    assert get(org.agent, tid)["priority"] == "High"
    clock.advance(hours=5)
    run_time_automation(hub)  # its own change does not start a quiet period for itself
    escalations = [a for a in automation_audits(hub, tid) if a.new_value == "escalate"]
    assert len(escalations) == 1 and escalations[0].details["outcome"]["event_id"] > 0
    outbox.drain(hub)
    notes = org.admin.get("/api/v1/notifications/").json()
    assert any(n["ticket_id"] == tid and "quiet for 2 h" in n["text"] for n in notes)
    # An agent's update starts a new quiet period: the rule may fire again after 2 h.
    org.agent.post(f"{TICKETS}{tid}/comment/", json={"comment": "checking", "is_internal": True})
    org.agent.patch(f"{TICKETS}{tid}/", json={"priority": "Low"})
    clock.advance(hours=2, minutes=1)
    run_time_automation(hub)
    assert get(org.agent, tid)["priority"] == "High"


# ---------------------------------------------------------------- built-ins


def test_auto_close_after_48_hours(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    """Spec 16: the ticket auto-closes after 48 h if the user does not respond."""
    tid = ticket(org.end_user, priority="High", category="Technical Issue")
    outbox.drain(hub)
    assert org.agent.patch(f"{TICKETS}{tid}/", json={"status": "Resolved"}).status_code == 200
    kept = ticket(org.end_user)
    org.agent.patch(f"{TICKETS}{kept}/", json={"status": "Resolved"})
    clock.advance(hours=47)
    org.end_user.post(f"{TICKETS}{kept}/comment/", json={"comment": "not fixed"})  # reopens
    run_time_automation(hub)
    assert get(org.agent, tid)["status"] == "Resolved"
    clock.advance(hours=1, minutes=1)
    run_time_automation(hub)
    run_time_automation(hub)
    assert get(org.agent, tid)["status"] == "Closed"
    assert get(org.agent, kept)["status"] == "Reopened"
    audits = automation_audits(hub, tid)
    assert [a.details["rule"] for a in audits if a.new_value == "set_status"] == ["auto-close"]


def test_auto_close_hours_are_configurable(hub: Hub, org: TenantSet, clock: FrozenClock) -> None:
    assert org.admin.patch(SETTINGS, json={"auto_close_hours": 0}).status_code == 200
    tid = ticket(org.end_user)
    org.agent.patch(f"{TICKETS}{tid}/", json={"status": "Resolved"})
    clock.advance(hours=100)
    run_time_automation(hub)
    assert get(org.agent, tid)["status"] == "Resolved"
    assert org.admin.patch(SETTINGS, json={"auto_close_hours": 24}).json()["auto_close_hours"] == 24
    run_time_automation(hub)
    assert get(org.agent, tid)["status"] == "Closed"


def test_round_robin_among_available_agents_under_their_limit(
    hub: Hub, org: TenantSet, make_member
) -> None:  # type: ignore[no-untyped-def]
    second = make_member(org.tenant, "agent")
    away = make_member(org.tenant, "agent")
    with hub.session() as s:
        s.execute(
            Membership.__table__.update()
            .where(Membership.user_id == away.user_id)
            .values(available=False)
        )
        s.execute(
            Membership.__table__.update()
            .where(Membership.user_id == second.user_id)
            .values(max_open_tickets=1)
        )
    ids = [ticket(org.end_user) for _ in range(4)]
    assert all(get(org.agent, t)["status"] == "New" for t in ids)  # assigned after commit
    outbox.drain(hub)
    owners = [get(org.agent, t)["assigned_to"] for t in ids]
    first, other = sorted([org.agent.user_id, second.user_id])
    assert owners[:2] == [first, other]
    # The second agent is at their limit; the away agent never gets tickets.
    limited = second.user_id
    assert owners.count(limited) == 1 and away.user_id not in owners
    assert all(get(org.agent, t)["status"] == "Open" for t in ids)


def test_skill_based_assignment(hub: Hub, org: TenantSet, make_member) -> None:  # type: ignore[no-untyped-def]
    billing = make_member(org.tenant, "agent")
    with hub.session() as s:
        s.execute(
            Membership.__table__.update()
            .where(Membership.user_id == billing.user_id)
            .values(skills={"Billing": 3, "Access": 1})
        )
        s.execute(
            Membership.__table__.update()
            .where(Membership.user_id == org.agent.user_id)
            .values(skills={"categories": ["Access", "Technical Issue"]})
        )
    assert org.admin.patch(SETTINGS, json={"assign_mode": "skill"}).status_code == 200
    bill = [ticket(org.end_user, category="Billing") for _ in range(2)]
    tech = ticket(org.end_user, category="Technical Issue")
    outbox.drain(hub)
    assert [get(org.agent, t)["assigned_to"] for t in bill] == [billing.user_id] * 2
    assert get(org.agent, tech)["assigned_to"] == org.agent.user_id


class FakeKb:
    def __init__(self, answer: list[Suggestion]) -> None:
        self.answer = answer
        self.asked: list[str] = []

    @hookimpl
    def hub_kb_suggest(
        self, tenant_id: uuid.UUID, text: str, limit: int, audience: str, hub: HubContext
    ) -> list[Suggestion]:
        self.asked.append(audience)
        return self.answer[:limit]


@pytest.fixture
def kb(hub: Hub) -> Iterator[FakeKb]:
    plugin = FakeKb(
        [
            Suggestion(
                article_id=7,
                title="Fix double charges",
                excerpt="...",
                url="http://hub.test/kb/7",
                score=0.9,
            )
        ]
    )
    hub.pm.register(plugin, name="test-fake-kb")
    hub.tenant_hooks.invalidate()
    try:
        yield plugin
    finally:
        hub.pm.unregister(plugin)
        hub.tenant_hooks.invalidate()


def _public_comments(member, tid: int) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    body = member.get(f"{TICKETS}{tid}/comments/").json()
    return [
        c for c in (body["results"] if isinstance(body, dict) else body) if not c["is_internal"]
    ]


def test_auto_respond_with_kb_articles(hub: Hub, org: TenantSet, kb: FakeKb) -> None:
    tid = ticket(org.end_user)
    outbox.drain(hub)
    outbox.drain(hub)
    replies = _public_comments(org.end_user, tid)
    assert len(replies) == 1 and "Fix double charges" in replies[0]["comment"]
    assert "http://hub.test/kb/7" in replies[0]["comment"]
    assert kb.asked == ["public"]
    body = get(org.agent, tid)
    assert body.get("first_response_at") is None  # an automatic answer is not a first response
    kb.answer = []
    empty = ticket(org.end_user, subject="Something else")
    outbox.drain(hub)
    assert _public_comments(org.end_user, empty) == []


# ---------------------------------------------------------------- macros


def test_macro_crud_and_bulk_apply(hub: Hub, org: TenantSet, other_org: TenantSet) -> None:
    no_auto_assign(org)
    macro = {
        "name": "Need logs",
        "body": "Hi {requester_name}, please send logs for #{ticket_id}.",
        "changes": {"status": "Pending"},
    }
    assert org.agent.post(MACROS, json=macro).status_code == 403
    # A placeholder that is not on the list would reach the customer unfilled: refused.
    r = org.admin.post(MACROS, json={**macro, "body": macro["body"] + " {unknown}"})
    assert r.status_code == 422 and "{unknown}" in r.json()["detail"]
    r = org.admin.post(MACROS, json=macro)
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    assert (
        org.admin.post(
            MACROS, json={**macro, "name": "bad", "changes": {"status": "Gone"}}
        ).status_code
        == 422
    )
    assert (
        org.admin.post(
            MACROS, json={**macro, "name": "bad", "changes": {"subject": "x"}}
        ).status_code
        == 422
    )
    mine = [ticket(org.end_user) for _ in range(2)]
    theirs = ticket(other_org.end_user)
    r = org.agent.post(f"{MACROS}{mid}/apply/", json={"ticket_ids": [*mine, theirs]})
    assert r.status_code == 200, r.text
    results = {x["id"]: x for x in r.json()["results"]}
    assert results[theirs]["ok"] is False and results[theirs]["status"] == 404
    name = org.end_user.email.split("@")[0]
    for tid in mine:
        assert results[tid]["ok"] is True
        body = get(org.agent, tid)
        assert body["status"] == "Pending"
        text = _public_comments(org.end_user, tid)[0]["comment"]
        assert text == f"Hi {name}, please send logs for #{tid}."
    assert get(other_org.agent, theirs)["status"] == "New"
    assert org.manager.post(f"{MACROS}{mid}/apply/", json={"ticket_ids": mine}).status_code == 403
    assert (
        other_org.agent.post(f"{MACROS}{mid}/apply/", json={"ticket_ids": [theirs]}).status_code
        == 404
    )
    r = org.admin.patch(f"{MACROS}{mid}/", json={"body": "Thanks {requester_name}!"})
    assert r.status_code == 200 and r.json()["changes"] == {"status": "Pending"}


def test_rule_sends_a_macro_reply(hub: Hub, org: TenantSet) -> None:
    no_auto_assign(org)
    mid = org.admin.post(
        MACROS, json={"name": "ack", "body": "We got ticket #{ticket_id}."}
    ).json()["id"]
    r = org.admin.post(
        RULES,
        json={
            "name": "ack all",
            "trigger": "ticket.created",
            "actions": [{"type": "macro", "macro_id": mid}],
        },
    )
    assert r.status_code == 201, r.text
    tid = ticket(org.end_user)
    assert [c["comment"] for c in _public_comments(org.end_user, tid)] == [f"We got ticket #{tid}."]


def test_settings_and_macros_are_admin_edited_and_tenant_scoped(
    org: TenantSet, other_org: TenantSet
) -> None:
    assert org.admin.get(SETTINGS).json() == {
        "assign_mode": "round_robin",
        "auto_close_hours": 48.0,
        "auto_respond": True,
    }
    assert org.agent.patch(SETTINGS, json={"assign_mode": "skill"}).status_code == 403
    assert org.admin.patch(SETTINGS, json={"assign_mode": "fastest"}).status_code == 422
    assert org.end_user.get(SETTINGS).status_code == 403
    mid = org.admin.post(MACROS, json={"name": "m", "body": "hello"}).json()["id"]
    assert other_org.agent.get(f"{MACROS}{mid}/").status_code == 404
    assert other_org.admin.patch(f"{MACROS}{mid}/", json={"body": "x"}).status_code == 404
    assert other_org.admin.get(MACROS).json() == []
    assert org.end_user.get(MACROS).status_code == 403
