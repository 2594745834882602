"""Agents and assignment in Chromium: an admin sets an agent's skills and limit by keyboard, and
the agent switches to away from the header; axe-core at 390 and 1280 px."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]


def test_agents_page_and_the_away_switch_by_keyboard(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/agents")
        check(page, "agents")
        page.goto(f"/admin/agents/{web_org['agent'].user_id}")
        page.get_by_label("Billing").select_option("3")
        page.get_by_label("Most open tickets at once").fill("8")
        check(page, "agent-edit")
        page.get_by_role("button", name="Save", exact=True).focus()
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_contain_text("Billing 3")
        expect(page.locator("main")).to_contain_text("of at most 8")
    finally:
        ctx.close()
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["agent"].email)
        page.get_by_role("button", name="Available for new tickets: switch to away").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Away: switch to available")).to_be_visible()
        check(page, "queue-away")
    finally:
        ctx.close()
