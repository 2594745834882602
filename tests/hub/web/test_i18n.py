"""Time zones and languages: the German catalogue is complete, Accept-Language picks the
language, a person's zone and language are saved (bad ones refused by field), and times read in
the reader's zone in the console and in a mail."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from core import lifecycle
from core.i18n import check_time_zone, format_when, negotiate
from core.i18n.models import PersonLocale
from core.mail_templates.service import render_mail
from core.models import TenantAudit
from core.permissions import Actor
from core.services import tickets
from hub.web import i18n
from tests.hub.web.conftest import sign_in

ROOT = Path(__file__).resolve().parents[3]


def _german() -> Any:
    with i18n.po_path("de").open("rb") as fp:
        return read_po(fp, locale="de")


def test_the_german_catalogue_has_every_string() -> None:
    """Babel's extraction over the templates and the web's Python sources (babel.cfg): every
    message has a German entry that is neither empty nor fuzzy."""
    found = i18n.extract(ROOT)
    assert len(found) > 200 and "My tickets" in found and "Open" in found
    catalog = _german()
    problems = []
    for msgid, (where, line) in sorted(found.items()):
        entry = catalog.get(msgid)
        if entry is None:
            entry = next((m for m in catalog if isinstance(m.id, tuple) and m.id[0] == msgid), None)
        strings = entry.string if entry is not None else ""
        empty = not (all(strings) if isinstance(strings, tuple) else strings)
        if entry is None or empty or entry.fuzzy:
            problems.append(f"{where}:{line}: {msgid!r}")
    assert problems == [], "German catalogue incomplete:\n" + "\n".join(problems)


def test_spec_values_are_in_the_catalogue() -> None:
    values = set(lifecycle.STATUSES) | set(lifecycle.PRIORITIES) | set(lifecycle.CATEGORIES)
    assert values <= set(i18n.VALUE_LABELS)
    assert i18n.translations("de").gettext("In Progress") == "In Bearbeitung"


def test_accept_language_is_negotiated_among_the_supported_locales() -> None:
    assert negotiate("de-DE,de;q=0.9,en;q=0.8") == "de"
    assert negotiate("de-AT") == "de"
    assert negotiate("en-GB,de;q=0.5") == "en"
    assert negotiate("fr-FR,de;q=0.3") == "de"
    assert negotiate("fr-FR,es") is None
    assert negotiate("") is None


def test_pages_follow_the_browser_then_the_person(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    web = sign_in(app, web_org["end_user"].email)
    german = web.client.get("/tickets", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de">' in german.text and "Meine Tickets" in german.text
    english = web.client.get("/tickets", headers={"Accept-Language": "en-US"})
    assert '<html lang="en">' in english.text and "My tickets" in english.text
    # A chosen language beats the browser's.
    web.page("/account")
    r = web.post("/account/language", {"locale": "de", "time_zone": ""})
    assert r.status_code == 303
    chosen = web.client.get("/tickets", headers={"Accept-Language": "en-US"})
    assert '<html lang="de">' in chosen.text and "Meine Tickets" in chosen.text
    # The flash message of the save is shown in German too.
    again = web.post("/account/language", {"locale": "de", "time_zone": ""})
    assert "Sprache und Zeitzone sind gespeichert" in web.client.get(again.headers["location"]).text


def test_the_tenant_default_language_is_its_people_s(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    admin = sign_in(app, web_org["admin"].email)
    admin.page("/admin/language")
    r = admin.post("/admin/language", {"locale": "de"})
    assert r.status_code == 303
    requester = sign_in(app, web_org["end_user"].email)
    page = requester.client.get("/tickets", headers={"Accept-Language": "en-US"}).text
    assert '<html lang="de">' in page and "Meine Tickets" in page
    with hub.read_session() as s:
        actions = s.scalars(
            select(TenantAudit.action).where(TenantAudit.tenant_id == web_org["admin"].tenant_id)
        ).all()
    assert "tenant.locale_changed" in actions
    bad = admin.post("/admin/language", {"locale": "fr"})
    assert bad.status_code == 422 and "locale must be one of: en, de" in bad.text


def test_a_bad_zone_or_locale_is_refused_by_field(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    web = sign_in(app, web_org["agent"].email)
    web.page("/account")
    bad_zone = web.post("/account/language", {"locale": "en", "time_zone": "Mars/Olympus"})
    assert bad_zone.status_code == 422
    assert "time_zone must be an IANA time zone" in bad_zone.text
    assert 'id="l-zone" name="time_zone" aria-invalid="true"' in bad_zone.text
    bad_locale = web.post("/account/language", {"locale": "xx", "time_zone": "UTC"})
    assert bad_locale.status_code == 422 and "locale must be one of: en, de" in bad_locale.text
    browser = web.post("/account/language/browser", {"time_zone": "Not/AZone"})
    assert browser.status_code == 422 and "time_zone" in browser.text
    with pytest.raises(Exception, match="IANA"):
        check_time_zone("../../etc/passwd")
    with hub.read_session() as s:
        assert s.get(PersonLocale, web_org["agent"].user_id) is None


def test_the_browser_zone_is_kept_until_the_person_chooses(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    agent = web_org["agent"]
    web = sign_in(app, agent.email)
    web.page("/account")
    r = web.post(
        "/account/language/browser",
        {"time_zone": "Asia/Tokyo"},
        headers={"Accept-Language": "de-CH"},
    )
    assert r.status_code == 204
    with hub.read_session() as s:
        row = s.get(PersonLocale, agent.user_id)
        assert row is not None
        assert (row.browser_time_zone, row.browser_locale, row.time_zone) == (
            "Asia/Tokyo",
            "de",
            None,
        )


def _ticket(hub, member, subject: str) -> Any:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        actor = Actor(
            tenant_id=member.tenant_id, user_id=member.user_id, role=member.role, email=member.email
        )
        t = tickets.create_ticket(
            s, actor, subject=subject, description="It is broken", category="Access"
        )
        return t.id, t.created_at


def test_new_york_times_in_the_console_and_in_a_mail(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    requester = web_org["end_user"]
    web = sign_in(app, requester.email)
    web.page("/account")
    r = web.post("/account/language", {"locale": "en", "time_zone": "America/New_York"})
    assert r.status_code == 303
    ticket_id, created = _ticket(hub, requester, "Zone check")
    local = created.astimezone(ZoneInfo("America/New_York"))
    expected = format_when(created, "en", "America/New_York")
    assert expected.endswith((" EST", " EDT")) and str(local.year) in expected
    assert f"{local.hour % 12 or 12}:{local.minute:02d}" in expected
    page = web.page("/tickets")
    assert expected in page and "UTC</time>" not in page
    # The account page names the zone the pages are in.
    assert "times in America/New_York" in web.page("/account")

    # A mail to the requester: the event's time in their zone, parsed back from the message.
    with hub.session() as s:
        rendered = render_mail(
            s,
            requester.tenant_id,
            "created",
            {
                "ticket": {"id": ticket_id, "subject": "Zone check", "url": "http://x/t"},
                "recipient": {"name": "", "email": requester.email},
                "url": "http://x/t",
            },
            at=created,
        )
    msg = email.message.EmailMessage()
    msg["Subject"] = rendered.subject
    msg["To"] = requester.email
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    parsed = email.message_from_bytes(bytes(msg), policy=email.policy.default)
    text = parsed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"opened ticket #{ticket_id} on {expected}:" in text


def test_a_german_requester_gets_german_mail(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    requester = web_org["end_user"]
    with hub.session() as s:
        s.add(PersonLocale(user_id=requester.user_id, locale="de", time_zone="Europe/Berlin"))
    at = datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
    with hub.session() as s:
        rendered = render_mail(
            s,
            requester.tenant_id,
            "status",
            {
                "ticket": {"id": 7, "subject": "Drucker", "url": "http://x/t"},
                "recipient": {"name": "", "email": requester.email},
                "url": "http://x/t",
                "old_status": "Open",
                "new_status": "Pending",
            },
            at=at,
        )
    assert "von Offen zu Wartend geändert" in rendered.text
    assert "02.12.2026, 17:30" in rendered.text and '<html lang="de">' in rendered.html
