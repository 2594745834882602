"""The agent queue in Chromium: SLA countdowns and the at-risk state under a frozen clock, compact
rows (20 and more on 1280 x 900, kept per person), the phone layout (first ticket above the fold,
filters folded), the keyboard shortcuts by keyboard alone (never while typing), the skip link,
and axe-core at 390 and 1280 px."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import FrozenClock, set_clock
from core.models import Ticket
from core.permissions import Actor
from core.services.tickets import Changes, create_ticket, update_ticket
from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]


def _actor(member) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(tenant_id=member.tenant_id, user_id=member.user_id, role=member.role)


def _open(hub, member, subject: str, priority: str = "Low") -> int:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        t = create_ticket(
            s,
            _actor(member),
            subject=subject,
            description="d",
            category="Technical Issue",
            priority=priority,
        )
        return t.id


def _row(page, ticket_id: int):  # type: ignore[no-untyped-def]
    return page.locator(f"#queue-rows tr[data-ticket='{ticket_id}']")


def _rows_in_view(page) -> int:  # type: ignore[no-untyped-def]
    return int(
        page.evaluate(
            """() => Array.from(document.querySelectorAll('#queue-rows tr[data-ticket]'))
                 .filter(r => { const b = r.getBoundingClientRect();
                                return b.top >= 0 && b.bottom <= window.innerHeight; }).length"""
        )
    )


def test_countdowns_at_risk_density_and_phone(browser, live_server, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    clock = FrozenClock(datetime.now(UTC).replace(second=0, microsecond=0))
    set_clock(clock)
    requester, agent = web_org["end_user"], web_org["agent"]
    breached = _open(hub, requester, "Everything is down", "Critical")  # response due in 60 min
    for n in range(28):
        _open(hub, requester, f"Question {n}")
    clock.advance(minutes=55)
    paused = _open(hub, requester, "Waiting on the customer", "Critical")
    with hub.session() as s:
        for status in ("In Progress", "Pending"):
            update_ticket(s, _actor(agent), s.get(Ticket, paused), Changes(status=status))
    risky = _open(hub, requester, "Almost due", "Critical")
    clock.advance(minutes=50)  # breached: 45 min ago; risky: 10 of 60 min left; paused: 1 h left

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, agent.email)
        page.goto("/queue")
        expect(_row(page, breached)).to_contain_text("breached 45 min ago")
        expect(_row(page, breached)).to_contain_text("Breached")
        expect(_row(page, risky)).to_contain_text("10 min left")
        expect(_row(page, risky).locator(".sla-word")).to_have_text("⚠ At risk")
        expect(_row(page, risky).get_by_role("progressbar")).to_have_attribute(
            "aria-label", "83% of the first response target used"
        )
        expect(_row(page, paused)).to_contain_text("paused, 1 h left")
        expect(_row(page, paused)).not_to_contain_text("No SLA running")
        # The absolute due moment rides along as <time datetime> with a tooltip.
        due = _row(page, risky).locator("time.sla-left")
        assert due.get_attribute("datetime") and "due" in (due.get_attribute("title") or "")
        # A colour as well as the word: the at-risk badge is amber, not the on-track look.
        colour = (
            _row(page, risky)
            .locator(".sla-word")
            .evaluate("e => getComputedStyle(e).backgroundColor")
        )
        assert colour == "rgb(254, 243, 199)", colour
        check(page, "queue-countdowns")

        # Compact rows by default: at least 20 tickets on a 1280 x 900 screen.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/queue")
        compact = _rows_in_view(page)
        assert compact >= 20, compact
        page.get_by_role("button", name="Comfortable rows").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Compact rows")).to_be_visible()
        page.goto("/queue")  # remembered for this person
        assert _rows_in_view(page) < compact
        page.get_by_role("button", name="Compact rows").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Comfortable rows")).to_be_visible()

        # The "At risk" filter lists only the ticket that is at risk.
        page.goto("/queue?breached=risk")
        expect(page.locator("#queue-rows tr[data-ticket]")).to_have_count(1)
        expect(_row(page, risky)).to_be_visible()

        # On a phone the list comes first: the first ticket is above the fold, filters folded.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/queue")
        first = page.locator("#queue-rows a.ticket-link").first
        box = first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, box
        expect(page.locator("#f-status")).to_be_hidden()
        page.get_by_text("Filters, export, save as a view").click()
        expect(page.locator("#f-status")).to_be_visible()

        # The ticket page says the same.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"/tickets/{paused}")
        expect(page.locator("#sla-heading + p")).to_contain_text("paused, 1 h left")
        page.goto(f"/tickets/{risky}")
        expect(page.locator("#facts")).to_contain_text("At risk")
        check(page, "ticket-countdown")
    finally:
        ctx.close()
        set_clock(None)


def _announced(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator("#live-announcer").text_content() or "")


def test_queue_and_ticket_shortcuts_by_keyboard(browser, live_server, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    requester, agent = web_org["end_user"], web_org["agent"]
    ids = [_open(hub, requester, f"Printer {n}") for n in range(3)]
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, agent.email)
        page.goto("/queue")
        # The skip link: Tab, Tab, Enter, Tab reaches the first ticket (3 Tab presses).
        tabs = 0
        for _ in range(5):
            page.keyboard.press("Tab")
            tabs += 1
            focused = page.evaluate("document.activeElement.textContent.trim()")
            if focused == "Skip to the first ticket":
                page.keyboard.press("Enter")
            if page.evaluate("document.activeElement.classList.contains('ticket-link')"):
                break
        assert page.evaluate("document.activeElement.classList.contains('ticket-link')")
        assert tabs <= 5, tabs
        first_id = int(page.evaluate("document.activeElement.closest('tr').dataset.ticket"))
        assert first_id == ids[-1]  # newest first

        page.keyboard.press("j")
        expect(page.locator("#live-announcer")).to_contain_text("Ticket 2 of 3")
        assert page.evaluate("document.activeElement.closest('tr').dataset.ticket") == str(ids[1])
        page.keyboard.press("k")
        expect(page.locator("#live-announcer")).to_contain_text("Ticket 1 of 3")
        page.keyboard.press("x")
        expect(page.locator("#live-announcer")).to_contain_text("Selected")
        expect(page.locator(f"#sel-{ids[-1]}")).to_be_checked()
        page.keyboard.press("a")
        expect(page.locator("#live-announcer")).to_contain_text("1 of 1 tickets updated")
        expect(_row(page, ids[-1])).not_to_contain_text("Unassigned")

        # "/" goes to the search; keys typed there stay text.
        page.keyboard.press("/")
        expect(page.get_by_label("Search", exact=True)).to_be_focused()
        page.keyboard.type("jk?")
        expect(page.get_by_label("Search", exact=True)).to_have_value("jk?")
        expect(page.locator("#shortcuts")).not_to_be_visible()

        # "?" opens the list as a modal dialog: focus stays inside, Escape closes it.
        page.locator("a.ticket-link").first.focus()
        page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(dialog).to_be_visible()
        for _ in range(4):
            page.keyboard.press("Tab")
            assert page.evaluate("!!document.activeElement.closest('dialog')")
        check(page, "queue-shortcuts")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

        # "o" opens the current ticket.
        page.locator("a.ticket-link").first.focus()
        page.keyboard.press("o")
        page.wait_for_url(f"**/tickets/{ids[-1]}")

        # The ticket page: r reply, n note, s status, a assign to me, u back to the queue.
        page.keyboard.press("r")
        expect(page.locator("#comment")).to_be_focused()
        expect(page.locator("#kind-public")).to_be_checked()
        page.keyboard.type("u n s")  # typing, not shortcuts
        expect(page.locator("#comment")).to_have_value("u n s")
        assert page.url.endswith(f"/tickets/{ids[-1]}")
        page.reload()
        page.keyboard.press("n")
        expect(page.locator("#kind-internal")).to_be_checked()
        expect(page.locator("#live-announcer")).to_contain_text("Internal note")
        page.reload()
        page.keyboard.press("s")
        expect(page.locator("#p-status")).to_be_focused()
        page.reload()
        page.keyboard.press("Control+u")  # a modifier: not a shortcut
        assert page.url.endswith(f"/tickets/{ids[-1]}")
        page.keyboard.press("u")
        page.wait_for_url("**/queue")
        page.goto(f"/tickets/{ids[0]}")
        page.keyboard.press("a")
        expect(page.locator("#facts")).to_contain_text(agent.email.split("@")[0], ignore_case=True)
        page.keyboard.press("?")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text("Reply")
        check(page, "ticket-shortcuts")
    finally:
        ctx.close()
