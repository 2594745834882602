"""Mail attachments through a real SMTP socket and a REAL clamd: an infected one is kept
quarantined on the ticket (250), and a stopped clamd answers 451 (refuse, the default) or keeps
the file held unscanned (hold) until the rescan gives its verdict."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from core.models import Attachment
from core.permissions import Actor
from core.services import quarantine
from hub.builtin_scan import run_rescan
from hub.context import Hub
from plugins.email.smtp_server import IntakeController
from tests.plugins.email.smtp_client import JANE, send, tickets
from tests.private_clamd import BODY_MARK, BODY_SIGNATURE
from tests.services import free_port


def _mail(to: str, tag: str, files: dict[str, bytes]) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = JANE, to, f"Files {tag}"
    msg["Message-ID"] = f"<scan-{tag}@client.test>"
    msg.set_content("Files attached.")
    for name, data in files.items():
        msg.add_attachment(data, maintype="text", subtype="plain", filename=name)
    return msg.as_bytes()


def _send_through(hub: Hub, raw: bytes, to: str) -> tuple[int, Any]:
    port = free_port()
    controller = IntakeController(hub, "127.0.0.1", port)
    controller.start()
    try:
        return send(("127.0.0.1", port), raw, sender=JANE, to=[to])
    finally:
        controller.stop()


def _files(hub: Hub, ticket_id: int) -> dict[str, Attachment]:
    with hub.session() as s:
        rows = s.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id)).all()
        s.expunge_all()
    return {a.file_name: a for a in rows}


def test_infected_mail_attachment_is_quarantined(
    hub: Hub, settings: Any, real_clamd: Any, mail_tenant: Any
) -> None:
    scanning = Hub(
        settings.model_copy(update={"clamd_socket": real_clamd.socket}),
        pm=hub.pm,
        engine=hub.engine,
    )
    raw = _mail(mail_tenant.address, "infected", {"ok.txt": b"fine\n", "bad.txt": BODY_MARK})
    code, reply = _send_through(scanning, raw, mail_tenant.address)
    assert code == 250, reply
    [ticket] = tickets(hub, mail_tenant.tenant_id)
    files = _files(hub, ticket.id)
    assert files["ok.txt"].scan_status == "clean" and files["ok.txt"].held is None
    assert files["bad.txt"].held == "infected"
    assert files["bad.txt"].scan_signature.startswith(BODY_SIGNATURE)


def test_stopped_clamd_451_or_held_as_the_tenant_chose(
    hub: Hub, settings: Any, stoppable_clamd: Any, mail_tenant: Any
) -> None:
    scanning = Hub(
        settings.model_copy(update={"clamd_socket": stoppable_clamd.socket}),
        pm=hub.pm,
        engine=hub.engine,
    )
    stoppable_clamd.stop()
    raw = _mail(mail_tenant.address, "down", {"log.txt": b"log\n", "bad.txt": BODY_MARK})
    code, _ = _send_through(scanning, raw, mail_tenant.address)
    assert code == 451
    assert tickets(hub, mail_tenant.tenant_id) == []
    admin = mail_tenant.org.admin
    with hub.session() as s:
        quarantine.set_when_down(
            s, Actor(tenant_id=admin.tenant_id, user_id=admin.user_id, role="admin"), "hold"
        )
    code, reply = _send_through(scanning, raw, mail_tenant.address)
    assert code == 250, reply
    [ticket] = tickets(hub, mail_tenant.tenant_id)
    files = _files(hub, ticket.id)
    assert {a.held for a in files.values()} == {"unscanned"}
    stoppable_clamd.start()
    done = run_rescan(scanning)
    assert (done.clean, done.infected) == (1, 1)
    files = _files(hub, ticket.id)
    assert files["log.txt"].held is None and files["bad.txt"].held == "infected"
