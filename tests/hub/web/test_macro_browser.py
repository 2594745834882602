"""Macros in Chromium: an admin writes one by keyboard (a refused placeholder shown beside its
field, the text kept), previews it on a ticket; an agent fills it into a reply, edits and sends;
axe-core at 390 and 1280 px on each page."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]


def test_write_preview_fill_and_send_a_macro_by_keyboard(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ticket = web_org["end_user"].post(
        "/api/v1/support/tickets/",
        json={"subject": "Locked out", "description": "Cannot sign in", "category": "Access"},
    )
    assert ticket.status_code == 201, ticket.text
    tid = ticket.json()["id"]
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/macros")
        check(page, "macros-empty")
        page.get_by_role("link", name="New macro").focus()
        page.keyboard.press("Enter")
        page.get_by_label("Name").focus()
        page.keyboard.type("Unlocked")
        page.keyboard.press("Tab")
        page.keyboard.type("Hi {{requester.name}}, your account is unlocked.")
        page.get_by_label("Status").select_option("Pending")
        page.get_by_role("button", name="Save", exact=True).focus()
        page.keyboard.press("Enter")
        expect(page.locator("#body-error")).to_contain_text("{requester_name}")
        expect(page.get_by_label("Reply text")).to_have_value(
            "Hi {{requester.name}}, your account is unlocked."
        )
        check(page, "macro-refused")
        page.get_by_label("Reply text").fill("Hi {requester_name}, your account is unlocked.")
        page.get_by_role("button", name="Save", exact=True).focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
        page.get_by_label("Ticket number").focus()
        page.keyboard.type(str(tid))
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_contain_text("your account is unlocked")
        check(page, "macro-preview")
    finally:
        ctx.close()

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["agent"].email)
        page.goto(f"/tickets/{tid}")
        page.get_by_label("Macro", exact=True).select_option(label="Unlocked")
        page.get_by_role("button", name="Fill in the reply").focus()
        page.keyboard.press("Enter")
        reply = page.locator("#comment")
        expect(reply).to_have_value(
            f"Hi {web_org['end_user'].email.split('@')[0]}, your account is unlocked."
        )
        expect(page.locator("#r-status")).to_have_value("Pending")
        check(page, "ticket-macro-filled")
        reply.focus()
        page.keyboard.press("End")
        page.keyboard.type(" Please sign in again.")
        page.get_by_role("button", name="Send", exact=True).focus()
        page.keyboard.press("Enter")
        expect(page.locator("#thread")).to_contain_text("Please sign in again.")
        expect(page.locator(".facts")).to_contain_text("Pending")
    finally:
        ctx.close()
