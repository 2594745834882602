"""The German portal in Chromium: a requester whose language is German and whose browser is in
Berlin signs in by keyboard on a German sign-in page, sees German labels, ``<html lang="de">``
and ticket times in German format in the Berlin zone (the browser told its zone itself), and the
pages pass axe-core at 390 and 1280 px."""

from __future__ import annotations

import time

from core.i18n import format_when
from core.i18n.models import PersonLocale
from core.permissions import Actor
from core.services import tickets
from tests.hub.web.browser import TIMEOUT, browser, check
from tests.hub.web.conftest import PASSWORD

__all__ = ["browser"]


def test_the_german_portal(browser, live_server, web_hub, web_org) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    requester = web_org["end_user"]
    with web_hub.session() as s:
        s.add(PersonLocale(user_id=requester.user_id, locale="de"))
        actor = Actor(
            tenant_id=requester.tenant_id,
            user_id=requester.user_id,
            role="end_user",
            email=requester.email,
        )
        ticket = tickets.create_ticket(
            s, actor, subject="Drucker im 3. Stock", description="Offline", category="Access"
        )
        created = ticket.created_at
    ctx = browser.new_context(
        base_url=live_server,
        viewport={"width": 1280, "height": 900},
        locale="de-DE",
        timezone_id="Europe/Berlin",
    )
    ctx.set_default_timeout(TIMEOUT)
    page = ctx.new_page()
    try:
        page.goto("/login")
        assert page.locator("html").get_attribute("lang") == "de"
        check(page, "login-de")
        page.get_by_label("E-Mail").focus()
        page.keyboard.type(requester.email)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Abmelden")

        page.goto("/tickets")
        assert page.locator("html").get_attribute("lang") == "de"
        expect(page.get_by_role("heading", name="Meine Tickets")).to_be_visible()
        expect(page.get_by_role("link", name="Neues Ticket").first).to_be_visible()
        expect(page.get_by_label("Status")).to_be_visible()
        expect(page.locator("td[data-label='Status']").first).to_have_text("Neu")
        # Berlin time in German format: the zone came from the browser (locale.js).
        expect(page.locator("td[data-label='Aktualisiert'] time").first).to_have_text(
            format_when(created, "de", "Europe/Berlin")
        )
        assert "." in format_when(created, "de", "Europe/Berlin").split(",")[0]
        check(page, "portal-de")

        page.goto("/kb")
        expect(page.get_by_label("Im Hilfe-Center suchen")).to_be_visible()
        check(page, "help-centre-de")

        page.goto("/account")
        expect(page.get_by_role("heading", name="Sprache und Zeitzone")).to_be_visible()
        check(page, "account-de")
    finally:
        ctx.close()
    # The browser told the server its zone once, for the mail.
    deadline = time.monotonic() + 10
    zone = None
    while time.monotonic() < deadline:
        with web_hub.read_session() as s:
            row = s.get(PersonLocale, requester.user_id)
            zone = row.browser_time_zone if row else None
        if zone:
            break
        time.sleep(0.2)
    assert zone == "Europe/Berlin"
