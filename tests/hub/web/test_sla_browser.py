"""SLA pages in Chromium: a policy written by keyboard with public holidays imported; axe-core at
390 and 1280 px on the list, the editor and the "which policy" answer."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]


def test_write_an_sla_policy_by_keyboard(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/sla")
        check(page, "sla-list")
        page.get_by_role("link", name="New policy").focus()
        page.keyboard.press("Enter")
        page.get_by_label("Category").select_option("Billing")
        page.get_by_label("First response").fill("90")
        page.get_by_label("Country code").focus()
        page.keyboard.type("FR")
        page.get_by_role("button", name="Add the public holidays").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="public holidays added")).to_be_visible()
        expect(page.get_by_label("Holidays (closed all day)")).to_contain_text(
            "2026-07-14 National Day"
        )
        check(page, "sla-editor")
        page.get_by_role("button", name="Save policy").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
        page.get_by_label("Priority").select_option("High")
        page.get_by_label("Category").select_option("Billing")
        page.get_by_role("button", name="Check").focus()
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_contain_text("first response within 90 min")
        check(page, "sla-which")
    finally:
        ctx.close()
