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
from core.i18n.service import Reader
from core.mail_templates.service import render_mail
from core.models import TenantAudit
from core.permissions import Actor
from core.services import comments, tickets
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


# ------------------------------------------------------------------ no English left untranslated

TEMPLATES = ROOT / "hub" / "web" / "templates"
# Literal text a template may show as it is: the product's name and file-format names.
ALLOWED_LITERALS = {"Support Hub", "· Support Hub", "Teleops Support Hub", "CSV", "PDF"}
# Attributes a person reads or hears (data-label: the column name of a stacked table row).
SPOKEN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "data-label", "label"}
VERBATIM_TAGS = {"script", "style", "code", "kbd", "pre", "samp"}
HOLE = "\ue000"  # where a Jinja tag or expression was


def _template_text(source: str) -> str:
    """The template as HTML with every Jinja construct a hole, and the insides of ``{% trans %}``
    blocks (translated) left out."""
    env = i18n_env()
    out: list[str] = []
    depth = 0
    tokens = list(env.lex(source))
    for i, (_line, kind, value) in enumerate(tokens):
        if kind == "block_begin":
            name = next((v for _, k, v in tokens[i + 1 :] if k != "whitespace"), "")
            depth += {"trans": 1, "endtrans": -1}.get(name, 0)
            out.append(f" {HOLE} ")
        elif kind in ("variable_begin", "comment_begin"):
            out.append(f" {HOLE} ")
        elif kind == "data" and depth == 0:
            out.append(value)
    return "".join(out)


def i18n_env() -> Any:
    from jinja2 import Environment

    return Environment(extensions=["jinja2.ext.i18n"])


def _untranslated(source: str) -> list[str]:
    """English a template shows without ``_()`` or ``{% trans %}``: text nodes, spoken
    attributes, and string constants that an expression outputs."""
    import re
    from html.parser import HTMLParser

    from jinja2 import nodes

    found: list[str] = []

    def check(text: str, where: str) -> None:
        for piece in text.split(HOLE):
            words = " ".join(piece.split())
            if not re.search(r"[A-Za-z]{2,}", words) or words in ALLOWED_LITERALS:
                continue
            if re.fullmatch(r'[\w-]*"', words) or '="' in words:  # markup built in a {% set %}
                continue
            found.append(f"{where}: {words}")

    class Walker(HTMLParser):
        verbatim = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.verbatim += tag in VERBATIM_TAGS
            named = dict(attrs)
            for name, value in attrs:
                spoken = name in SPOKEN_ATTRIBUTES or (
                    name == "value" and tag == "input" and named.get("type") in ("submit", "button")
                )
                if spoken and value:
                    check(value, f"<{tag} {name}>")

        def handle_endtag(self, tag: str) -> None:
            self.verbatim -= tag in VERBATIM_TAGS

        def handle_data(self, data: str) -> None:
            if not self.verbatim:
                check(data, "text")

    walker = Walker(convert_charrefs=True)
    walker.feed(_template_text(source))
    walker.close()

    def shown(node: Any) -> None:
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            text = node.value.strip()
            # Prose (a capital or two words), not a class name, a URL or a code.
            if re.search(r"[A-Z]|\w\s+\w", text) and not text.startswith(("/", "{")):
                found.append(f"expression: {text}")
        elif isinstance(node, nodes.CondExpr):
            shown(node.expr1)
            if node.expr2 is not None:
                shown(node.expr2)
        elif isinstance(node, nodes.Concat):
            for part in node.nodes:
                shown(part)
        elif isinstance(node, nodes.Filter) and node.name in ("capitalize", "upper", "lower", "e"):
            if node.node is not None:
                shown(node.node)

    for output in i18n_env().parse(source).find_all(nodes.Output):
        for child in output.nodes:
            if not isinstance(child, nodes.TemplateData):
                shown(child)
    return found


def test_the_walker_finds_untranslated_text() -> None:
    """The check below, on a template with one of each kind of gap, and on its fixed twin."""
    gaps = _untranslated(
        '<h1>Queue</h1><button aria-label="Close {{ n }}">×</button>'
        '<td data-label="Status">{{ "Unassigned" if x else "—" }}</td>'
        "<p>Hello {{ name }}, welcome</p><code>hub run</code>{% trans %}Kept {{ n }}{% endtrans %}"
    )
    assert gaps == [
        "text: Queue",
        "<button aria-label>: Close",
        "<td data-label>: Status",
        "text: Hello",
        "text: , welcome",
        "expression: Unassigned",
    ]
    assert (
        _untranslated(
            '<h1>{{ _("Queue") }}</h1><td data-label="{{ _(\'Status\') }}">'
            '{{ _("Unassigned") if x else "—" }}</td><footer>Teleops Support Hub</footer>'
        )
        == []
    )


