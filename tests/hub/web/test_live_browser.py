"""Presence and typing in Chromium: two staff on one ticket see each other live, typing is
announced and lapses, the requester never sees staff presence; axe-core at 390 and 1280 px with
the presence bar shown."""

from __future__ import annotations

import re

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]


def test_two_agents_on_one_ticket_see_presence_and_typing(  # type: ignore[no-untyped-def]
    browser, live_server, web_org
) -> None:
    from playwright.sync_api import expect

    created = web_org["end_user"].client.post(
        "/api/v1/support/tickets/",
        headers=web_org["end_user"].headers,
        json={"subject": "Two agents, one ticket", "description": "Who is on it?"},
    )
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    agent_ctx, admin_ctx = _context(browser, live_server), _context(browser, live_server)
    user_ctx = _context(browser, live_server)
    agent, admin, user = agent_ctx.new_page(), admin_ctx.new_page(), user_ctx.new_page()
    try:
        sign_in(agent, web_org["agent"].email)
        sign_in(admin, web_org["admin"].email)
        sign_in(user, web_org["end_user"].email)
        agent.goto(f"/tickets/{tid}")
        line = agent.locator("#presence-text")
        expect(line).to_have_text("No one else is viewing this ticket.")
        expect(line).to_have_attribute("aria-live", "polite")
        admin.goto(f"/tickets/{tid}")
        user.goto(f"/tickets/{tid}")
        expect(line).to_contain_text("Also viewing:")
        expect(admin.locator("#presence-text")).to_contain_text("Also viewing:")
        # The admin types a reply (keyboard only): the agent is told, and then it lapses.
        admin.locator("#comment").focus()
        admin.keyboard.type("Looking at the logs now")
        expect(line).to_contain_text(re.compile(r"is typing a reply\."))
        check(agent, "ticket-presence")
        expect(line).not_to_contain_text("typing", timeout=20_000)
        # The requester's page has no presence bar and never hears of staff.
        assert user.locator("#presence").count() == 0
        # The admin leaves: the agent is alone again.
        admin.goto("/queue")
        expect(line).to_have_text("No one else is viewing this ticket.")
    finally:
        for ctx in (agent_ctx, admin_ctx, user_ctx):
            ctx.close()
