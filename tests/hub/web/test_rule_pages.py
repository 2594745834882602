"""Automation rules in the console: built from the engine's own conditions and actions,
validated on save with the reason shown and the form kept, previewed against the open tickets,
switched on and off, reordered and deleted; admins of the tenant only."""

from __future__ import annotations

from sqlalchemy import select

from core.models import AutomationRule, Ticket
from core.reports.models import ReportFact
from hub import outbox
from tests.hub.web.conftest import sign_in

RULE = {
    "name": "Billing is high priority",
    "trigger": "ticket.created",
    "hours": "",
    "is_active": "on",
    "c0_field": "category",
    "c0_op": "eq",
    "c0_value": "Billing",
    "c1_field": "subject",
    "c1_op": "contains",
    "c1_value": "invoice",
    "a0_type": "set_priority",
    "a0_value": "High",
    "a1_type": "internal_note",
    "a1_text": "Billing rule: check the invoice number.",
    "action": "save",
}


def _ticket(member, subject, category="Billing"):  # type: ignore[no-untyped-def]
    r = member.post(
        "/api/v1/support/tickets/",
        json={"subject": subject, "description": "d", "category": category},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_build_preview_save_and_run_a_rule(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    old = _ticket(web_org["end_user"], "Invoice 12 is wrong")
    _ticket(web_org["end_user"], "Cannot sign in", category="Access")
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/rules/new")
    preview = admin.post("/admin/rules/new", {**RULE, "action": "preview"})
    assert preview.status_code == 200
    assert "1 of the 2 newest open tickets match now" in preview.text
    assert f"#{old} Invoice 12 is wrong" in preview.text
    with hub.session() as s:
        assert s.scalar(select(AutomationRule.id)) is None, "a preview saves nothing"
    saved = admin.post("/admin/rules/new", RULE)
    assert saved.status_code == 303, saved.text[:400]
    with hub.session() as s:
        rule = s.scalars(select(AutomationRule)).one()
        assert rule.conditions == [
            {"field": "category", "op": "eq", "value": "Billing"},
            {"field": "subject", "op": "contains", "value": "invoice"},
        ]
        assert rule.actions[0] == {"type": "set_priority", "value": "High"}
        rule_id = rule.id
    new = _ticket(web_org["end_user"], "Second invoice missing")
    outbox.drain(hub)
    with hub.session() as s:
        assert s.get(Ticket, new).priority == "High"  # type: ignore[union-attr]
        # The rule ran in a savepoint inside the creating transaction: one report fact each.
        facts = s.scalars(select(ReportFact.ticket_id).order_by(ReportFact.ticket_id)).all()
        assert facts == sorted(s.scalars(select(Ticket.id)).all())
    # The editor shows the saved rule as it was written.
    page = admin.page(f"/admin/rules/{rule_id}")
    assert 'value="invoice"' in page and "Billing rule: check the invoice number." in page


def test_a_refused_rule_keeps_the_form_and_says_why(app, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/rules/new")
    bad = admin.post("/admin/rules/new", {**RULE, "a0_value": "Urgent"})
    assert bad.status_code == 422
    assert "set_priority.value must be one of Low, Medium, High, Critical" in bad.text
    assert 'value="Billing rule: check the invoice number."' in bad.text
    none = admin.post("/admin/rules/new", {**RULE, "a0_type": "", "a1_type": ""})
    assert none.status_code == 422 and "actions must be a non-empty list" in none.text
    hours = admin.post("/admin/rules/new", {**RULE, "trigger": "time.no_update", "hours": "x"})
    assert hours.status_code == 422 and "hours must be a number" in hours.text
    with hub.session() as s:
        assert s.scalar(select(AutomationRule.id)) is None


def test_switch_reorder_delete_for_admins_only(app, web_org, hub, make_tenant, make_member) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    for name in ("First", "Second"):
        admin.page("/admin/rules/new")
        assert admin.post("/admin/rules/new", {**RULE, "name": name}).status_code == 303
    with hub.session() as s:
        first, second = (
            r.id for r in s.scalars(select(AutomationRule).order_by(AutomationRule.position))
        )
    admin.page("/admin/rules")
    assert admin.post(f"/admin/rules/{second}/move", {"step": "up"}).status_code == 303
    listing = admin.page("/admin/rules")
    assert listing.index(">Second<") < listing.index(">First<")
    assert admin.post(f"/admin/rules/{first}/toggle").status_code == 303
    with hub.session() as s:
        assert s.get(AutomationRule, first).is_active is False  # type: ignore[union-attr]
    for role in ("agent", "manager", "end_user"):
        web = sign_in(app, web_org[role].email)
        assert web.client.get("/admin/rules").status_code == 404, role
        web.page("/notifications")
        assert web.post(f"/admin/rules/{first}/delete").status_code == 404
    other = make_member(make_tenant(), "admin", password="correct horse battery staple")
    web = sign_in(app, other.email)
    assert web.client.get(f"/admin/rules/{first}").status_code == 404
    web.page("/admin/rules")
    assert web.post(f"/admin/rules/{first}/toggle").status_code == 404
    assert admin.post(f"/admin/rules/{first}/delete").status_code == 303
    with hub.session() as s:
        assert s.get(AutomationRule, first) is None
