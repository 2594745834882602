"""Attachments of mail: those over the per-message limit are named in a note to the agents, and a
message whose attachments cannot be scanned (scanner down) is not stored but retried (SMTP 451)."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from core.models import Attachment, Comment, Ticket
from hub.context import Hub
from plugins.email.models import ParkedMessage
from plugins.email.parsing import MAX_ATTACHMENTS
from plugins.email.smtp_server import IntakeController
from tests.plugins.email.smtp_client import JANE, send, tickets
from tests.services import free_port


def _mail_with_files(to: str, count: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = JANE, to, "Logs attached"
    msg["Message-ID"] = f"<files-{count}@client.test>"
    msg.set_content("All the logs.")
    for n in range(count):
        msg.add_attachment(
            f"line {n}\n".encode(), maintype="text", subtype="plain", filename=f"log-{n:04d}.txt"
        )
    return msg.as_bytes()


def test_attachments_over_the_limit_are_noted_for_agents(hub, smtp_server, mail_tenant) -> None:  # type: ignore[no-untyped-def]
    extra = 7
    raw = _mail_with_files(mail_tenant.address, MAX_ATTACHMENTS + extra)
    assert send(smtp_server, raw, sender=JANE, to=[mail_tenant.address])[0] == 250
    ticket = tickets(hub, mail_tenant.tenant_id)[-1]
    with hub.session() as s:
        kept = s.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()
        notes = s.scalars(
            select(Comment.comment).where(
                Comment.ticket_id == ticket.id, Comment.is_internal.is_(True)
            )
        ).all()
    assert len(kept) == MAX_ATTACHMENTS
    [note] = [n for n in notes if "Attachments not kept" in n]
    assert f"{extra} more attachment(s)" in note and f"at most {MAX_ATTACHMENTS}" in note
    # Agents see it in the ticket; the requester does not.
    detail = mail_tenant.org.agent.get(f"/api/v1/support/tickets/{ticket.id}/").json()
    assert any(f"{extra} more attachment(s)" in c["comment"] for c in detail["comments"])
    mine = mail_tenant.org.end_user  # not the mail's sender; a plain end user sees nothing
    assert mine.get(f"/api/v1/support/tickets/{ticket.id}/").status_code == 404


def test_scanner_down_answers_451_and_keeps_nothing(
    hub, settings, tmp_path, mail_tenant, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    scanning = Hub(
        settings.model_copy(update={"clamd_socket": str(tmp_path / "gone.sock")}),
        pm=hub.pm,
        engine=hub.engine,
    )
    port = free_port()
    controller = IntakeController(scanning, "127.0.0.1", port)
    controller.start()
    try:
        raw = _mail_with_files(mail_tenant.address, 2)
        code, reply = send(("127.0.0.1", port), raw, sender=JANE, to=[mail_tenant.address])
    finally:
        controller.stop()
    assert code == 451, reply
    with hub.session() as s:
        assert (
            s.scalars(select(Ticket).where(Ticket.tenant_id == mail_tenant.tenant_id)).all() == []
        )
        assert s.scalars(select(ParkedMessage)).all() == []
    # The scanner is back (here: no scanner): the sender's retry is stored with its files.
    code, _ = send(smtp_server, raw, sender=JANE, to=[mail_tenant.address])
    assert code == 250
    [ticket] = tickets(hub, mail_tenant.tenant_id)
    with hub.session() as s:
        assert (
            len(s.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()) == 2
        )
