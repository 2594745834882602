"""CR/LF never reaches a mail header: subjects are cleaned when a ticket is opened (any channel),
``from_name`` with CR/LF is refused (422), and the composer cleans what is already stored."""

from __future__ import annotations

from sqlalchemy import select, update

from core.models import OutboxEvent, TenantPlugin, Ticket
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import JANE, send, tickets

T = "/api/v1/support/tickets/"


def _no_crlf_headers(raw: bytes) -> None:
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        # Every header line is a header or a folded continuation, never an injected header.
        assert not line.lower().startswith((b"bcc:", b"x-injected:")), head


def test_api_subject_with_crlf_is_one_line(mail_tenant) -> None:  # type: ignore[no-untyped-def]
    r = mail_tenant.org.end_user.post(
        T,
        json={
            "subject": "Printer\r\nBcc: victim@evil.test\n\rX-Injected: 1\t!",
            "category": "Other",
            "description": "d",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["subject"] == "Printer Bcc: victim@evil.test X-Injected: 1 !"


def test_stored_subject_and_from_name_with_crlf_are_cleaned_by_the_composer(
    hub, smtp_server, mail_tenant, sink
) -> None:  # type: ignore[no-untyped-def]
    """Rows written before the input checks existed: the mail still goes, headers one line."""
    raw = make_mail(sender=JANE, to=mail_tenant.address, subject="Legacy")
    assert send(smtp_server, raw, sender=JANE, to=[mail_tenant.address])[0] == 250
    ticket_id = tickets(hub, mail_tenant.tenant_id)[-1].id
    mail_tenant.deliver()
    with hub.session() as s:
        s.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id)
            .values(subject="Legacy\r\nBcc: victim@evil.test")
        )
        row = s.scalars(
            select(TenantPlugin).where(
                TenantPlugin.tenant_id == mail_tenant.tenant_id, TenantPlugin.plugin == "email"
            )
        ).one()
        row.settings = {**row.settings, "from_name": "Acme\r\nBcc: victim@evil.test"}
    before = len(sink.received)
    r = mail_tenant.org.agent.post(f"{T}{ticket_id}/comment/", json={"comment": "Fixed?"})
    assert r.status_code == 201
    mail_tenant.deliver()
    sent = sink.received[before:]
    assert len(sent) == 1 and sent[0][1] == [JANE]
    _no_crlf_headers(sent[0][2])
    with hub.session() as s:
        assert not list(
            s.scalars(
                select(OutboxEvent.id).where(
                    OutboxEvent.tenant_id == mail_tenant.tenant_id,
                    OutboxEvent.status != "delivered",
                )
            )
        )


def test_from_name_with_crlf_is_refused(mail_tenant) -> None:  # type: ignore[no-untyped-def]
    for bad in ("Acme\r\nBcc: victim@evil.test", "Acme\nSupport", "Acme\rSupport"):
        r = mail_tenant.org.admin.patch(
            "/api/v1/admin/plugins/email/", json={"settings": {"from_name": bad}}
        )
        assert r.status_code == 422, r.text
        assert "from_name" in r.text
    r = mail_tenant.org.admin.patch(
        "/api/v1/admin/plugins/email/", json={"settings": {"from_name": "Acme Support (EU)"}}
    )
    assert r.status_code == 200, r.text
