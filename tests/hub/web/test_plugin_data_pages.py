"""Plugins' data pages (``hub_admin_tables`` / ``hub_admin_action``), with the email plugin's:
parked mail with its reason and headers, released into a ticket or deleted (confirmed first);
bouncing addresses cleared by hand; another tenant's rows never shown nor touched; every action
audited; axe-core and the keyboard in Chromium."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sqlalchemy import select

from core.clock import now
from core.models import Audit, Ticket
from plugins.email.delivery import park
from plugins.email.models import FailingAddress, ParkedMessage
from tests.hub.web.browser import _context, browser, check, sign_in
from tests.hub.web.conftest import sign_in as web_sign_in

__all__ = ["browser"]

PAGE = "/admin/data/email/parked"


def _raw(sender: str, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@acme.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash(subject))}@mail.example>"
    msg.set_content("The printer is on fire again.\n")
    return bytes(msg)


def _parked(hub, tenant_id, raw: bytes, reason: str) -> int:  # type: ignore[no-untyped-def]
    park(hub, tenant_id, raw, source="smtp", reason=reason)
    with hub.session() as s:
        return int(
            s.scalars(
                select(ParkedMessage.id)
                .where(ParkedMessage.tenant_id == tenant_id)
                .order_by(ParkedMessage.id.desc())
            ).first()
        )


def test_parked_mail_released_deleted_and_addresses_cleared(app, hub, web_org, make_tenant) -> None:  # type: ignore[no-untyped-def]
    tenant_id = web_org["admin"].tenant_id
    hub.set_enabled(tenant_id, "email", True, reason="test")
    theirs = make_tenant()
    hub.set_enabled(theirs[0], "email", True, reason="test")
    good = _parked(
        hub, tenant_id, _raw("ana@customer.example", "Printer on fire"), "the database was down"
    )
    senderless = _parked(hub, tenant_id, _raw("nobody", "Who am I"), "no sender address")
    gone = _parked(hub, tenant_id, _raw("bo@customer.example", "Old spam"), "looks like spam")
    other = _parked(hub, theirs[0], _raw("eve@their.example", "Their secret"), "theirs")
    with hub.session() as s:
        s.add(
            FailingAddress(
                tenant_id=tenant_id, address="bounced@customer.example", last_bounce_at=now()
            )
        )

    admin = web_sign_in(app, web_org["admin"].email)
    home = admin.page("/admin")
    assert 'href="/admin/data/email/parked"' in home and "3 entries" in home
    page = admin.page(PAGE)
    assert "Printer on fire" in page and "the database was down" in page
    assert "Message-ID" in page, "the headers are shown"
    assert "The printer is on fire again." not in page, "never the body"
    assert "Their secret" not in page

    r = admin.post(PAGE, {"row": str(good), "action": "release"})
    assert r.status_code == 303
    page = admin.page(PAGE)
    assert "Released: ticket #" in page
    assert f'name="row" value="{good}"' not in page, "the released message left the table"
    with hub.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id)).one()
        assert ticket.subject == "Printer on fire"
        assert s.get(ParkedMessage, good) is None

    # Released again and refused again: the same row stays, with the new reason.
    admin.post(PAGE, {"row": str(senderless), "action": "release"})
    assert "Still refused: no sender address" in admin.page(PAGE)
    with hub.session() as s:
        left = s.scalars(select(ParkedMessage.id).where(ParkedMessage.tenant_id == tenant_id)).all()
        assert sorted(left) == sorted([senderless, gone])

    # A deletion is confirmed first; another tenant's row is not this page's.
    admin.post(PAGE, {"row": str(gone), "action": "delete"})
    assert "tick the box to confirm" in admin.page(PAGE)
    admin.post(PAGE, {"row": str(other), "action": "delete", "confirm": "yes"})
    assert f"no row {other}" in admin.page(PAGE)
    admin.post(PAGE, {"row": str(gone), "action": "delete", "confirm": "yes"})
    assert "deleted" in admin.page(PAGE)
    admin.post(PAGE, {"row": str(senderless), "action": "clear"})
    assert "this row offers" in admin.page(PAGE)
    with hub.session() as s:
        assert s.get(ParkedMessage, gone) is None
        assert s.get(ParkedMessage, other) is not None

    failing_page = "/admin/data/email/failing"
    assert "bounced@customer.example" in admin.page(failing_page)
    admin.post(failing_page, {"row": "bounced@customer.example", "action": "clear"})
    assert "Mail goes to bounced@customer.example again" in admin.page(failing_page)
    with hub.session() as s:
        assert (
            s.scalars(select(FailingAddress).where(FailingAddress.tenant_id == tenant_id)).all()
            == []
        )
        audited = s.scalars(
            select(Audit.new_value).where(
                Audit.tenant_id == tenant_id, Audit.action == "Plugin Data Action"
            )
        ).all()
    assert {"email/parked/release", "email/parked/delete", "email/failing/clear"} <= set(audited)

    for role in ("agent", "manager", "end_user"):
        web = web_sign_in(app, web_org[role].email)
        assert web.client.get(PAGE).status_code == 404, role


def test_plugin_data_pages_in_chromium(browser, live_server, web_org, web_hub) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    tenant_id = web_org["admin"].tenant_id
    web_hub.set_enabled(tenant_id, "email", True, reason="test")
    _parked(
        web_hub, tenant_id, _raw("ana@customer.example", "Printer on fire"), "the database was down"
    )
    _parked(web_hub, tenant_id, _raw("bo@customer.example", "Old spam"), "looks like spam")
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin")
        page.get_by_role("link", name="Parked mail").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Parked mail")).to_be_visible()
        check(page, "parked-mail")
        page.locator("summary.btn", has_text="Old spam").focus()
        page.keyboard.press("Enter")
        page.get_by_label("Yes, delete “Old spam”: it cannot be undone").focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name=re.compile(r"^Delete\s*: Old spam")).focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="deleted")).to_be_visible()
        page.get_by_role(
            "button", name=re.compile(r"^Release into a ticket\s*: Printer on fire")
        ).focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="Released: ticket #")).to_be_visible()
        check(page, "parked-mail-empty")
        page.goto("/admin/data/email/failing")
        check(page, "failing-addresses")
    finally:
        ctx.close()