def test_every_template_goes_through_the_translation_layer() -> None:
    """Every console template (hub/web/templates): no heading, label, button, table header,
    empty-state text, aria-label, title or placeholder in literal English."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for gap in _untranslated(path.read_text(encoding="utf-8")):
            problems.append(f"{path.relative_to(ROOT)}: {gap}")
    assert len(list(TEMPLATES.rglob("*.html"))) > 90
    assert problems == [], "Untranslated template text:\n" + "\n".join(problems)


def test_no_translation_breaks_out_of_its_attribute() -> None:
    """``_()`` gives markup, so a message shown in a double-quoted attribute must hold no
    double quote, in English or in German (the placeholder with "a phrase" sits in single
    quotes)."""
    import re

    catalog = _german()
    inside = re.compile(r'="\{\{ _\((?:\'([^\']*)\'|"((?:[^"\\]|\\.)*)")')
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for m in inside.finditer(path.read_text(encoding="utf-8")):
            msgid = m.group(1) if m.group(1) is not None else m.group(2).replace('\\"', '"')
            entry = catalog.get(msgid)
            german = entry.string if entry is not None and isinstance(entry.string, str) else ""
            if '"' in msgid or '"' in german:
                problems.append(f"{path.relative_to(ROOT)}: {msgid!r}")
    assert problems == []


def _english_phrases() -> set[str]:
    """The console's English phrases that German shows differently: every extracted message of
    two words or more, without places to fill or markup (a one-word label such as "Status"
    may be the same in German, and would also match names and data)."""
    import re

    catalog = _german()
    phrases = set()
    for msgid in i18n.extract(ROOT):
        entry = catalog.get(msgid)
        german = entry.string if entry is not None else ""
        if not isinstance(german, str) or german == msgid:
            continue
        if "%" in msgid or "<" in msgid or len(re.findall(r"[A-Za-z]{2,}", msgid)) < 2:
            continue
        phrases.add(msgid)
    return phrases


def _visible(html: str) -> str:
    """What a reader sees or hears of a page: its text and spoken attributes, unescaped
    (scripts and the data a page carries for them left out)."""
    import html as html_lib
    import re

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    spoken = re.findall(r'(?:aria-label|title|placeholder|data-label)="([^"]*)"', body)
    text = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html_lib.unescape(" ".join([text, *spoken])).split())


def test_german_pages_keep_no_english_phrase(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    """The queue, a ticket (as its agent and its requester), the portal's new-ticket form, the
    dashboard and the admin home, read by people whose browser asks for German: none of the
    console's English phrases is left, and the German ones are there."""
    import re

    phrases = _english_phrases()
    assert len(phrases) > 300 and "No tickets match these filters." in phrases
    requester = web_org["end_user"]
    ticket_id, _ = _ticket(hub, requester, "Drucker druckt nicht")
    with hub.session() as s:
        actor = Actor(
            tenant_id=requester.tenant_id,
            user_id=web_org["agent"].user_id,
            role="agent",
            email=web_org["agent"].email,
        )
        ticket = tickets.get_ticket(s, actor, ticket_id)
        comments.add_comment(s, actor, ticket, comment="Wir prüfen das.", is_internal=True)
    pages: dict[str, str] = {}
    for role, paths in (
        ("agent", ["/queue", f"/tickets/{ticket_id}", "/dashboard", "/tickets/new"]),
        ("end_user", ["/tickets", f"/tickets/{ticket_id}", "/tickets/new"]),
        ("admin", ["/admin", "/admin/sla", "/organisations"]),
    ):
        web = sign_in(app, web_org[role].email)
        web.client.headers["Accept-Language"] = "de-DE,de;q=0.9"
        for path in paths:
            html = web.page(path)
            assert '<html lang="de">' in html, path
            # Not yet: the standard reports' charts and tables (hub/exports.py, shared with the
            # CSV, Excel and PDF exports) that the dashboard shows under its own three charts.
            html = re.sub(
                r'<section class="card chart" aria-labelledby="chart-(?!(?:status|priority|category)")'
                r".*?</section>",
                "",
                html,
                flags=re.S,
            )
            pages[f"{role} {path}"] = _visible(html)
    left = {where: sorted(p for p in phrases if p in text) for where, text in pages.items()}
    assert {where: found for where, found in left.items() if found} == {}
    queue, ticket_page = pages["agent /queue"], pages[f"agent /tickets/{ticket_id}"]
    assert "Sammelaktionen für die ausgewählten Tickets" in queue and "Zuständig" in queue
    with sign_in(app, web_org["agent"].email).client as client:
        raw = client.get("/queue", headers={"Accept-Language": "de"}).text
    assert """placeholder='Wörter, "eine Wortfolge", Anfang*'""" in raw
    assert "noch " in queue and " Std." in queue  # the SLA countdown in German words
    assert "Interne Notiz – nur für Mitarbeitende" in ticket_page
    assert "Änderungen speichern" in ticket_page
    assert "Ticket erstellen" in pages["end_user /tickets/new"]


