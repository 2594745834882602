"""Outbound mail through a local relay sink: what is sent, to whom, threaded how, and what not."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.clock import FrozenClock, set_clock
from core.models import Comment, ExternalRef, OutboxEvent, Ticket
from hub.snapshots import event_snapshot
from plugins.email.outbound import notify
from tests.plugins.email.conftest import FIXTURES, make_mail
from tests.plugins.email.smtp_client import JANE, open_ticket, send, tickets


def to_customers(sink):  # type: ignore[no-untyped-def]
    """What the sink got for people outside the tenant's staff (members are @example.com): the
    staff's own notices (an assignment, an internal note) are the matrix's, tested apart."""
    return [r for r in sink.received if not all(a.endswith("@example.com") for a in r[1])]


def test_acknowledgement_is_threaded_and_marked_automatic(
    hub, smtp_server, mail_tenant, sink
) -> None:
    ticket_id, ack = open_ticket(hub, smtp_server, mail_tenant, sink)
    assert ack["To"] == JANE
    assert mail_tenant.address in str(ack["From"])
    assert ack["Auto-Submitted"] == "auto-replied"
    assert str(ack["Subject"]).startswith(f"[#{ticket_id}]")
    assert str(ack["In-Reply-To"]).strip("<>").endswith("@client.test")
    local, domain = mail_tenant.address.split("@")
    assert str(ack["Reply-To"]).startswith(f"{local}+{ticket_id}-")
    assert str(ack["Reply-To"]).endswith(f"@{domain}")
    with hub.session() as s:
        refs = list(
            s.scalars(
                select(ExternalRef.value).where(
                    ExternalRef.ticket_id == ticket_id, ExternalRef.kind == "email_message_id"
                )
            )
        )
    assert str(ack["Message-ID"]).strip("<>") in refs
    assert "Reply to this message" in ack.get_body(("plain",)).get_content()


def test_agent_reply_is_mailed_but_internal_note_is_not(
    hub, smtp_server, mail_tenant, sink
) -> None:
    ticket_id, ack = open_ticket(hub, smtp_server, mail_tenant, sink)
    agent = mail_tenant.org.agent
    assert (
        agent.post(
            f"/api/v1/support/tickets/{ticket_id}/comment/",
            json={"comment": "SECRET internal note", "is_internal": True},
        ).status_code
        == 201
    )
    assert (
        agent.post(
            f"/api/v1/support/tickets/{ticket_id}/comment/",
            json={"comment": "Please restart the client."},
        ).status_code
        == 201
    )
    before = len(sink.received)
    mail_tenant.deliver()
    sent = sink.messages()[before:]
    assert len(sent) == 1
    reply = sent[0]
    assert "Please restart the client." in reply.get_body(("plain",)).get_content()
    assert all(b"SECRET" not in raw for _, _, raw in sink.received)
    assert reply["Auto-Submitted"] is None  # written by a person
    assert str(reply["Subject"]) == f"Re: [#{ticket_id}] VPN down"
    assert str(ack["Message-ID"]) in str(reply["References"])


def test_resolution_is_mailed_to_requester_and_cc(hub, smtp_server, mail_tenant, sink) -> None:
    raw = make_mail(
        sender=JANE, to=mail_tenant.address, subject="Shared", headers={"Cc": "bob@customer.test"}
    )
    send(smtp_server, raw, sender=JANE, to=[mail_tenant.address])
    ticket_id = tickets(hub, mail_tenant.tenant_id)[0].id
    mail_tenant.deliver()
    before = len(sink.received)
    assert (
        mail_tenant.org.agent.patch(
            f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"}
        ).status_code
        == 200
    )
    mail_tenant.deliver()
    ((mail_from, rcpts, _),) = sink.received[before:]
    msg = sink.messages()[before]
    assert rcpts == [JANE, "bob@customer.test"] and mail_from == mail_tenant.address
    assert "is resolved" in msg.get_body(("plain",)).get_content()
    assert msg["Auto-Submitted"] == "auto-generated"


def test_event_is_mailed_once_even_when_delivered_again(
    hub, smtp_server, mail_tenant, sink
) -> None:
    raw = make_mail(sender=JANE, to=mail_tenant.address)
    send(smtp_server, raw, sender=JANE, to=[mail_tenant.address])
    with hub.session() as s:
        row = s.scalars(
            select(OutboxEvent).where(
                OutboxEvent.tenant_id == mail_tenant.tenant_id,
                OutboxEvent.event_type == "ticket.created",
            )
        ).one()
        event = event_snapshot(s, row, hub.ticket_url)
    notify(event, hub)
    notify(event, hub)  # an at-least-once redelivery
    assert len(sink.received) == 1


def test_relay_down_keeps_the_event_for_retry(hub, smtp_server, mail_tenant, sink) -> None:
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    set_clock(clock)
    sink.fail = True
    send(
        smtp_server,
        make_mail(sender=JANE, to=mail_tenant.address),
        sender=JANE,
        to=[mail_tenant.address],
    )
    mail_tenant.deliver()
    assert sink.received == []
    with hub.session() as s:
        row = s.scalars(
            select(OutboxEvent).where(
                OutboxEvent.event_type == "ticket.created",
                OutboxEvent.tenant_id == mail_tenant.tenant_id,
            )
        ).one()
        assert row.status == "pending" and "email" in (row.last_error or "")
    sink.fail = False
    clock.advance(hours=1)
    mail_tenant.deliver()
    assert len(sink.received) == 1


def test_auto_reply_opens_ticket_without_acknowledgement(
    hub, smtp_server, mail_tenant, sink
) -> None:
    raw = make_mail(
        sender="robot@customer.test",
        to=mail_tenant.address,
        subject="Out of Office: back Monday",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert send(smtp_server, raw, sender="robot@customer.test", to=[mail_tenant.address])[0] == 250
    assert len(tickets(hub, mail_tenant.tenant_id)) == 1
    mail_tenant.deliver()
    assert to_customers(sink) == []


def test_headerless_loop_is_cut_by_the_rate_limit(hub, smtp_server, mail_tenant, sink) -> None:
    mail_tenant.configure(auto_reply_limit=3)
    for n in range(6):
        raw = make_mail(sender="loop@customer.test", to=mail_tenant.address, subject=f"Hi {n}")
        assert (
            send(smtp_server, raw, sender="loop@customer.test", to=[mail_tenant.address])[0] == 250
        )
        mail_tenant.deliver()
    assert len(tickets(hub, mail_tenant.tenant_id)) == 6
    assert len(to_customers(sink)) == 3


def test_bounce_marks_the_address_failing_for_this_tenant_only(
    hub, smtp_server, mail_tenant, other_mail_tenant, sink, make_member
) -> None:
    raw = (FIXTURES / "bounces-autoreplies" / "sisimai__lhost-postfix-02.eml").read_bytes()
    failed = "userunknown@example.co.jp"
    make_member(mail_tenant.org.tenant, "end_user", email=failed)
    assert send(smtp_server, raw, sender="", to=[mail_tenant.address])[0] == 250
    assert tickets(hub, mail_tenant.tenant_id) == []
    resp = mail_tenant.org.admin.get("/plugins/email/bounces/")
    assert resp.status_code == 200
    assert failed in resp.json()[0]["marked"]
    listed = mail_tenant.org.admin.get("/plugins/email/failing/").json()
    assert failed in [r["address"] for r in listed]
    assert other_mail_tenant.org.admin.get("/plugins/email/failing/").json() == []
    # Another tenant still mails the address (its acknowledgement goes out) ...
    mail = make_mail(sender=failed, to=other_mail_tenant.address, subject="Elsewhere")
    assert send(smtp_server, mail, sender=failed, to=[other_mail_tenant.address])[0] == 250
    other_mail_tenant.deliver()
    assert [r[1] for r in to_customers(sink)] == [[failed]]
    # ... and that mail to the other tenant clears nothing here.
    listed = mail_tenant.org.admin.get("/plugins/email/failing/").json()
    assert failed in [r["address"] for r in listed]


def test_a_later_message_from_the_address_or_an_admin_clears_it(
    hub, smtp_server, mail_tenant, sink
) -> None:
    raw = (FIXTURES / "bounces-autoreplies" / "sisimai__lhost-postfix-02.eml").read_bytes()
    failed = "userunknown@example.co.jp"
    assert send(smtp_server, raw, sender="", to=[mail_tenant.address])[0] == 250

    def listed() -> list[str]:
        return [r["address"] for r in mail_tenant.org.admin.get("/plugins/email/failing/").json()]

    assert failed in listed()
    # The person writes to us: their address works again, and the acknowledgement goes out.
    mail = make_mail(sender=failed, to=mail_tenant.address, subject="Back")
    assert send(smtp_server, mail, sender=failed, to=[mail_tenant.address])[0] == 250
    assert failed not in listed()
    mail_tenant.deliver()
    assert [r[1] for r in to_customers(sink)] == [[failed]]
    # Bounced again, then cleared by an admin (agents may not).
    again = raw.replace(b"Message-Id:", b"X-Old-Message-Id:", 1)
    send(smtp_server, again, sender="", to=[mail_tenant.address])
    body = {"address": failed.upper()}
    assert failed in listed()
    r = mail_tenant.org.agent.post("/plugins/email/failing/clear/", json=body)
    assert r.status_code == 403
    r = mail_tenant.org.admin.post("/plugins/email/failing/clear/", json=body)
    assert r.status_code == 200 and r.json() == {"address": failed, "cleared": True}
    assert failed not in listed()
    r = mail_tenant.org.admin.post("/plugins/email/failing/clear/", json=body)
    assert r.status_code == 404


def test_out_of_office_answer_to_our_mail_is_an_internal_note(
    hub, smtp_server, mail_tenant, sink
) -> None:
    ticket_id, ack = open_ticket(hub, smtp_server, mail_tenant, sink)
    assert (
        mail_tenant.org.agent.patch(
            f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"}
        ).status_code
        == 200
    )
    mail_tenant.deliver()
    resolved_mail = [m for m in sink.messages() if JANE in str(m["To"])][-1]
    sent_before = len(to_customers(sink))
    ooo = make_mail(
        sender=JANE,
        to=mail_tenant.address,
        subject="Automatic reply: Re: VPN",
        body="I am out of the office until Monday.",
        headers={"In-Reply-To": resolved_mail["Message-ID"], "Auto-Submitted": "auto-replied"},
    )
    code, reply = send(smtp_server, ooo, sender=JANE, to=[mail_tenant.address])
    assert code == 250 and b"auto_reply" in reply
    send(smtp_server, ooo, sender=JANE, to=[mail_tenant.address])  # redelivered: still one note
    mail_tenant.deliver()
    with hub.session() as s:
        ticket = s.get(Ticket, ticket_id)
        notes = list(s.scalars(select(Comment).where(Comment.ticket_id == ticket_id)))
    assert ticket.status == "Resolved"  # an out-of-office answer does not reopen it
    assert [(n.is_internal, "out of the office" in n.comment) for n in notes] == [(True, True)]
    assert len(to_customers(sink)) == sent_before
