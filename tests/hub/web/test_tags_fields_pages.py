"""Tags and custom fields in the console: /admin/fields and /admin/tags, the ticket page's
section, the portal's new-ticket form (errors beside the field, typed values kept), the queue's
tag filter and bulk tagging."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from core.models import CustomField, TenantAudit
from tests.hub.web.conftest import sign_in

T = "/api/v1/support/tickets/"
NEW = {"subject": "VPN drops", "description": "Every hour.", "category": "Technical Issue"}


def _field(admin: Any, **form: Any) -> None:
    admin.page("/admin/fields/new")
    answer = admin.post("/admin/fields/new", {"show_on_ticket": "on", **form})
    assert answer.status_code == 303, answer.text[:800]


def _fields(admin: Any) -> None:
    _field(
        admin,
        key="plan",
        label="Plan",
        type="dropdown",
        options="Free\nPro",
        required_categories="Billing",
        show_on_portal="on",
    )
    _field(admin, key="seats", label="Seats", type="number", show_on_portal="on")
    _field(
        admin,
        key="os",
        label="Operating systems",
        type="multiselect",
        options="Linux\nMac",
        show_on_portal="on",
    )
    _field(admin, key="since", label="Customer since", type="date")
    _field(admin, key="vip", label="VIP", type="checkbox", show_on_portal="on")


def test_admin_defines_orders_and_deactivates_fields(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    _fields(admin)
    page = admin.page("/admin/fields")
    assert page.index("Plan") < page.index("Seats") < page.index("Customer since")
    with hub.session() as s:
        ids = {f.key: f.id for f in s.scalars(select(CustomField))}
    assert admin.post(f"/admin/fields/{ids['since']}/move", {"step": "up"}).status_code == 303
    page = admin.page("/admin/fields")
    assert page.index("Customer since") < page.index("Operating systems")
    # A bad key and a choice field without options come back beside their inputs.
    admin.page("/admin/fields/new")
    bad = admin.post("/admin/fields/new", {"key": "Bad Key", "label": "X", "type": "text"})
    assert bad.status_code == 422 and re.search(r'id="f-key"[^>]*aria-invalid="true"', bad.text)
    bad = admin.post("/admin/fields/new", {"key": "tier", "label": "Tier", "type": "dropdown"})
    assert bad.status_code == 422 and 'id="options-error"' in bad.text
    assert 'value="Tier"' in bad.text  # what was typed is kept
    # Deactivate: the API no longer accepts it.
    admin.page(f"/admin/fields/{ids['seats']}")
    done = admin.post(f"/admin/fields/{ids['seats']}", {"label": "Seats", "show_on_ticket": "on"})
    assert done.status_code == 303
    r = web_org["end_user"].post(T, json={**NEW, "custom_fields": {"seats": 3}})
    assert r.status_code == 422 and r.json()["field"] == "custom_fields.seats"
    with hub.session() as s:
        actions = s.scalars(select(TenantAudit.action)).all()
    assert actions.count("field.created") == 5 and "field.moved" in actions
    assert "field.updated" in actions
    # Agents and requesters do not see the page.
    agent = sign_in(app, web_org["agent"].email)
    assert agent.client.get("/admin/fields").status_code == 404


def test_portal_form_validates_beside_the_field_and_keeps_values(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    _fields(sign_in(app, web_org["admin"].email))
    user = sign_in(app, web_org["end_user"].email)
    page = user.page("/tickets/new")
    assert 'name="cf_plan"' in page and 'name="cf_seats"' in page and 'name="cf_since"' not in page
    form = {
        "subject": "Invoice twice",
        "description": "Charged twice",
        "category": "Billing",
        "priority": "Medium",
        "cf_seats": "many",
        "cf_os": ["Mac"],
    }
    answer = user.post("/tickets/new", form)
    assert answer.status_code == 422, answer.text[:500]
    assert re.search(r'id="cf-seats"[^>]*aria-invalid="true"', answer.text)
    assert 'id="cf-seats-error"' in answer.text and "seats must be a number" in answer.text
    assert 'id="cf-plan-error"' in answer.text and "required for Billing" in answer.text
    assert 'value="many"' in answer.text and "Invoice twice" in answer.text
    assert re.search(r'value="Mac" checked', answer.text)
    answer = user.post("/tickets/new", {**form, "cf_seats": "3", "cf_plan": "Pro", "cf_vip": "on"})
    assert answer.status_code == 303, answer.text[:800]
    tid = int(answer.headers["location"].rsplit("/", 1)[1])
    shown = web_org["agent"].get(f"{T}{tid}/").json()["custom_fields"]
    assert shown == {"plan": "Pro", "seats": 3, "os": ["Mac"], "vip": True}
    # Not required outside Billing.
    answer = user.post("/tickets/new", {**form, "category": "Access", "cf_seats": ""})
    assert answer.status_code == 303


def test_ticket_page_tags_and_fields(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    _fields(sign_in(app, web_org["admin"].email))
    tid = (
        web_org["end_user"]
        .post(T, json={**NEW, "category": "Billing", "custom_fields": {"plan": "Free"}})
        .json()["id"]
    )
    agent = sign_in(app, web_org["agent"].email)
    assert f'hx-get="/tickets/{tid}/extras"' in agent.page(f"/tickets/{tid}")
    agent.page(f"/tickets/{tid}/extras")
    assert agent.post(f"/tickets/{tid}/tags", {"tag": "Printer, urgent"}).status_code == 303
    section = agent.page(f"/tickets/{tid}/extras")
    assert "Remove tag printer" in section and "Remove tag urgent" in section
    assert agent.post(f"/tickets/{tid}/tags/remove", {"tag": "urgent"}).status_code == 303
    assert web_org["agent"].get(f"{T}{tid}/").json()["tags"] == ["printer"]
    # A wrong value: the whole page again with the error beside the field, the values kept.
    bad = agent.post(
        f"/tickets/{tid}/fields", {"cf_plan": "", "cf_seats": "7", "cf_since": "2026-02-30"}
    )
    assert bad.status_code == 422
    assert 'id="tf-plan-error"' in bad.text and 'id="tf-since-error"' in bad.text
    assert 'value="7"' in bad.text
    good = agent.post(
        f"/tickets/{tid}/fields", {"cf_plan": "Pro", "cf_seats": "7", "cf_since": "2026-02-28"}
    )
    assert good.status_code == 303
    shown = web_org["agent"].get(f"{T}{tid}/").json()["custom_fields"]
    assert shown == {"plan": "Pro", "seats": 7, "since": "2026-02-28", "vip": False}
    # The requester reads the values, without tags or forms.
    user = sign_in(app, web_org["end_user"].email)
    section = user.page(f"/tickets/{tid}/extras")
    assert "Pro" in section and "printer" not in section and "<form" not in section
    assert user.post(f"/tickets/{tid}/tags", {"tag": "x"}).status_code == 404


def test_queue_filters_and_bulk_tags_and_admin_renames(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    ids = [web_org["end_user"].post(T, json=NEW).json()["id"] for _ in range(3)]
    agent = sign_in(app, web_org["agent"].email)
    agent.page("/queue")
    answer = agent.post("/queue/bulk", {"ids": ids[:2], "action": "add_tag", "tag": "Outage"})
    assert answer.status_code == 303
    page = agent.page("/queue?tag=outage")
    assert all(f'/tickets/{i}"' in page for i in ids[:2]) and f'/tickets/{ids[2]}"' not in page
    assert '<li class="tag">outage</li>' in page
    answer = agent.post("/queue/bulk", {"ids": ids[:1], "action": "remove_tag", "tag": "outage"})
    assert answer.status_code == 303
    assert f'/tickets/{ids[0]}"' not in agent.page("/queue?tag=outage")
    admin = sign_in(app, web_org["admin"].email)
    page = admin.page("/admin/tags")
    assert "outage" in page
    tag_id = int(re.search(r'action="/admin/tags/(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert admin.post(f"/admin/tags/{tag_id}", {"name": "Incident"}).status_code == 303
    assert web_org["agent"].get(f"{T}{ids[1]}/").json()["tags"] == ["incident"]
    assert admin.post(f"/admin/tags/{tag_id}/delete").status_code == 303
    assert web_org["agent"].get(f"{T}{ids[1]}/").json()["tags"] == []
    with hub.session() as s:
        actions = s.scalars(select(TenantAudit.action)).all()
    assert "tag.renamed" in actions and "tag.deleted" in actions


def test_rule_builder_offers_has_tag_and_tag_actions(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    from core.models import AutomationRule

    admin = sign_in(app, web_org["admin"].email)
    page = admin.page("/admin/rules/new")
    assert 'value="tags"' in page and 'value="add_tag"' in page and 'value="remove_tag"' in page
    rule = {
        "name": "VIP to high",
        "trigger": "ticket.created",
        "c0_field": "tags",
        "c0_op": "contains",
        "c0_value": "VIP",
        "a0_type": "set_priority",
        "a0_value": "High",
        "a1_type": "add_tag",
        "a1_value": "Seen by rule",
        "is_active": "on",
        "action": "save",
    }
    saved = admin.post("/admin/rules/new", rule)
    assert saved.status_code == 303, saved.text[:500]
    with hub.session() as s:
        stored = s.scalars(select(AutomationRule)).one()
        assert stored.conditions == [{"field": "tags", "op": "contains", "value": "vip"}]
        assert stored.actions[1] == {"type": "add_tag", "tag": "seen-by-rule"}
        rule_id = stored.id
    assert 'value="seen-by-rule"' in admin.page(f"/admin/rules/{rule_id}")
    bad = admin.post("/admin/rules/new", {**rule, "name": "bad", "c0_op": "eq"})
    assert bad.status_code == 422 and "tags condition" in bad.text
    tid = web_org["agent"].post(T, json={**NEW, "tags": ["vip"]}).json()["id"]
    shown = web_org["agent"].get(f"{T}{tid}/").json()
    assert shown["priority"] == "High" and shown["tags"] == ["seen-by-rule", "vip"]


def test_queue_and_api_list_queries_do_not_grow_with_tags(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    _fields(sign_in(app, web_org["admin"].email))
    agent = sign_in(app, web_org["agent"].email)

    def add(n: int) -> None:
        for i in range(n):
            body = {**NEW, "tags": [f"t{i}", "all"], "custom_fields": {"seats": i}}
            assert web_org["agent"].post(T, json=body).status_code == 201

    def count(run: Any) -> int:
        seen: list[str] = []

        def hit(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
                seen.append(statement)

        engines = {id(e): e for e in (hub.engine, hub.read_engine)}.values()
        for engine in engines:
            event.listen(engine, "before_cursor_execute", hit)
        try:
            run()
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", hit)
        return len(seen)

    add(2)
    agent.page("/queue?tag=all")
    small = (
        count(lambda: agent.page("/queue?tag=all")),
        count(lambda: web_org["agent"].get(T, params={"tag": "all"})),
    )
    add(15)
    large = (
        count(lambda: agent.page("/queue?tag=all")),
        count(lambda: web_org["agent"].get(T, params={"tag": "all"})),
    )
    assert large == small, (small, large)
    assert len(web_org["agent"].get(T, params={"tag": "all"}).json()["results"]) == 17
