"""Every real-world .eml of the corpus is stored without a crash and ends classified; quote
stripping matches the corpus' expected outputs."""

from __future__ import annotations

import csv
import re
import uuid

import pytest
from sqlalchemy import select

from core.models import Attachment, Ticket
from plugins.email.classify import AUTO_REPLY, BOUNCE, BULK, HUMAN
from plugins.email.delivery import deliver, settings_of
from plugins.email.parsing import html_to_text, parse, safe_filename, strip_quotes
from tests.plugins.email.conftest import FIXTURES

EMLS = sorted(FIXTURES.rglob("*.eml"))
INDEX = {
    row["path"]: row
    for row in csv.DictReader((FIXTURES / "INDEX.tsv").read_text().splitlines(), delimiter="\t")
}


def test_every_fixture_is_indexed() -> None:
    assert len(EMLS) > 200
    assert {str(p.relative_to(FIXTURES)) for p in EMLS} == set(INDEX)


@pytest.mark.parametrize("path", EMLS, ids=lambda p: p.name)
def test_parse_never_crashes_and_classifies(path) -> None:  # type: ignore[no-untyped-def]
    row = INDEX[str(path.relative_to(FIXTURES))]
    parsed = parse(path.read_bytes(), envelope_from="mta@relay.test")
    kind = parsed.classification.kind
    assert kind in (HUMAN, AUTO_REPLY, BOUNCE, BULK)
    assert parsed.message.sender_email and "@" in parsed.message.sender_email
    assert parsed.message.raw == path.read_bytes()
    if row["auto_submitted"] or row["x_auto_resp_suppress"] or row["precedence"]:
        assert parsed.message.is_automated, row
    if row["top_content_type"] == "multipart/report" and "sisimai__arf" not in path.name:
        assert kind == BOUNCE, parsed.classification
    if (
        path.parent.name == "bounces-autoreplies"
        and "__not__is-not" not in path.name
        and "php-mime" not in path.name
    ):
        assert kind in (BOUNCE, AUTO_REPLY), path.name
    if "__not__is-not-bounce" in path.name:
        assert kind == HUMAN
    for att in parsed.message.attachments:
        assert "/" not in att.file_name and "\\" not in att.file_name
        assert att.file_name not in ("", ".", "..")


def test_every_fixture_ends_as_ticket_comment_or_bounce(hub, org) -> None:  # type: ignore[no-untyped-def]
    tenant_id = org.tenant[0]
    hub.set_enabled(tenant_id, "email", True, reason="test")
    settings = settings_of(hub.config(tenant_id, "email")).model_copy(
        update={"addresses": ["support@acme.test"]}
    )
    outcomes: dict[str, str] = {}
    for path in EMLS:
        delivery = deliver(
            hub,
            tenant_id,
            path.read_bytes(),
            settings=settings,
            source="test",
            envelope_from="mta@relay.test",
            envelope_to=["support@acme.test"],
        )
        outcomes[path.name] = delivery.outcome
        assert delivery.outcome in ("ticket", "comment", "duplicate", "bounce", "auto_reply"), (
            path.name,
            delivery.reason,
        )
        if path.name.startswith("sisimai__lhost"):
            assert delivery.outcome == "bounce", path.name
    assert list(outcomes.values()).count("ticket") > 100
    with hub.session() as s:
        names = list(
            s.scalars(select(Attachment.file_name).where(Attachment.tenant_id == tenant_id))
        )
        subjects = list(s.scalars(select(Ticket.subject).where(Ticket.tenant_id == tenant_id)))
    assert names and all("/" not in n and "\\" not in n for n in names)
    assert all(s.strip() for s in subjects)


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@pytest.mark.parametrize("name", ["talon__iphone", "talon__sparrow"])
def test_quote_stripping_matches_expected(name: str) -> None:
    raw = (FIXTURES / "quote-stripping" / "eml" / f"{name}.eml").read_bytes()
    expected = (
        FIXTURES / "quote-stripping" / "eml" / f"{name}_reply_text.expected.txt"
    ).read_text()
    assert normalise(parse(raw).message.body) == normalise(expected)


@pytest.mark.parametrize(
    "path", sorted((FIXTURES / "quote-stripping" / "eml").glob("*.eml")), ids=lambda p: p.name
)
def test_replies_lose_their_quoted_lines(path) -> None:  # type: ignore[no-untyped-def]
    body = parse(path.read_bytes()).message.body
    assert body.strip()
    assert not any(line.startswith(">") for line in body.splitlines()), body


@pytest.mark.parametrize(
    "path", sorted((FIXTURES / "quote-stripping" / "bodies").glob("*.txt")), ids=lambda p: p.name
)
def test_strip_quotes_on_reply_bodies(path) -> None:  # type: ignore[no-untyped-def]
    text = path.read_text(errors="replace")
    out = strip_quotes(text)
    assert out.strip() and len(out) <= len(text)


