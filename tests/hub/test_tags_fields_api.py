"""Tags and custom fields through the API: validation (422 naming the field), filters, bulk
actions, rules and macros, and the ticket export's columns."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select

from core.fields import service as fields
from core.models import Audit, TenantAudit
from core.permissions import Actor
from tests.conftest import TenantSet

T = "/api/v1/support/tickets/"
NEW = {"subject": "VPN drops", "description": "Every hour.", "category": "Technical Issue"}


def _define(hub: Any, org: TenantSet, **kw: Any) -> int:
    """A custom field, as an admin defines it (the console's /admin/fields does the same)."""
    actor = Actor(tenant_id=org.admin.tenant_id, user_id=org.admin.user_id, role="admin")
    with hub.session() as s:
        return fields.create_field(s, actor, **kw).id


@pytest.fixture
def defined(hub: Any, org: TenantSet) -> TenantSet:
    _define(hub, org, key="site", label="Site", type="text")
    _define(hub, org, key="seats", label="Seats", type="number")
    _define(hub, org, key="since", label="Since", type="date")
    _define(
        hub,
        org,
        key="plan",
        label="Plan",
        type="dropdown",
        options=["Free", "Pro"],
        required_categories=["Billing"],
        show_on_portal=True,
    )
    _define(hub, org, key="os", label="OS", type="multiselect", options=["Linux", "Mac", "Win"])
    _define(hub, org, key="urgent", label="Urgent", type="checkbox")
    return org


def test_each_type_is_stored_and_read_back(defined: TenantSet) -> None:
    values = {
        "site": " Oslo ",
        "seats": 12,
        "since": "2026-01-31",
        "plan": "Pro",
        "os": ["Win", "Linux"],
        "urgent": True,
    }
    r = defined.end_user.post(T, json={**NEW, "custom_fields": values})
    assert r.status_code == 201, r.text
    expected = {
        "site": "Oslo",
        "seats": 12,
        "since": "2026-01-31",
        "plan": "Pro",
        "os": ["Linux", "Win"],  # in the field's order
        "urgent": True,
    }
    assert r.json()["custom_fields"] == expected
    tid = r.json()["id"]
    assert defined.end_user.get(f"{T}{tid}/").json()["custom_fields"] == expected
    # Staff change one and clear another; each change is on the ticket's audit trail.
    r = defined.agent.patch(f"{T}{tid}/", json={"custom_fields": {"seats": 15, "site": None}})
    assert r.status_code == 200, r.text
    assert r.json()["custom_fields"]["seats"] == 15 and "site" not in r.json()["custom_fields"]
    trail = defined.agent.get(f"{T}{tid}/audit/").json()
    changed = [(a["old_value"], a["new_value"]) for a in trail if a["action"] == "Field Changed"]
    assert ("12", "15") in changed and ("Oslo", None) in changed


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"nope": "x"}, "custom_fields.nope"),
        ({"seats": "twelve"}, "custom_fields.seats"),
        ({"seats": True}, "custom_fields.seats"),
        ({"since": "31/01/2026"}, "custom_fields.since"),
        ({"plan": "Gold"}, "custom_fields.plan"),
        ({"os": ["Linux", "BeOS"]}, "custom_fields.os"),
        ({"os": "Linux"}, "custom_fields.os"),
        ({"urgent": "yes"}, "custom_fields.urgent"),
        ({"site": 5}, "custom_fields.site"),
    ],
)
def test_a_wrong_value_is_422_naming_the_field(
    defined: TenantSet, values: dict[str, Any], field: str
) -> None:
    r = defined.end_user.post(T, json={**NEW, "custom_fields": values})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert defined.agent.get(T).json()["results"] == []  # nothing was opened


def test_a_field_is_required_for_its_categories_only(defined: TenantSet) -> None:
    r = defined.end_user.post(T, json={**NEW, "category": "Billing"})
    assert r.status_code == 422 and r.json()["field"] == "custom_fields.plan", r.text
    assert "required" in r.json()["detail"]
    r = defined.end_user.post(T, json={**NEW, "category": "Billing", "custom_fields": {"plan": ""}})
    assert r.status_code == 422 and r.json()["field"] == "custom_fields.plan"
    ok = defined.end_user.post(
        T, json={**NEW, "category": "Billing", "custom_fields": {"plan": "Free"}}
    )
    assert ok.status_code == 201, ok.text
    assert defined.end_user.post(T, json=NEW).status_code == 201  # not required here
    # Clearing it later on a Billing ticket is refused too.
    r = defined.agent.patch(f"{T}{ok.json()['id']}/", json={"custom_fields": {"plan": None}})
    assert r.status_code == 422 and r.json()["field"] == "custom_fields.plan"


def test_requesters_may_not_change_fields_after_opening(defined: TenantSet) -> None:
    tid = defined.end_user.post(T, json=NEW).json()["id"]
    r = defined.end_user.patch(f"{T}{tid}/", json={"custom_fields": {"seats": 3}})
    assert r.status_code == 403, r.text


