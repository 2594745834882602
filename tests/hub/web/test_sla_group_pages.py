"""SLA policies by agent group in the console: the editor's group select saves a group's policy
(another tenant's group refused in its field), the list and "which policy?" name the group, the
page reads in German, and the queue's "At risk" filter (SQL) agrees with each ticket's page."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.clock import FrozenClock, set_clock
from core.models import Audit, SlaPolicy
from tests.hub.web.conftest import sign_in

GROUPS = "/api/v1/support/groups/"
WEEK = {
    f"{d}_{n}_{k}": ""
    for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for n in (0, 1)
    for k in ("start", "end")
}
FORM = {
    **WEEK,
    "group_id": "",
    "category": "",
    "priority": "High",
    "response_minutes": "60",
    "resolution_minutes": "240",
    "warning_percent": "80",
    "is_active": "on",
    "always_open": "on",
    "timezone": "UTC",
    "holidays": "",
    "action": "save",
}


def _group(member, name: str, tier: int) -> int:  # type: ignore[no-untyped-def]
    r = member.post(GROUPS, json={"name": name, "tier": tier})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_the_editor_saves_a_group_policy(app, web_org, hub, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    tier1 = _group(web_org["admin"], "Tier 1", 1)
    tier2 = _group(web_org["admin"], "Tier 2", 2)
    stranger = make_member(make_tenant(), "admin")
    theirs = _group(stranger, "Their Tier 2", 2)
    admin = sign_in(app, web_org["admin"].email)
    editor = admin.page("/admin/sla/new")
    assert f'<option value="{tier2}">Tier 2</option>' in editor
    assert '<option value="">Every group</option>' in editor
    refused = admin.post("/admin/sla/new", {**FORM, "group_id": str(theirs)})
    assert refused.status_code == 422, refused.text[:300]
    assert f"no agent group {theirs} in this tenant" in refused.text
    assert 'id="s-group" name="group_id" aria-describedby="s-group-help" aria-invalid="true"' in (
        refused.text
    )
    nonsense = admin.post("/admin/sla/new", {**FORM, "group_id": "tier two"})
    assert nonsense.status_code == 422 and "choose an agent group from the list" in nonsense.text
    with hub.session() as s:
        assert s.scalar(select(SlaPolicy.id)) is None, "nothing saved while refused"
    saved = admin.post("/admin/sla/new", {**FORM, "group_id": str(tier2), "category": "Billing"})
    assert saved.status_code == 303, saved.text[:300]
    general = admin.post("/admin/sla/new", {**FORM, "response_minutes": "120"})
    assert general.status_code == 303, general.text[:300]
    with hub.session() as s:
        rows = {p.group_id: p for p in s.scalars(select(SlaPolicy))}
        assert set(rows) == {tier2, None}
        assert (rows[tier2].category, rows[tier2].response_minutes) == ("Billing", 60)
        audit = s.scalars(select(Audit).where(Audit.action == "SLA Policy Created")).all()
        assert [a.details["group_id"] for a in audit] == [tier2, None]
        pid = rows[tier2].id
    listing = admin.page("/admin/sla")
    assert "Tier 2" in listing and "Every group" in listing
    assert f'<option value="{tier1}">Tier 1</option>' in listing  # the "which policy?" check
    which = admin.page(f"/admin/sla?priority=High&category=Billing&group={tier2}")
    assert "gets the policy for Tier 2 / Billing / High: first response within 60 min" in which
    which = admin.page(f"/admin/sla?priority=High&category=Billing&group={tier1}")
    assert "gets the policy for every category / High: first response within 120 min" in which
    # Editing keeps the group selected, and moves the policy to another group.
    page = admin.page(f"/admin/sla/{pid}")
    assert f'<option value="{tier2}" selected>Tier 2</option>' in page
    moved = admin.post(f"/admin/sla/{pid}", {**FORM, "group_id": str(tier1), "category": "Billing"})
    assert moved.status_code == 303
    with hub.session() as s:
        assert s.get(SlaPolicy, pid).group_id == tier1  # type: ignore[union-attr]
    german = admin.client.get("/admin/sla/new", headers={"Accept-Language": "de"})
    assert "Agentengruppe" in german.text and "Alle Gruppen" in german.text


def test_queue_at_risk_filter_and_ticket_page_agree(app, web_org) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    set_clock(clock)
    admin, agent = web_org["admin"], web_org["agent"]
    assert (
        admin.patch("/api/v1/support/automation/", json={"assign_mode": "off"}).status_code == 200
    )
    tier1, tier2 = _group(admin, "Tier 1", 1), _group(admin, "Tier 2", 2)
    for body in (
        {"priority": "High", "response_minutes": 600, "resolution_minutes": 2400},
        {"priority": "High", "response_minutes": 60, "resolution_minutes": 240, "group_id": tier2},
    ):
        assert admin.post("/api/v1/support/slas/", json=body).status_code == 201
    ids = {}
    for group in (tier1, tier2):
        r = web_org["end_user"].post(
            "/api/v1/support/tickets/",
            json={"subject": "VPN", "description": "d", "category": "Other", "priority": "High"},
        )
        assert r.status_code == 201, r.text
        ids[group] = int(r.json()["id"])
        r = agent.patch(f"/api/v1/support/tickets/{ids[group]}/", json={"group_id": group})
        assert r.status_code == 200, r.text
    web = sign_in(app, agent.email)
    clock.advance(minutes=50)  # Tier 2: 10 of 60 min left (at risk); Tier 1: 550 of 600.
    queue = web.page("/queue?breached=risk")
    assert f'data-ticket="{ids[tier2]}"' in queue and f'data-ticket="{ids[tier1]}"' not in queue
    assert 'class="sla sla-at-risk"' in web.page(f"/tickets/{ids[tier2]}")
    assert 'class="sla sla-on-track"' in web.page(f"/tickets/{ids[tier1]}")
    # Escalated to Tier 2, the Tier 1 ticket is re-timed: 50 min of 60 used, at risk too.
    r = agent.post(f"/api/v1/support/tickets/{ids[tier1]}/escalate/", json={"target": "tier"})
    assert r.status_code == 202, r.text
    queue = web.page("/queue?breached=risk")
    assert all(f'data-ticket="{t}"' in queue for t in ids.values())
    assert 'class="sla sla-at-risk"' in web.page(f"/tickets/{ids[tier1]}")