@pytest.mark.parametrize(
    "path", sorted((FIXTURES / "quote-stripping" / "html").glob("*.html")), ids=lambda p: p.name
)
def test_html_becomes_safe_text(path) -> None:  # type: ignore[no-untyped-def]
    text = html_to_text(path.read_text(errors="replace"))
    assert text.strip()
    assert not re.search(r"<\s*(script|div|p|a|span|table|blockquote)\b", text, re.I)


def test_html_only_mail_is_converted_and_scripts_dropped() -> None:
    raw = (
        b"From: a@b.test\r\nTo: s@acme.test\r\nSubject: html\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Hello <b>there</b></p><script>alert(1)</script><img src=x onerror=alert(2)>"
    )
    body = parse(raw).message.body
    assert "Hello" in body and "there" in body
    assert "<" not in body and "alert" not in body


def test_path_traversal_file_name_is_reduced_to_a_name() -> None:
    assert safe_filename("1234/../../1234.txt", "text/plain", 1) == "1234.txt"
    assert safe_filename("..\\..\\win.ini", "text/plain", 1) == "win.ini"
    assert safe_filename("../", "image/png", 3) == "attachment-3.png"


def test_no_message_id_dedupes_by_content_hash() -> None:
    raw = b"From: a@b.test\r\nTo: s@acme.test\r\nSubject: x\r\n\r\nbody\r\n"
    one, two = parse(raw).message, parse(raw).message
    assert one.dedupe_key == two.dedupe_key and one.dedupe_key.startswith("sha256:")
    assert parse(raw + b"more").message.dedupe_key != one.dedupe_key


def test_references_and_token_are_extracted() -> None:
    token = f"42-{uuid.uuid4().hex[:10]}"
    raw = (
        f"From: Jane <jane@c.test>\r\nTo: support+{token}@acme.test\r\nCc: bob@c.test, "
        f"support@acme.test\r\nSubject: Re: x\r\nMessage-ID: <own@c.test>\r\n"
        f"In-Reply-To: <b@hub>\r\nReferences: <a@hub> <b@hub>\r\n\r\nhi\r\n"
    ).encode()
    msg = parse(raw, support_addresses=["support@acme.test"]).message
    assert msg.references == ["b@hub", "a@hub"]
    assert msg.message_ref == "own@c.test" and msg.ref_kind == "email_message_id"
    assert msg.thread_token == token
    assert msg.participants == ["bob@c.test"]
    assert msg.sender_name == "Jane"


def test_raw_8bit_and_encoded_headers_are_decoded() -> None:
    utf8 = "From: Jörg Müller <j@x.test>\r\nSubject: Grüße aus Köln ✓\r\n\r\nhi\r\n".encode()
    msg = parse(utf8).message
    assert (msg.subject, msg.sender_name) == ("Grüße aus Köln ✓", "Jörg Müller")
    latin1 = "From: Jörg <j@x.test>\r\nSubject: Grüße\r\n\r\nhi\r\n".encode("latin-1")
    assert parse(latin1).message.subject == "Grüße"
    encoded = (
        b"From: =?iso-8859-1?q?J=F6rg?= <j@x.test>\r\n"
        b"Subject: =?utf-8?b?R3LDvMOfZQ==?=\r\n\r\nhi\r\n"
    )
    msg = parse(encoded).message
    assert (msg.subject, msg.sender_name) == ("Grüße", "Jörg")


_ATTRIBUTIONS = [
    "On Mon, 1 Jan 2024 at 10:00, Bob <bob@x.org> wrote:",
    "On Mon, 1 Jan 2024",
    "wrote:",
    "Am 1. Jan. 2024 um 10:00 schrieb",
    "Am",
    "schrieb",
    "Bob",
    ":",
    "From: a",
    "Sent: b",
    "To: c",
    "Subject: d",
    "> From: x",
    "> > Sent: y",
    "*From:* x",
    "-----Original Message-----",
    "----- Original Message -----",
    "-----Oprindelig meddelelse-----",
    "Fra: a",
    "Sendt: b",
    "Le 1 janv. 2024, Bob a écrit :",
    "El lun, Bob escribió:",
    " escribió:",
    "El",
    "Il giorno Bob ha scritto:",
    "Op 1 jan Bob schreef:",
    "Dnia 1 Bob napisał(a):",
    "Od: a",
    "Do: b",
    "Dne 1.1.2024 Bob napsal(a):",
    "Den 1 jan 2024 skrev Bob:",
    "skrev",
    "De : x",
    "Envoyé : y",
    "2024年1月1日(月) 10:00 Bob <b@x>:",
    "2024년 1월 1일 Bob님이 작성하였습니다:",
    "2024年1月1日 写道：",
    "hello there",
    "text with : colon",
    "",
    "  ",
]


