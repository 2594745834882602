"""The outbox page in Chromium: a failed event retried by keyboard; axe-core at 390 and 1280 px."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in
from tests.hub.web.samples import failed_event

__all__ = ["browser"]


def test_retry_a_failed_event_by_keyboard(browser, live_server, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    event_id = failed_event(hub, web_org["admin"].tenant_id)
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/outbox")
        check(page, "outbox-failed")
        page.get_by_role("button", name=f"Retry event {event_id}").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="queued again")).to_be_visible()
        check(page, "outbox-after-retry")
    finally:
        ctx.close()
