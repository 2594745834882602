"""A forwarded message keeps the forwarded content (the request) and the forwarder's note, and
its original author joins the ticket as a participant."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from core.models import ExternalRef, Ticket
from plugins.email.delivery import deliver, settings_of
from plugins.email.forwards import forwarded_from
from plugins.email.parsing import parse
from tests.plugins.email.conftest import FIXTURES, make_mail
from tests.plugins.email.smtp_client import send, tickets

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


def _participants(hub, ticket_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return set(
            s.scalars(
                select(ExternalRef.value).where(
                    ExternalRef.ticket_id == ticket_id, ExternalRef.kind == "participant"
                )
            )
        )


def test_an_inline_forward_with_a_note_over_smtp_keeps_both_and_adds_the_author(
    hub, smtp_server, mail_tenant
) -> None:  # type: ignore[no-untyped-def]
    body = (
        "Bu müşterinin yazıcısı hâlâ bozuk, bakabilir misiniz?\n\n"
        "-------- İletilen İleti --------\n"
        "Konu: \tYazıcı çalışmıyor\n"
        "Tarih: \tWed, 3 Nov 2021 15:51:30 +0100\n"
        "Kimden: \tAyşe Kaya <ayse@customer.test>\n"
        "Kime: \tmehmet@partner.test\n\n"
        "Yazıcı sabahtan beri kağıt sıkıştırıyor.\n"
    )
    raw = make_mail(
        sender="Mehmet <mehmet@partner.test>",
        to=mail_tenant.address,
        subject="İLT: Yazıcı çalışmıyor",
        body=body,
    )
    code, reply = send(smtp_server, raw, sender="mehmet@partner.test", to=[mail_tenant.address])
    assert code == 250, reply
    [ticket] = tickets(hub, mail_tenant.tenant_id)
    assert ticket.description.startswith("Bu müşterinin yazıcısı hâlâ bozuk")
    assert "Yazıcı sabahtan beri kağıt sıkıştırıyor." in ticket.description
    assert "ayse@customer.test" in _participants(hub, ticket.id)


def test_a_forward_as_attachment_over_smtp_adds_the_attached_messages_author(
    hub, smtp_server, mail_tenant
) -> None:  # type: ignore[no-untyped-def]
    inner = EmailMessage()
    inner["From"] = "Ann Original <ann@customer.test>"
    inner["To"] = "bob@partner.test"
    inner["Subject"] = "VPN down"
    inner.set_content("The VPN has been down since 9am.")
    outer = EmailMessage()
    outer["From"] = "Bob <bob@partner.test>"
    outer["To"] = mail_tenant.address
    outer["Subject"] = "Fwd: VPN down"
    outer["Message-ID"] = "<fwd-attached@partner.test>"
    outer.set_content("Please look at the attached request.")
    outer.add_attachment(inner)
    code, reply = send(
        smtp_server, outer.as_bytes(), sender="bob@partner.test", to=[mail_tenant.address]
    )
    assert code == 250, reply
    [ticket] = tickets(hub, mail_tenant.tenant_id)
    assert ticket.description.startswith("Please look at the attached request.")
    assert _participants(hub, ticket.id) == {"ann@customer.test"}
