"""Never lose a reply, in Chromium with two agents on one ticket: the draft saved as one types
and restored after a reload, a concurrent field change refused with the other's change shown and
the typed text kept, "Save anyway" on top, a reply kept through a rejected attachment, "Send and
set Pending" in one go; by keyboard; axe-core at 390 and 1280 px on each state."""

from __future__ import annotations

from tests.hub.web.browser import _context, browser, check, sign_in

__all__ = ["browser"]


def _send(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=name, exact=True).focus()
    page.keyboard.press("Enter")


def test_two_agents_on_one_ticket_lose_nothing(browser, live_server, web_org, hub) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect
    from sqlalchemy import func, select

    from core.models import ReplyDraft, Ticket

    made = web_org["end_user"].post(
        "/api/v1/support/tickets/",
        json={"subject": "Printer jams", "description": "Every page", "category": "Other"},
    )
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    first, second = _context(browser, live_server), _context(browser, live_server)
    try:
        a, b = first.new_page(), second.new_page()
        sign_in(a, web_org["agent"].email)
        sign_in(b, web_org["admin"].email)
        a.goto(f"/tickets/{tid}")
        b.goto(f"/tickets/{tid}")
        # Agent A types: the draft is saved (a polite status) and comes back after a reload.
        a.get_by_label("Message").focus()
        a.keyboard.type("Please clean the rollers")
        expect(a.locator("#draft-status")).to_contain_text("Draft saved")
        a.reload()
        expect(a.get_by_label("Message")).to_have_value("Please clean the rollers")
        expect(a.locator("#draft-status")).to_contain_text("Draft restored")
        check(a, "reply-draft-restored")
        # Agent B changes the priority meanwhile.
        b.get_by_label("Priority", exact=True).select_option("High")
        _send(b, "Save changes")
        expect(b.locator(".flash")).to_contain_text("updated")
        # A sets a priority with the reply: refused, B's change shown, A's text kept.
        a.get_by_label("Set priority").select_option("Low")
        _send(a, "Send and set Pending")
        conflict = a.locator("#conflict")
        expect(conflict).to_contain_text("Someone else changed this ticket")
        expect(conflict.locator("tbody tr").first).to_contain_text("Priority")
        expect(conflict.locator("tbody tr").first).to_contain_text("High")
        expect(conflict).to_contain_text(web_org["admin"].email.split("@")[0])
        expect(a.get_by_label("Message")).to_have_value("Please clean the rollers")
        expect(a.get_by_label("Set priority")).to_have_value("Low")
        check(a, "reply-conflict")
        with hub.session() as s:
            assert s.get(Ticket, tid).priority == "High"  # type: ignore[union-attr]
        # A rejected attachment: the message, the choices kept, the file named.
        a.get_by_label("Attach files").set_input_files(
            files=[
                {
                    "name": "tool.exe",
                    "mimeType": "application/octet-stream",
                    "buffer": b"MZ\x90\x00binary",
                }
            ]
        )
        _send(a, "Save anyway")
        expect(a.locator("#reply-error")).to_contain_text("tool.exe")
        expect(a.get_by_label("Message")).to_have_value("Please clean the rollers")
        expect(a.locator("#reselect")).to_contain_text("tool.exe")
        check(a, "reply-rejected-file")
        # Send and set Pending: the reply and the status in one commit; the draft is gone.
        _send(a, "Send and set Pending")
        expect(a.locator(".flash")).to_contain_text("Reply sent")
        expect(a.locator("#thread")).to_contain_text("Please clean the rollers")
        expect(a.get_by_label("Message")).to_have_value("")
        with hub.session() as s:
            ticket = s.get(Ticket, tid)
            assert ticket is not None and ticket.status == "Pending"
            assert ticket.priority == "Low"
            assert s.scalar(select(func.count()).select_from(ReplyDraft)) == 0
        check(a, "reply-sent")
    finally:
        first.close()
        second.close()
