"""Organisations and people in Chromium: an admin adds an organisation by keyboard, an agent
reads it, a person's page, opens a ticket on behalf of a requester (the address suggested as
they type) and merges two people with the keyboard alone; axe-core at 390 and 1280 px on each
page."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]

T = "/api/v1/support/tickets/"


def test_organisations_people_and_merge_by_keyboard(
    browser, live_server, web_org, make_member
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    tenant = (web_org["agent"].tenant_id, web_org["agent"].tenant_slug)
    old = make_member(tenant, "end_user", email="robin@old-co.test")
    new = make_member(tenant, "end_user", email="robin@new-co.test")
    tid = old.post(
        T,
        json={
            "subject": "Badge broken",
            "description": "It does not open the door.",
            "category": "Access",
        },
    ).json()["id"]

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/organisations")
        check(page, "organisations-empty")
        page.locator("#org-name").focus()
        page.keyboard.type("Old Co")
        page.keyboard.press("Tab")
        page.keyboard.type("gmail.com")
        page.get_by_role("button", name="Add organisation").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#org-error")).to_contain_text("free-mail")
        check(page, "organisation-refused")
        page.get_by_label("Email domains").fill("old-co.test")
        page.get_by_role("button", name="Add organisation").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Old Co")
        expect(page.locator("main")).to_contain_text("robin@old-co.test")
        expect(page.locator("main")).to_contain_text(f"#{tid} Badge broken")
        check(page, "organisation")
        page.goto("/organisations")
        check(page, "organisations")
    finally:
        ctx.close()

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["agent"].email)
        page.goto(f"/tickets/{tid}")
        page.locator("#facts").get_by_role("link").first.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text("robin")
        expect(page.locator("main")).to_contain_text("Email: robin@old-co.test")
        expect(page.locator("main")).to_contain_text("Old Co")
        check(page, "person")
        # On behalf: the requester's address is suggested as the agent types.
        page.get_by_role("link", name="Open a ticket for them").focus()
        page.keyboard.press("Enter")
        field = page.get_by_label("Requester's email")
        expect(field).to_have_value("robin@old-co.test")
        field.fill("")
        field.focus()
        page.keyboard.type("robin@new")
        expect(page.locator("#requester-options option")).to_have_count(1)
        field.fill("robin@new-co.test")
        page.get_by_label("Subject").fill("Second badge")
        page.get_by_label("Description").fill("Also broken.")
        page.get_by_label("Category").select_option("Access")
        check(page, "new-ticket-on-behalf")
        page.get_by_role("button", name="Create ticket").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#facts")).to_contain_text(new.email.split("@")[0])
        # Merge, keyboard only: the address, review, confirm.
        page.goto(f"/people/{old.user_id}")
        page.get_by_label("Address of the person who remains").focus()
        page.keyboard.type("robin@new-co.test")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Merge two people")
        expect(page.locator("main")).to_contain_text("1 tickets")
        check(page, "person-merge")
        page.get_by_role("button", name="Merge into robin@new-co.test").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="Merged")).to_be_visible()
        expect(page.locator("main")).to_contain_text(f"#{tid} Badge broken")
        expect(page.locator("main")).to_contain_text("Second badge")
        check(page, "person-merged")
    finally:
        ctx.close()
