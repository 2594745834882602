"""Tags and custom fields in Chromium, by keyboard: an admin defines fields on /admin/fields, an
agent tags a ticket and fills its fields on the ticket page, a requester meets a refused value
beside its field on the new-ticket form; /admin/tags renames. axe-core at 390 and 1280 px."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]
T = "/api/v1/support/tickets/"


def test_fields_tags_ticket_page_and_portal(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/fields")
        check(page, "fields-empty")
        page.get_by_role("link", name="New field").focus()
        page.keyboard.press("Enter")
        page.get_by_label("Label").focus()
        page.keyboard.type("Plan")
        page.get_by_label("Key").focus()
        page.keyboard.type("plan")
        page.get_by_label("Type").select_option("dropdown")
        page.get_by_role("button", name="Save field").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#options-error")).to_contain_text("needs options")
        expect(page.get_by_label("Key")).to_have_value("plan")
        check(page, "field-refused")
        page.get_by_label("Options").fill("Free\nPro")
        page.get_by_label("Billing").check()
        page.get_by_label("On the new-ticket form requesters fill in").check()
        page.get_by_role("button", name="Save field").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="added")).to_be_visible()
        page.goto("/admin/fields/new")
        page.get_by_label("Label").fill("Seats")
        page.get_by_label("Key").fill("seats")
        page.get_by_label("Type").select_option("number")
        page.get_by_label("On the new-ticket form requesters fill in").check()
        page.get_by_role("button", name="Save field").click()
        expect(page.locator("main")).to_contain_text("Seats")
        check(page, "fields-list")
    finally:
        ctx.close()

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["end_user"].email)
        page.goto("/tickets/new")
        page.get_by_label("Subject").fill("Charged twice")
        page.get_by_label("Description").fill("Two invoices in May")
        page.get_by_label("Category").select_option("Billing")
        page.get_by_label("Seats").fill("lots")
        page.get_by_role("button", name="Create ticket").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#cf-seats-error")).to_contain_text("number")
        expect(page.locator("#cf-plan-error")).to_contain_text("required")
        expect(page.get_by_label("Seats")).to_have_value("lots")
        expect(page.get_by_label("Subject")).to_have_value("Charged twice")
        check(page, "portal-fields-refused")
        page.get_by_label("Seats").fill("4")
        page.get_by_label("Plan").select_option("Pro")
        page.get_by_role("button", name="Create ticket").click()
        expect(page.locator("h1")).to_contain_text("Charged twice")
        tid = int(page.url.rstrip("/").rsplit("/", 1)[1])
        expect(page.locator("#ticket-extras")).to_contain_text("Pro")
    finally:
        ctx.close()

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["agent"].email)
        page.goto(f"/tickets/{tid}")
        add = page.get_by_label("Add a tag")
        expect(add).to_be_visible()
        add.focus()
        page.keyboard.type("Refund")
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Remove tag refund")).to_be_visible()
        expect(page.get_by_label("Seats")).to_have_value("4")
        check(page, "ticket-tags-fields")
        page.get_by_label("Seats").fill("x")
        page.get_by_role("button", name="Save fields").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#tf-seats-error")).to_contain_text("number")
        check(page, "ticket-fields-refused")
    finally:
        ctx.close()

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/tags")
        expect(page.locator("main")).to_contain_text("refund")
        check(page, "tags-admin")
        box = page.get_by_label("New name for refund")
        box.fill("refunds")
        box.press("Enter")
        expect(page.get_by_role("status").filter(has_text="renamed")).to_be_visible()
        expect(page.get_by_label("New name for refunds")).to_be_visible()
    finally:
        ctx.close()
