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


def test_the_german_queue_counts_down_in_german(browser, live_server, web_hub, web_org) -> None:  # type: ignore[no-untyped-def]
    """static/countdown.js rewrites the SLA words every minute with the page's German
    templates (#ui-words), never in English; the live region and the shortcuts speak German."""
    import re

    from playwright.sync_api import expect

    requester, agent = web_org["end_user"], web_org["agent"]
    with web_hub.session() as s:
        actor = Actor(
            tenant_id=requester.tenant_id,
            user_id=requester.user_id,
            role="end_user",
            email=requester.email,
        )
        ticket = tickets.create_ticket(
            s,
            actor,
            subject="Server steht",
            description="d",
            category="Access",
            priority="Critical",
        )
        ticket_id = ticket.id
    ctx = browser.new_context(
        base_url=live_server,
        viewport={"width": 1280, "height": 900},
        locale="de-DE",
        timezone_id="Europe/Berlin",
        extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"},
    )
    ctx.set_default_timeout(TIMEOUT)
    page = ctx.new_page()
    try:
        page.clock.install()
        page.goto("/login")
        page.get_by_label("E-Mail").fill(agent.email)
        page.get_by_label("Passwort").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Abmelden")
        page.goto("/queue")
        assert page.locator("html").get_attribute("lang") == "de"
        words = page.locator(f"#queue-rows tr[data-ticket='{ticket_id}'] .sla-left")
        expect(words).to_have_text(re.compile(r"^noch (1 Std\.|59 Min\.)$"))
        # Eleven minutes later (the script's minute timer, on the page's clock).
        page.clock.run_for(11 * 60 * 1000 + 500)
        expect(words).to_have_text(re.compile(r"^noch 4[89] Min\.$"))
        assert "left" not in (words.text_content() or "")
        # The shortcuts announce in German too (j: the first ticket).
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("j")
        expect(page.locator("#live-announcer")).to_contain_text(re.compile(r"^Ticket 1 von \d+: "))
    finally:
        ctx.close()
