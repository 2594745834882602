"""Threading over real sockets: a customer's reply finds its ticket by References, by the signed
reply address, or by the subject token, and never a ticket of another tenant."""

from __future__ import annotations

import email.utils

from sqlalchemy import select

from core.models import Comment, Ticket
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import JANE, open_ticket, send, tickets


def comments_on(hub, ticket_id):  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return [
            c.comment
            for c in s.scalars(
                select(Comment).where(Comment.ticket_id == ticket_id).order_by(Comment.id)
            )
        ]


def test_reply_by_references_only(hub, smtp_server, mail_tenant, sink) -> None:
    ticket_id, ack = open_ticket(hub, smtp_server, mail_tenant, sink)
    reply = make_mail(
        sender=JANE,
        to=mail_tenant.address,
        subject="VPN still down",
        body="Still broken.",
        headers={"References": ack["Message-ID"]},
    )
    assert send(smtp_server, reply, sender=JANE, to=[mail_tenant.address])[0] == 250
    assert comments_on(hub, ticket_id) == ["Still broken."]
    assert len(tickets(hub, mail_tenant.tenant_id)) == 1


def test_reply_by_signed_address_only(hub, smtp_server, mail_tenant, sink) -> None:
    ticket_id, ack = open_ticket(hub, smtp_server, mail_tenant, sink)
    reply_to = email.utils.parseaddr(str(ack["Reply-To"]))[1]
    assert reply_to != mail_tenant.address and reply_to.endswith(mail_tenant.address.split("@")[1])
    reply = make_mail(sender=JANE, to=reply_to, subject="no token here", body="Via reply-to.")
    assert send(smtp_server, reply, sender=JANE, to=[reply_to])[0] == 250
    assert comments_on(hub, ticket_id) == ["Via reply-to."]


def test_reply_by_subject_token_only(hub, smtp_server, mail_tenant, sink) -> None:
    ticket_id, ack = open_ticket(hub, smtp_server, mail_tenant, sink)
    assert f"[#{ticket_id}]" in str(ack["Subject"])
    reply = make_mail(
        sender=JANE, to=mail_tenant.address, subject=f"Re: [#{ticket_id}] VPN", body="By subject."
    )
    assert send(smtp_server, reply, sender=JANE, to=[mail_tenant.address])[0] == 250
    assert comments_on(hub, ticket_id) == ["By subject."]


def test_reply_strips_quoted_history(hub, smtp_server, mail_tenant, sink) -> None:
    ticket_id, ack = open_ticket(hub, smtp_server, mail_tenant, sink)
    body = (
        "Thanks, that fixed it.\n\nOn Mon, 2 Apr 2012 at 18:26, Acme Support "
        f"<{mail_tenant.address}> wrote:\n> We have received your request\n> and more\n"
    )
    reply = make_mail(
        sender=JANE,
        to=mail_tenant.address,
        subject="Re: VPN",
        body=body,
        headers={"In-Reply-To": ack["Message-ID"]},
    )
    assert send(smtp_server, reply, sender=JANE, to=[mail_tenant.address])[0] == 250
    assert comments_on(hub, ticket_id) == ["Thanks, that fixed it."]


def test_reply_quoting_another_tenants_ticket_opens_a_new_one(
    hub, smtp_server, mail_tenant, other_mail_tenant, sink
) -> None:
    other_id, other_ack = open_ticket(hub, smtp_server, other_mail_tenant, sink)
    other_reply_to = email.utils.parseaddr(str(other_ack["Reply-To"]))[1]
    token = other_reply_to.split("@")[0].split("+", 1)[1]
    local, domain = mail_tenant.address.split("@")
    forged_to = f"{local}+{token}@{domain}"  # tenant B's token at tenant A's address
    reply = make_mail(
        sender=JANE,
        to=forged_to,
        subject=f"Re: [#{other_id}] VPN down",
        body="Cross-tenant reply.",
        headers={"References": other_ack["Message-ID"]},
    )
    assert send(smtp_server, reply, sender=JANE, to=[forged_to])[0] == 250
    mine = tickets(hub, mail_tenant.tenant_id)
    assert len(mine) == 1 and mine[0].id != other_id
    assert comments_on(hub, other_id) == []


def test_stranger_with_subject_token_opens_a_new_ticket(
    hub, smtp_server, mail_tenant, sink
) -> None:
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    raw = make_mail(
        sender="mallory@evil.test",
        to=mail_tenant.address,
        subject=f"Re: [#{ticket_id}] VPN",
        body="Let me in.",
    )
    assert send(smtp_server, raw, sender="mallory@evil.test", to=[mail_tenant.address])[0] == 250
    assert comments_on(hub, ticket_id) == []
    assert len(tickets(hub, mail_tenant.tenant_id)) == 2


def test_requester_reply_reopens_a_resolved_ticket(hub, smtp_server, mail_tenant, sink) -> None:
    ticket_id, ack = open_ticket(hub, smtp_server, mail_tenant, sink)
    resp = mail_tenant.org.agent.patch(
        f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"}
    )
    assert resp.status_code == 200, resp.text
    reply = make_mail(
        sender=JANE,
        to=mail_tenant.address,
        subject="Re: VPN",
        body="It broke again.",
        headers={"In-Reply-To": ack["Message-ID"]},
    )
    assert send(smtp_server, reply, sender=JANE, to=[mail_tenant.address])[0] == 250
    with hub.session() as s:
        assert s.get(Ticket, ticket_id).status == "Reopened"


def test_cc_participant_may_reply(hub, smtp_server, mail_tenant, sink) -> None:
    raw = make_mail(
        sender=JANE,
        to=mail_tenant.address,
        subject="Shared issue",
        headers={"Cc": "Bob <bob@customer.test>"},
    )
    assert send(smtp_server, raw, sender=JANE, to=[mail_tenant.address])[0] == 250
    ticket_id = tickets(hub, mail_tenant.tenant_id)[0].id
    reply = make_mail(
        sender="bob@customer.test",
        to=mail_tenant.address,
        subject=f"Re: [#{ticket_id}] Shared issue",
        body="Me too.",
    )
    assert send(smtp_server, reply, sender="bob@customer.test", to=[mail_tenant.address])[0] == 250
    assert comments_on(hub, ticket_id) == ["Me too."]
