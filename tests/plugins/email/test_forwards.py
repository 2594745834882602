"""A forwarded message keeps the forwarded content (the request) and the forwarder's note, and
its original author joins the ticket as a participant."""

from __future__ import annotations

from core.models import Ticket
from plugins.email.delivery import deliver, settings_of
from plugins.email.forwards import forwarded_from
from plugins.email.parsing import parse
from tests.plugins.email.conftest import FIXTURES

GMAIL_FORWARD = FIXTURES / "parsing-edge-cases" / "mikel-mail__mime_emails__raw_email2.eml"
THUNDERBIRD_FORWARD = FIXTURES / "helpdesk-intake" / "django-helpdesk__utf-nondecodable.eml"


def test_a_forward_with_a_note_keeps_both_and_names_the_original_author() -> None:
    msg = parse(GMAIL_FORWARD.read_bytes()).message
    assert msg.subject.startswith("Fwd:")
    assert msg.body.startswith("We should not include these files or vcards as attachments.")
    assert "---------- Forwarded message ----------" in msg.body
    assert "Just started to use my xxxxxxxx account" in msg.body
    assert msg.participants[0] == "xxxxxxxx@xxx.com"
    assert not msg.meta["quotes_stripped"]


def test_a_forward_without_a_note_keeps_the_forwarded_message() -> None:
    msg = parse(THUNDERBIRD_FORWARD.read_bytes()).message
    assert msg.body.startswith("-------- Forwarded Message --------")
    assert "podle domluvy bych Tě poprosila" in msg.body
    assert msg.participants == ["nikola@example.cz"]


def test_forwarded_from_reads_localised_and_quoted_header_blocks() -> None:
    assert forwarded_from("FYI\n\nBegin forwarded message:\n\n> From: Ann <ann@x.test>\n") == (
        "ann@x.test"
    )
    assert (
        forwarded_from(
            "-------- Weitergeleitete Nachricht --------\n"
            "Betreff: Drucker\nVon: Bob Meier [mailto:bob@meier.test]\n"
        )
        == "bob@meier.test"
    )
    assert forwarded_from("On Mon, Bob <bob@x.test> wrote:\n> hi") is None


def test_a_forward_becomes_a_ticket_with_the_forwarded_request(hub, org) -> None:  # type: ignore[no-untyped-def]
    tenant_id = org.tenant[0]
    hub.set_enabled(tenant_id, "email", True, reason="test")
    settings = settings_of(hub.config(tenant_id, "email"))
    delivery = deliver(hub, tenant_id, GMAIL_FORWARD.read_bytes(), settings=settings, source="t")
    assert delivery.outcome == "ticket", delivery.reason
    with hub.session() as s:
        ticket = s.get(Ticket, delivery.ticket_id)
        assert ticket is not None
        assert ticket.description.startswith("We should not include these files")
        assert "Just started to use my xxxxxxxx account" in ticket.description


def test_forwarded_from_reads_the_localised_markers_of_thunderbird_yahoo_and_hubspot() -> None:
    # Formats of crisp-oss/email-forward-parser's fixtures (MIT): Thunderbird (tr), Yahoo (tr, the
    # header fields on the marker's line), HubSpot (ja, a full-width colon), Thunderbird (pl).
    assert (
        forwarded_from(
            "-------- İletilen İleti --------\nKonu: \tYazıcı\nKimden: \tAli <ali@x.test>\n"
        )
        == "ali@x.test"
    )
    assert (
        forwarded_from(
            '   ----- İletilmiş Mesaj ----- Kimden: Ali <ali@x.test>Kime: "b@y.test" <b@y.test>\n'
        )
        == "ali@x.test"
    )
    assert forwarded_from("---------- メッセージを転送 ---------\n送信元：Ken <ken@x.test>\n") == (
        "ken@x.test"
    )
    assert (
        forwarded_from("--- Treść przekazanej wiadomości ---\nNadawca: \tOla <ola@x.test>\n")
        == "ola@x.test"
    )
