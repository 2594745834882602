"""SMTP client helpers of the email tests: send over a real socket, read back the tickets."""

from __future__ import annotations

import re
import smtplib

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from core.models import Ticket
from tests.plugins.email.conftest import make_mail


def send(server: tuple[str, int], raw: bytes, *, sender: str, to: list[str]) -> tuple[int, bytes]:
    """One SMTP session; returns the DATA reply (or the first refusal)."""
    raw = crlf(raw)
    with smtplib.SMTP(*server, timeout=10) as client:
        client.ehlo()
        code, reply = client.mail(sender)
        assert code == 250
        for rcpt in to:
            code, reply = client.rcpt(rcpt)
            if code != 250:
                return code, reply
        return client.data(raw)


def crlf(raw: bytes) -> bytes:
    """Wire line endings: smtplib sends bytes as they are."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def tickets(hub, tenant_id) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return list(
            s.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id).order_by(Ticket.id))
        )


class FailingSessions:
    """A session factory that fails like a database that went away, while ``down`` is set."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real = real
        self.down = False

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.down:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return self.real(*args, **kwargs)


JANE = "jane@customer.test"


def open_ticket(hub, smtp_server, tenant, sink, subject="VPN down"):  # type: ignore[no-untyped-def]
    """Jane mails support; returns (ticket id, the acknowledgement mail the sink caught)."""
    raw = make_mail(sender=f"Jane <{JANE}>", to=tenant.address, subject=subject, body="It is down.")
    code, _ = send(smtp_server, raw, sender=JANE, to=[tenant.address])
    assert code == 250
    ticket_id = tickets(hub, tenant.tenant_id)[-1].id
    before = len(sink.received)
    tenant.deliver()
    # Only Jane's: the agent auto-assigned to the ticket is told by mail too (the matrix).
    acks = [m for m in sink.messages()[before:] if JANE in str(m["To"])]
    assert len(acks) == 1
    return ticket_id, acks[0]
