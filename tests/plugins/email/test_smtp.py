"""SMTP intake over real sockets: smtplib against the plugin's aiosmtpd server."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import func, select

from core.models import Audit, Comment, InboundKey
from plugins.email.delivery import address_book
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import FailingSessions, crlf, send, tickets


def test_mail_to_support_address_opens_a_ticket(hub, smtp_server, mail_tenant) -> None:
    raw = make_mail(
        sender="Jane Doe <jane@customer.test>",
        to=mail_tenant.address,
        subject="VPN down",
        body="The VPN has been down since 9am.",
    )
    code, reply = send(smtp_server, raw, sender="jane@customer.test", to=[mail_tenant.address])
    assert code == 250, reply
    rows = tickets(hub, mail_tenant.tenant_id)
    assert [(t.subject, t.channel) for t in rows] == [("VPN down", "email")]
    assert "VPN has been down" in rows[0].description
    assert f"#{rows[0].id}".encode() in reply


def test_unknown_recipient_is_refused_with_550(smtp_server, mail_tenant) -> None:
    raw = make_mail(sender="jane@customer.test", to="nobody@elsewhere.test")
    code, _ = send(smtp_server, raw, sender="jane@customer.test", to=["nobody@elsewhere.test"])
    assert code == 550


def test_disabled_tenant_address_is_refused(smtp_server, mail_tenant) -> None:
    assert mail_tenant.org.admin.post("/api/v1/admin/plugins/email/disable/").status_code == 200
    raw = make_mail(sender="jane@customer.test", to=mail_tenant.address)
    code, _ = send(smtp_server, raw, sender="jane@customer.test", to=[mail_tenant.address])
    assert code == 550


def test_message_over_tenant_limit_gets_552(hub, smtp_server, mail_tenant) -> None:
    mail_tenant.configure(max_message_bytes=2048)
    raw = make_mail(sender="jane@customer.test", to=mail_tenant.address, body="xxxxxxxxxx\n" * 500)
    code, reply = send(smtp_server, raw, sender="jane@customer.test", to=[mail_tenant.address])
    assert code == 552, reply
    assert tickets(hub, mail_tenant.tenant_id) == []


def test_duplicate_delivery_makes_one_ticket(hub, smtp_server, mail_tenant) -> None:
    raw = make_mail(sender="jane@customer.test", to=mail_tenant.address, message_id="dup-1@c.test")
    for _ in range(3):
        code, _ = send(smtp_server, raw, sender="jane@customer.test", to=[mail_tenant.address])
        assert code == 250
    assert len(tickets(hub, mail_tenant.tenant_id)) == 1


def test_plus_address_without_valid_token_still_reaches_tenant(
    hub, smtp_server, mail_tenant
) -> None:
    local, domain = mail_tenant.address.split("@")
    raw = make_mail(sender="jane@customer.test", to=f"{local}+999-forged@{domain}")
    code, _ = send(
        smtp_server, raw, sender="jane@customer.test", to=[f"{local}+999-forged@{domain}"]
    )
    assert code == 250
    assert len(tickets(hub, mail_tenant.tenant_id)) == 1


def test_database_outage_gives_451_and_retry_lands_once(
    hub, smtp_server, mail_tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = FailingSessions(hub.sessions)
    failing_reads = FailingSessions(hub.read_sessions)
    monkeypatch.setattr(hub, "sessions", failing)
    monkeypatch.setattr(hub, "read_sessions", failing_reads)
    raw = make_mail(sender="jane@customer.test", to=mail_tenant.address, message_id="outage@c.test")
    with smtplib.SMTP(*smtp_server, timeout=10) as client:
        client.ehlo()
        assert client.mail("jane@customer.test")[0] == 250
        assert client.rcpt(mail_tenant.address)[0] == 250
        failing.down = failing_reads.down = True  # the database goes away between RCPT and DATA
        code, reply = client.data(crlf(raw))
    assert code == 451, reply
    # RCPT is answered from the address book kept in memory; once that must be read again
    # while the database is down, RCPT answers 451 (temporary), never 5xx.
    address_book(hub).invalidate()
    with smtplib.SMTP(*smtp_server, timeout=10) as client:
        client.ehlo()
        client.mail("jane@customer.test")
        assert client.rcpt(mail_tenant.address)[0] == 451
    failing.down = failing_reads.down = False
    for _ in range(2):  # the sender retries; a second retry must not duplicate
        code, _ = send(smtp_server, raw, sender="jane@customer.test", to=[mail_tenant.address])
        assert code == 250
    assert len(tickets(hub, mail_tenant.tenant_id)) == 1


def test_one_message_to_two_tenants_lands_in_each(
    hub, smtp_server, mail_tenant, other_mail_tenant
) -> None:
    raw = make_mail(sender="jane@customer.test", to=mail_tenant.address)
    code, _ = send(
        smtp_server,
        raw,
        sender="jane@customer.test",
        to=[mail_tenant.address, other_mail_tenant.address],
    )
    assert code == 250
    assert len(tickets(hub, mail_tenant.tenant_id)) == 1
    assert len(tickets(hub, other_mail_tenant.tenant_id)) == 1


def test_threading_reason_is_audited(hub, smtp_server, mail_tenant) -> None:
    first = make_mail(sender="jane@customer.test", to=mail_tenant.address, message_id="a1@c.test")
    send(smtp_server, first, sender="jane@customer.test", to=[mail_tenant.address])
    reply = make_mail(
        sender="jane@customer.test",
        to=mail_tenant.address,
        subject="Re: hi",
        body="More details",
        message_id="a2@c.test",
        headers={"In-Reply-To": "<a1@c.test>"},
    )
    send(smtp_server, reply, sender="jane@customer.test", to=[mail_tenant.address])
    with hub.session() as s:
        reasons = list(
            s.scalars(
                select(Audit.new_value).where(
                    Audit.tenant_id == mail_tenant.tenant_id, Audit.action == "Inbound Threaded"
                )
            )
        )
        comments = s.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.tenant_id == mail_tenant.tenant_id)
        )
        keys = s.scalar(
            select(func.count())
            .select_from(InboundKey)
            .where(InboundKey.tenant_id == mail_tenant.tenant_id)
        )
    assert reasons == ["references"]
    assert comments == 1 and keys == 2


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
    b"N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_attachments_and_inline_images_become_ticket_attachments(
    hub, smtp_server, mail_tenant
) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "jane@customer.test", mail_tenant.address, "Logs"
    msg["Message-ID"] = "<att@c.test>"
    msg.set_content("See attached.")
    msg.add_alternative('<p>See <img src="cid:shot"></p>', subtype="html")
    msg.get_payload()[1].add_related(PNG, "image", "png", cid="<shot>", filename="shot.png")
    msg.add_attachment(
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        maintype="application",
        subtype="pdf",
        filename="../../etc/report.pdf",
    )
    msg.add_attachment(
        b"MZ\x90\x00" + b"\x00" * 64,
        maintype="application",
        subtype="octet-stream",
        filename="tool.exe",
    )
    code, reply = send(
        smtp_server, msg.as_bytes(), sender="jane@customer.test", to=[mail_tenant.address]
    )
    assert code == 250, reply
    (ticket,) = tickets(hub, mail_tenant.tenant_id)
    resp = mail_tenant.org.agent.get(f"/api/v1/support/tickets/{ticket.id}/attachments/")
    assert resp.status_code == 200
    assert sorted(a["file_name"] for a in resp.json()) == ["report.pdf", "shot.png"]
    with hub.session() as s:
        notes = list(
            s.scalars(
                select(Comment.comment).where(
                    Comment.ticket_id == ticket.id, Comment.is_internal.is_(True)
                )
            )
        )
    assert any("tool.exe" in n for n in notes)  # refused by the type policy, and said so


def test_internationalized_sender_over_smtputf8_opens_a_ticket(
    hub, smtp_server, mail_tenant
) -> None:
    """RFC 6531: a sender whose address is not ASCII (``jürgen@müller.test``) is accepted when
    the client asks for SMTPUTF8, and becomes the ticket's requester with that address."""
    sender = "jürgen@müller.test"
    raw = (
        f"From: Jürgen Müller <{sender}>\r\nTo: {mail_tenant.address}\r\n"
        "Subject: Drucker defekt\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nDer Drucker druckt nicht.\r\n"
    ).encode()
    with smtplib.SMTP(*smtp_server, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("smtputf8")
        refused = client.sendmail(
            sender, [mail_tenant.address], raw, mail_options=["SMTPUTF8", "BODY=8BITMIME"]
        )
    assert refused == {}
    (ticket,) = tickets(hub, mail_tenant.tenant_id)
    assert ticket.subject == "Drucker defekt"
    assert "Der Drucker druckt nicht." in ticket.description
    with hub.session() as s:
        from core.models import User

        assert s.get(User, ticket.created_by).email == sender


def test_several_messages_and_a_reset_in_one_session(hub, smtp_server, mail_tenant) -> None:
    """A relay keeps its connection open: three transactions in one session, one of them
    abandoned with RSET after RCPT, store exactly the two that reached DATA."""
    with smtplib.SMTP(*smtp_server, timeout=10) as client:
        client.ehlo()
        for n in (1, 2):
            raw = crlf(
                make_mail(
                    sender=f"user{n}@customer.test", to=mail_tenant.address, subject=f"Case {n}"
                )
            )
            assert client.sendmail(f"user{n}@customer.test", [mail_tenant.address], raw) == {}
            if n == 1:
                assert client.mail("user9@customer.test")[0] == 250
                assert client.rcpt(mail_tenant.address)[0] == 250
                assert client.rset()[0] == 250
    assert [t.subject for t in tickets(hub, mail_tenant.tenant_id)] == ["Case 1", "Case 2"]