def test_trimming_never_fails_on_mixed_attribution_fragments() -> None:
    """5,000 texts made of attribution fragments, header labels, separators and plain lines:
    trimming never raises and never returns more than it was given."""
    import random

    rnd = random.Random(20261126)
    breaks = ["\n", "\n", "\n", " ", "\n\n", "\r\n", "\u2028"]
    for _ in range(5000):
        text = "".join(
            rnd.choice(_ATTRIBUTIONS) + rnd.choice(breaks) for _ in range(rnd.randint(1, 14))
        )
        out = strip_quotes(text)
        assert len(out) <= len(text)


def test_html_quotes_become_quoted_lines_and_are_trimmed() -> None:
    # Gmail's HTML-only reply: the answer above a <blockquote> of the earlier mail.
    html = (FIXTURES / "quote-stripping" / "html" / "talon__gmail.html").read_text()
    text = html_to_text(html)
    assert any(line.startswith("> ") for line in text.splitlines())
    assert strip_quotes(text).strip().startswith("Hi. I am fine.")
    assert "> " not in strip_quotes(text)


def test_nested_html_quotes_keep_their_depth() -> None:
    text = html_to_text("<p>Mine</p><blockquote>theirs<blockquote>older</blockquote></blockquote>")
    assert text.splitlines()[0] == "Mine"
    assert "> theirs" in text and "> > older" in text


def test_a_rule_line_separates_the_quoted_header_block() -> None:
    html = (FIXTURES / "quote-stripping" / "html" / "talon__reply-separated-by-hr.html").read_text()
    trimmed = strip_quotes(html_to_text(html))
    assert "Bob" in trimmed and "bob@example.com" not in trimmed


def test_html_keeps_links_as_text_and_lists_as_lists() -> None:
    text = html_to_text(
        "<p>Steps:</p><ul><li>reboot</li><li>retry</li></ul><ol><li>one</li><li>two</li></ol>"
        '<p>See <a href="https://x.test/kb">the guide</a></p>'
    )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines == ["Steps:", "* reboot", "* retry", "1. one", "2. two"] + [
        "See [the guide](https://x.test/kb)"
    ]


# Delivered as they are, without an envelope sender (as IMAP fetches them): the only fixtures
# parked are these, none of which has a From, Sender, Reply-To or Return-Path header (the reason
# says so, header by header); the two sisimai bounces from "MAILER-DAEMON <>" have none either
# but are classified bounces first.
PARKED_WITHOUT_ANY_SENDER = {
    "php-mime-mail-parser__issue212.eml",
    "enmime__erroneous.eml",
    "enmime__low-quality__bad-header-start.eml",
    "php-mime-mail-parser__issue116.eml",
    "php-mime-mail-parser__issue250.eml",
    "php-mime-mail-parser__m0027.eml",
    "spamscope-mail-parser__mail_outlook_1.eml",
    "mikel-mail__error_emails__bad_encoded_subject.eml",
}


def test_only_fixtures_without_any_sender_are_parked_and_say_why(hub, org) -> None:  # type: ignore[no-untyped-def]
    tenant_id = org.tenant[0]
    hub.set_enabled(tenant_id, "email", True, reason="test")
    settings = settings_of(hub.config(tenant_id, "email")).model_copy(
        update={"addresses": ["support@acme.test"]}
    )
    parked: dict[str, str] = {}
    for path in EMLS:
        delivery = deliver(hub, tenant_id, path.read_bytes(), settings=settings, source="test")
        if delivery.outcome == "parked":
            parked[path.name] = delivery.reason
        else:
            assert delivery.outcome in ("ticket", "comment", "duplicate", "bounce", "auto_reply")
    assert set(parked) == set(PARKED_WITHOUT_ANY_SENDER), parked
    for name, reason in parked.items():
        assert reason.startswith("no sender address in From, Sender, Reply-To, Return-Path"), name
        assert "no envelope sender" in reason, name


def test_html_keeps_nested_lists_and_links_inside_list_items() -> None:
    text = html_to_text(
        '<div>Please check:<ul><li>the <a href="https://x.test/a">VPN page</a></li>'
        "<li>nested<ul><li>inner one</li><li>inner two</li></ul></li></ul>"
        '<p><a href="https://x.test/b">https://x.test/b</a> or '
        '<a href="mailto:it@x.test">IT</a></p></div>'
    )
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    assert lines == [
        "Please check:",
        "  * the [VPN page](https://x.test/a)",
        "  * nested",
        "      + inner one",
        "      + inner two",
        "https://x.test/b or [IT](mailto:it@x.test)",
    ]