def test_list_filters_by_field_value(defined: TenantSet) -> None:
    a = defined.agent.post(T, json={**NEW, "custom_fields": {"os": ["Mac"], "seats": 3}}).json()
    b = defined.agent.post(T, json={**NEW, "custom_fields": {"os": ["Linux", "Mac"]}}).json()
    defined.agent.post(T, json={**NEW, "custom_fields": {"os": ["Win"], "urgent": True}})

    def ids(**params: str) -> set[int]:
        r = defined.agent.get(T, params=params)
        assert r.status_code == 200, r.text
        return {t["id"] for t in r.json()["results"]}

    assert ids(**{"field.os": "Mac"}) == {a["id"], b["id"]}
    assert ids(**{"field.os": "Linux"}) == {b["id"]}
    assert ids(**{"field.seats": "3"}) == {a["id"]}
    assert len(ids(**{"field.urgent": "true"})) == 1
    r = defined.agent.get(T, params={"field.nope": "x"})
    assert r.status_code == 422 and r.json()["field"] == "field.nope"


def test_tags_normalised_filtered_and_listed(org: TenantSet) -> None:
    one = org.agent.post(T, json={**NEW, "tags": ["VPN  Down", "#vip"]})
    assert one.status_code == 201, one.text
    assert one.json()["tags"] == ["vip", "vpn-down"]
    two = org.agent.post(T, json={**NEW, "tags": ["vip"]}).json()
    org.agent.post(T, json=NEW)
    assert org.end_user.post(T, json={**NEW, "tags": ["x"]}).status_code == 403

    def ids(tags: list[str]) -> set[int]:
        r = org.agent.get(T, params=[("tag", t) for t in tags])
        assert r.status_code == 200, r.text
        return {t["id"] for t in r.json()["results"]}

    assert ids(["VIP"]) == {one.json()["id"], two["id"]}
    assert ids(["vip", "vpn-down"]) == {one.json()["id"]}
    assert ids(["unknown"]) == set()
    listed = org.manager.get("/api/v1/support/tags/").json()
    assert [(t["name"], t["tickets"]) for t in listed] == [("vip", 2), ("vpn-down", 1)]
    assert org.end_user.get("/api/v1/support/tags/").status_code == 403
    # Remove one by PATCH; the trail has both changes.
    r = org.agent.patch(f"{T}{two['id']}/", json={"remove_tags": ["vip"], "add_tags": ["later"]})
    assert r.status_code == 200 and r.json()["tags"] == ["later"], r.text
    trail = [a["action"] for a in org.agent.get(f"{T}{two['id']}/audit/").json()]
    assert "Tag Added" in trail and "Tag Removed" in trail


def test_bulk_add_and_remove_a_tag(org: TenantSet, other_org: TenantSet) -> None:
    ids = [org.agent.post(T, json=NEW).json()["id"] for _ in range(3)]
    foreign = other_org.agent.post(T, json=NEW).json()["id"]
    r = org.agent.post(f"{T}bulk/", json={"ids": [*ids, foreign], "action": "add_tag", "tag": "Q4"})
    assert r.status_code == 200, r.text
    assert [x["ok"] for x in r.json()["results"]] == [True, True, True, False]
    assert {t["id"] for t in org.agent.get(T, params={"tag": "q4"}).json()["results"]} == set(ids)
    assert other_org.agent.get(f"{T}{foreign}/").json()["tags"] == []
    r = org.agent.post(f"{T}bulk/", json={"ids": ids[:1], "action": "remove_tag", "tag": "q4"})
    assert r.status_code == 200
    assert len(org.agent.get(T, params={"tag": "q4"}).json()["results"]) == 2
    r = org.agent.post(f"{T}bulk/", json={"ids": ids, "action": "add_tag"})
    assert r.status_code == 422 and r.json()["field"] == "tag"
    assert (
        org.end_user.post(
            f"{T}bulk/", json={"ids": ids, "action": "add_tag", "tag": "x"}
        ).status_code
        == 403
    )


