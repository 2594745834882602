"""Likely duplicates in Chromium: the flag on both tickets' pages ("Possible duplicate of #N
<subject> — reason — [Merge into #N] [Dismiss]"), dismissed and merged by keyboard alone, and
the admin's settings page; axe-core at 390 and 1280 px on each."""

from __future__ import annotations

import re

import pytest

from hub import outbox
from tests.hub.web.browser import _context, browser, check, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
__all__ = ["browser"]

VPN = (
    "VPN drops every hour",
    "Since Monday my VPN drops every hour; GlobalProtect says gateway disconnected.",
)
VPN_AGAIN = (
    "vpn keeps disconnecting",
    "my vpn keeps disconnecting once an hour, globalprotect gateway disconnected",
)
PRINTER = (
    "Printer on 3rd floor jams every page",
    "The HP printer by the kitchen on the third floor jams on every page.",
)
PRINTER_AGAIN = (
    "3rd floor printer still jamming",
    "The third floor printer near the kitchen still jams on every page.",
)


def _open(member, subject: str, body: str) -> int:  # type: ignore[no-untyped-def]
    r = member.post(
        "/api/v1/support/tickets/",
        json={"subject": subject, "description": body, "category": "Technical Issue"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_flag_on_both_tickets_dismiss_and_merge_by_keyboard(  # type: ignore[no-untyped-def]
    browser, live_server, web_org, web_hub
) -> None:
    from playwright.sync_api import expect

    user = web_org["end_user"]
    vpn, vpn_again = _open(user, *VPN), _open(user, *VPN_AGAIN)
    printer, printer_again = _open(user, *PRINTER), _open(user, *PRINTER_AGAIN)
    outbox.drain(web_hub)
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["agent"].email)
        page.goto(f"/tickets/{vpn_again}")
        flag = page.locator(".dup-flag")
        expect(flag).to_contain_text(f"Possible duplicate of #{vpn} {VPN[0]}")
        expect(flag).to_contain_text("same requester")
        expect(flag.get_by_role("button", name=f"Merge into #{vpn}")).to_be_visible()
        check(page, "ticket-duplicate-flag")
        page.goto(f"/tickets/{vpn}")
        expect(page.locator(".dup-flag")).to_contain_text(
            f"Possible duplicate of #{vpn_again} {VPN_AGAIN[0]}"
        )
        # Dismiss by keyboard: the flag leaves both tickets.
        page.get_by_role("button", name=re.compile("^Dismiss")).focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="not a duplicate")).to_be_visible()
        expect(page.locator(".dup-flag")).to_have_count(0)
        check(page, "ticket-duplicate-dismissed")
        page.goto(f"/tickets/{vpn_again}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(VPN_AGAIN[0])
        expect(page.locator(".dup-flag")).to_have_count(0)
        # Merge by keyboard: this ticket goes into the other, whose page opens.
        page.goto(f"/tickets/{printer_again}")
        button = page.get_by_role("button", name=f"Merge into #{printer}")
        button.focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(f"/tickets/{printer}$"))
        expect(page.get_by_role("status").filter(has_text="merged")).to_be_visible()
        expect(page.locator(".dup-flag")).to_have_count(0)
        check(page, "ticket-duplicate-merged")
    finally:
        ctx.close()
    # The requester never sees a flag.
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, user.email)
        page.goto(f"/tickets/{printer}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(PRINTER[0])
        expect(page.locator("#ticket-duplicates")).to_have_count(0)
    finally:
        ctx.close()


def test_admin_sets_the_window_by_keyboard(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/duplicates")
        check(page, "admin-duplicates")
        page.get_by_label("Days back").focus()
        page.keyboard.press("Control+a")
        page.keyboard.type("21")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="21 days back")).to_be_visible()
        expect(page.get_by_label("Days back")).to_have_value("21")
        check(page, "admin-duplicates-saved")
    finally:
        ctx.close()
