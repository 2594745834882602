"""Agents and assignment in the console: skills, capacity and availability set by an admin and
used by skill-based assignment; the automation settings; an agent's own "away" switch."""

from __future__ import annotations

from sqlalchemy import select

from core.automation.models import AutomationSettings
from core.models import Membership, Ticket
from hub import outbox
from tests.hub.web.conftest import sign_in

SKILLS = {
    "skill_Onboarding": "0",
    "skill_Access": "0",
    "skill_Technical Issue": "0",
    "skill_Billing": "4",
    "skill_Feature Request": "0",
    "skill_Security": "0",
    "skill_Other": "0",
}


def _ticket(member, category="Billing"):  # type: ignore[no-untyped-def]
    r = member.post(
        "/api/v1/support/tickets/",
        json={"subject": "Invoice", "description": "Charged twice", "category": category},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_skills_capacity_and_mode_drive_assignment(app, web_org, make_member, hub) -> None:  # type: ignore[no-untyped-def]
    tenant = (web_org["agent"].tenant_id, web_org["agent"].tenant_slug)
    expert = make_member(tenant, "agent", password="correct horse battery staple")
    admin = sign_in(app, web_org["admin"].email)
    listing = admin.page("/admin/agents")
    assert expert.email.split("@")[0] in listing
    admin.page(f"/admin/agents/{expert.user_id}")
    saved = admin.post(
        f"/admin/agents/{expert.user_id}", {**SKILLS, "available": "on", "max_open_tickets": "2"}
    )
    assert saved.status_code == 303
    admin.page("/admin/agents")
    mode = admin.post(
        "/admin/automation", {"assign_mode": "skill", "auto_close_hours": "72", "auto_respond": ""}
    )
    assert mode.status_code == 303
    with hub.session() as s:
        row = s.scalar(select(AutomationSettings).where(AutomationSettings.tenant_id == tenant[0]))
        assert row is not None and row.assign_mode == "skill" and row.auto_close_hours == 72
        assert row.auto_respond is False
    first, second, third = (_ticket(web_org["end_user"]) for _ in range(3))
    outbox.drain(hub)
    with hub.session() as s:
        owners = [s.get(Ticket, t).assigned_to for t in (first, second, third)]  # type: ignore[union-attr]
    # The Billing expert takes tickets up to their limit of 2; the third goes to another agent.
    assert owners[:2] == [expert.user_id, expert.user_id]
    assert owners[2] not in (None, expert.user_id)
    assert "Billing 4" in admin.page("/admin/agents")


def test_refused_values_and_who_may(app, web_org, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    agent_id = web_org["agent"].user_id
    admin.page(f"/admin/agents/{agent_id}")
    bad = admin.post(f"/admin/agents/{agent_id}", {**SKILLS, "max_open_tickets": "lots"})
    assert bad.status_code == 422 and 'value="lots"' in bad.text and "whole number" in bad.text
    bad = admin.post(f"/admin/agents/{agent_id}", {**SKILLS, "skill_Billing": "9"})
    assert bad.status_code == 422 and "from 0 to 5" in bad.text
    admin.page("/admin/agents")
    wrong = admin.post("/admin/automation", {"assign_mode": "lottery"})
    assert wrong.status_code == 303
    assert "assignment must be one of round_robin, skill, off" in admin.page("/admin/agents")
    # An end user is not an agent; another tenant's agent is not found.
    assert admin.client.get(f"/admin/agents/{web_org['end_user'].user_id}").status_code == 404
    stranger = make_member(make_tenant(), "agent")
    assert admin.client.get(f"/admin/agents/{stranger.user_id}").status_code == 404
    for role in ("agent", "manager", "end_user"):
        web = sign_in(app, web_org[role].email)
        assert web.client.get("/admin/agents").status_code == 404, role
        web.page("/notifications")
        assert web.post("/admin/automation", {"assign_mode": "off"}).status_code == 404


def test_an_agent_switches_themself_away_from_the_header(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    agent = sign_in(app, web_org["agent"].email)
    page = agent.page("/queue")
    assert 'name="available" value="no"' in page
    away = agent.post("/account/availability", {"available": "no"})
    assert away.status_code == 303
    with hub.session() as s:
        member = s.scalar(select(Membership).where(Membership.user_id == web_org["agent"].user_id))
        assert member is not None and member.available is False
    page = agent.page("/queue")
    assert 'name="available" value="yes"' in page and ">Away</button>" in page
    requester = sign_in(app, web_org["end_user"].email)
    assert 'name="available"' not in requester.page("/tickets")
    assert requester.post("/account/availability", {"available": "no"}).status_code == 404
