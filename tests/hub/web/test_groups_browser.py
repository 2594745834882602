"""Agent groups in Chromium, by keyboard: an admin creates two tiers with their members, a refused
name stays in its field; an agent moves a ticket into Tier 1, escalates it to Tier 2 and finds it in
the group queue; axe-core at 390 and 1280 px on every page on the way."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]


def _press(page, role: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role(role, name=name).focus()
    page.keyboard.press("Enter")


def test_groups_and_tier_escalation_by_keyboard(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    agent = web_org["agent"]
    r = web_org["end_user"].post(
        "/api/v1/support/tickets/",
        json={
            "subject": "Database is slow",
            "description": "Since noon",
            "category": "Technical Issue",
        },
    )
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/groups")
        check(page, "groups-empty")
        for name, tier in (("Tier 1", "1"), ("Tier 2", "2")):
            _press(page, "link", "New group")
            page.get_by_label("Name").fill(name)
            page.get_by_label("Tier").fill(tier)
            page.get_by_label(agent.email.split("@")[0], exact=False).check()
            _press(page, "button", "Create group")
            expect(page.get_by_role("status").filter(has_text="created")).to_be_visible()
        check(page, "groups-list")
        # A second group of the same name is refused, the typed values kept beside the reason.
        _press(page, "link", "New group")
        page.get_by_label("Name").fill("tier 1")
        page.get_by_label("Tier").fill("7")
        _press(page, "button", "Create group")
        expect(page.locator("#g-name-error")).to_contain_text("already a group")
        expect(page.get_by_label("Tier")).to_have_value("7")
        check(page, "group-refused")
    finally:
        ctx.close()

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, agent.email)
        page.goto(f"/tickets/{tid}")
        page.get_by_label("Agent group").select_option(label="Tier 1")
        _press(page, "button", "Move to group")
        expect(page.get_by_role("status").filter(has_text="another group")).to_be_visible()
        expect(page.locator("#facts")).to_contain_text("Tier 1")
        check(page, "ticket-grouped")
        page.get_by_label("Escalate to").select_option(label="Escalate to tier 2: Tier 2")
        _press(page, "button", "Escalate")
        expect(page.locator("#facts")).to_contain_text("Tier 2")
        page.goto("/queue")
        page.locator("summary", has_text="Filters, export").focus()  # the filters are folded
        page.keyboard.press("Enter")
        page.locator("#f-group").select_option(label="Tier 2")
        _press(page, "button", "Apply filters")
        expect(page.locator("main")).to_contain_text("Database is slow")
        check(page, "group-queue")
    finally:
        ctx.close()
