"""Automation rules in Chromium: a rule built by keyboard, previewed against the open tickets and
saved; axe-core at 390 and 1280 px on the list and the builder."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]


def test_build_preview_and_save_a_rule_by_keyboard(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    r = web_org["end_user"].post(
        "/api/v1/support/tickets/",
        json={"subject": "Invoice twice", "description": "d", "category": "Billing"},
    )
    assert r.status_code == 201, r.text
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/rules")
        check(page, "rules-empty")
        page.get_by_role("link", name="New rule").focus()
        page.keyboard.press("Enter")
        page.get_by_label("Name").fill("Billing first")
        page.get_by_label("Condition 1: field").select_option("category")
        page.locator("#c0-value").fill("Billing")
        page.get_by_label("Action 1", exact=True).select_option("set_priority")
        page.locator("#a0-value").fill("High")
        page.get_by_role("button", name="Which open tickets match now?").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="1 of the 1 newest")).to_be_visible()
        check(page, "rule-preview")
        page.get_by_role("button", name="Save rule").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Billing first")
        check(page, "rules-list")
    finally:
        ctx.close()