def test_rules_add_tags_and_match_on_them(org: TenantSet) -> None:
    r = org.admin.post(
        "/api/v1/support/rules/",
        json={
            "name": "billing is money",
            "trigger": "ticket.created",
            "conditions": [{"field": "category", "op": "eq", "value": "Billing"}],
            "actions": [{"type": "add_tag", "tag": "Money"}],
        },
    )
    assert r.status_code == 201, r.text
    r = org.admin.post(
        "/api/v1/support/rules/",
        json={
            "name": "vip first",
            "trigger": "ticket.created",
            "conditions": [{"field": "tags", "op": "contains", "value": "VIP"}],
            "actions": [
                {"type": "set_priority", "value": "High"},
                {"type": "remove_tag", "tag": "triage"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    billing = org.end_user.post(T, json={**NEW, "category": "Billing"}).json()
    assert org.agent.get(f"{T}{billing['id']}/").json()["tags"] == ["money"]
    vip = org.agent.post(T, json={**NEW, "tags": ["vip", "triage"]}).json()
    shown = org.agent.get(f"{T}{vip['id']}/").json()
    assert shown["priority"] == "High" and shown["tags"] == ["vip"]
    plain = org.agent.post(T, json=NEW).json()
    assert org.agent.get(f"{T}{plain['id']}/").json()["priority"] == "Medium"
    bad = org.admin.post(
        "/api/v1/support/rules/",
        json={
            "name": "bad",
            "trigger": "ticket.created",
            "conditions": [{"field": "tags", "op": "eq", "value": "x"}],
            "actions": [{"type": "add_tag", "tag": ""}],
        },
    )
    assert bad.status_code == 422


def test_macros_add_tags(org: TenantSet) -> None:
    r = org.admin.post(
        "/api/v1/support/macros/",
        json={"name": "escalated", "body": "", "changes": {"add_tags": ["Tier 2"]}},
    )
    assert r.status_code == 201, r.text
    tid = org.end_user.post(T, json=NEW).json()["id"]
    applied = org.agent.post(
        f"/api/v1/support/macros/{r.json()['id']}/apply/", json={"ticket_ids": [tid]}
    )
    assert applied.status_code == 200, applied.text
    assert org.agent.get(f"{T}{tid}/").json()["tags"] == ["tier-2"]
    bad = org.admin.post(
        "/api/v1/support/macros/",
        json={"name": "bad", "body": "x", "changes": {"add_tags": "vip"}},
    )
    assert bad.status_code == 422


def test_export_carries_tags_and_a_column_per_field(defined: TenantSet) -> None:
    tid = defined.agent.post(
        T, json={**NEW, "tags": ["vip"], "custom_fields": {"os": ["Linux", "Mac"], "seats": 4}}
    ).json()["id"]
    r = defined.manager.get("/api/v1/support/exports/tickets/?format=csv")
    assert r.status_code == 200, r.text
    lines = r.text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("id,"))
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[start:]))))
    row = next(x for x in rows if x["id"] == str(tid))
    assert row["tags"] == "vip"
    assert row["field.os"] == "Linux, Mac" and row["field.seats"] == "4"
    assert row["field.site"] == ""


def test_admin_changes_are_audited(hub: Any, org: TenantSet) -> None:
    field_id = _define(hub, org, key="site", label="Site", type="text")
    actor = Actor(tenant_id=org.admin.tenant_id, user_id=org.admin.user_id, role="admin")
    with hub.session() as s:
        fields.update_field(s, actor, field_id, label="Office", is_active=False)
    with hub.session() as s:
        actions = s.scalars(
            select(TenantAudit.action).where(TenantAudit.tenant_id == org.admin.tenant_id)
        ).all()
        assert "field.created" in actions and "field.updated" in actions
        assert s.scalars(select(Audit).where(Audit.tenant_id == org.admin.tenant_id)).all() == []


def test_reports_filter_by_tag(org: TenantSet) -> None:
    for tags in (["vip"], ["vip", "outage"], [], ["outage"]):
        assert org.agent.post(T, json={**NEW, "tags": tags}).status_code == 201

    def created(tag: str) -> int:
        r = org.manager.get("/api/v1/support/reports/volume/", params={"tag": tag})
        assert r.status_code == 200, r.text
        assert r.json()["filters"]["tag"] == tag.lower()
        return int(r.json()["totals"]["created"])

    assert created("VIP") == 2
    assert created("outage") == 2
    assert created("vip,outage") == 3  # any of them, as with the other filters
    assert created("nobody-has-it") == 0
    r = org.manager.get("/api/v1/support/reports/volume/", params={"tag": "v!p"})
    assert r.status_code == 422 and r.json()["field"] == "tag"


def test_rule_preview_matches_tags_in_one_query(hub: Any, org: TenantSet) -> None:
    from sqlalchemy import event

    from core.automation import rule_admin

    tagged = {org.agent.post(T, json={**NEW, "tags": ["vip"]}).json()["id"] for _ in range(3)}
    for _ in range(3):
        org.agent.post(T, json=NEW)
    actor = Actor(tenant_id=org.admin.tenant_id, user_id=org.admin.user_id, role="admin")
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(hub.engine, "before_cursor_execute", count)
    try:
        with hub.session() as s:
            found, shown, looked = rule_admin.preview_matches(
                s, actor, [{"field": "tags", "op": "contains", "value": "vip"}]
            )
    finally:
        event.remove(hub.engine, "before_cursor_execute", count)
    assert (found, {i for i, _ in shown}, looked) == (3, tagged, 6)
    assert sum("support_ticket_tags" in q for q in seen) == 1


def test_search_text_of_a_page_of_tickets(hub: Any, defined: TenantSet) -> None:
    from core.fields.search_text import ticket_search_text

    one = defined.agent.post(
        T,
        json={
            **NEW,
            "tags": ["vpn-down"],
            "custom_fields": {"site": "Oslo", "os": ["Linux", "Mac"], "urgent": True},
        },
    ).json()["id"]
    bare = defined.agent.post(T, json=NEW).json()["id"]
    with hub.session() as s:
        text = ticket_search_text(s, [one, bare])
    assert set(text) == {one}
    words = text[one].split()
    assert {"vpn-down", "vpn", "down", "Oslo", "Linux,", "Mac"} <= set(words)
    assert "yes" not in words  # a checkbox says nothing worth finding