def test_sla_words_in_the_reader_s_language(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    """The server's countdown words and the templates it gives static/countdown.js, in English
    and in German; the scripts carry no words of their own."""
    import json
    import re
    from datetime import timedelta

    from core.sla import countdown as cd

    at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    running = cd.countdown(
        at, target="response", target_minutes=240, due_at=at + timedelta(minutes=130)
    )
    late = cd.countdown(
        at, target="resolution", target_minutes=60, due_at=at - timedelta(minutes=35)
    )
    paused = cd.countdown(at, target="response", target_minutes=240, paused_elapsed_minutes=60)
    english = (i18n.sla_text(running), i18n.sla_text(late), i18n.sla_text(paused))
    assert english == (running.text, late.text, paused.text)  # the same words as core's
    with i18n.reading_as(Reader("de", "Europe/Berlin")):
        assert (i18n.sla_text(running), i18n.sla_text(late), i18n.sla_text(paused)) == (
            "noch 2 Std. 10 Min.",
            "seit 35 Min. überschritten",
            "pausiert, noch 3 Std.",
        )
        assert i18n.sla_label(late) == "Verletzt" and i18n.sla_duration(0.5) == "weniger als 1 Min."
    assert set(i18n.SLA_STATES) == set(cd.LABELS)

    _ticket(hub, web_org["end_user"], "Countdown")
    agent = sign_in(app, web_org["agent"].email)
    for lang, left in (("de-DE", "%(time)s left"), ("en-US", "%(time)s left")):
        agent.client.headers["Accept-Language"] = lang
        page = agent.page("/queue")
        block = re.search(
            r'<script type="application/json" id="ui-words">(.*?)</script>', page, re.S
        )
        assert block is not None
        words = json.loads(block.group(1))
        expected = i18n.translations(lang[:2]).gettext(left)
        assert words["left"] == expected and words["unread"]
    assert words["left"] == "%(time)s left"
    # Every word a script asks for is one the page gives, and no script spells out English.
    scripts = ROOT / "hub" / "web" / "static"
    asked: set[str] = set()
    for name in ("app.js", "countdown.js", "presence.js", "shortcuts.js"):
        source = (scripts / name).read_text(encoding="utf-8")
        for line in source.splitlines():
            if re.search(r"\b(hubText|text|say)\(", line):
                asked |= set(
                    re.findall(
                        r'(?:(?:hubText|text|say)\(\s*|\?\s*|:\s*)"([a-z]{4,}(?:_[a-z]+)*)"', line
                    )
                )
        assert not re.search(r'textContent\s*=\s*"[A-Z]', source), name
        assert not re.search(r'announce\("[A-Z]', source), name
    assert {"left", "breached", "days_hours", "unread", "ticket_n_of", "typing_many"} <= asked
    assert asked <= set(i18n.ui_words()), asked - set(i18n.ui_words())


def test_core_labels_shown_translated_are_in_the_catalogue() -> None:
    from core.automation.escalation import ADMIN_TARGET
    from core.fields.service import TYPE_LABELS
    from core.notifications.matrix import CHANNEL_LABELS

    shown = {*TYPE_LABELS.values(), *CHANNEL_LABELS.values(), ADMIN_TARGET["label"]}
    assert shown <= set(i18n.CORE_LABELS)
    german = i18n.translations("de")
    assert german.gettext("Drop-down") == "Auswahlliste" and german.gettext("Monday") == "Montag"


def test_a_flash_is_shown_in_the_language_of_its_reader(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    """A flash is stored in English with its values and translated where it is shown: the
    German agent reads the German message with the view's name in it."""
    agent = sign_in(app, web_org["agent"].email)
    agent.client.headers["Accept-Language"] = "de"
    agent.page("/queue")
    r = agent.post("/queue/views", {"name": "Meine „Ansicht“ & mehr", "query": "status=Open"})
    assert r.status_code == 303
    page = agent.client.get(r.headers["location"]).text
    assert "Ansicht „Meine „Ansicht“ &amp; mehr“ gespeichert." in page
    agent.client.headers["Accept-Language"] = "en"
    r = agent.post("/queue/views", {"name": "Mine", "query": "status=New"})
    assert "View “Mine” saved." in agent.client.get(r.headers["location"]).text
