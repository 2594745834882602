"""The queue's search in Chromium, by keyboard: a word only in a reply, where it matched under
the subject, a search combined with a status filter; the admin's search page; axe-core at 390
and 1280 px."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]

T = "/api/v1/support/tickets/"


def test_search_the_queue_by_keyboard(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    requester, agent = web_org["end_user"], web_org["agent"]
    made = requester.post(
        T, json={"subject": "Laptop will not charge", "description": "dead", "category": "Other"}
    )
    tid = made.json()["id"]
    requester.post(T, json={"subject": "Other", "description": "unrelated", "category": "Other"})
    agent.post(f"{T}{tid}/comment/", json={"comment": "Send us a screenshot of the battery icon"})
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, agent.email)
        page.goto("/queue")
        page.locator("#f-q").focus()
        page.keyboard.type("screensh*")
        page.locator("summary", has_text="Filters, export").focus()  # the filters are folded
        page.keyboard.press("Enter")
        page.locator("#f-status").select_option("New")
        page.get_by_role("button", name="Apply filters").focus()
        page.keyboard.press("Enter")
        rows = page.locator("#queue-rows tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Laptop will not charge")
        expect(rows.first.locator(".search-match")).to_contain_text("Reply #1:")
        expect(rows.first.locator("mark")).to_have_text("screenshot")
        check(page, "queue-search")
        page.locator("#f-q").fill('"battery icon"')
        page.locator("#f-q").press("Enter")
        expect(page.locator("#queue-rows mark").first).to_contain_text("battery")
        page.locator("#f-q").fill('""')
        page.locator("#f-q").press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("at least one word")
        check(page, "queue-search-refused")
    finally:
        ctx.close()
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/search")
        check(page, "admin-search")
        page.get_by_label("Language of the tickets").select_option("french")
        page.get_by_role("button", name="Save").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="French")).to_be_visible()
    finally:
        ctx.close()
