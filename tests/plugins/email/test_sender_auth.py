"""Mail acts as staff only when it is authenticated (security issue #13, item 2).

A forged ``From: agent@...`` with ``[#id]`` in the subject once became the agent's public reply,
mailed (phishing link included) to the real requester. Now staff mail counts as staff only when
it came to the reply address signed for that agent AND its From domain passes DMARC alignment:
DKIM or SPF checked by the hub against a local DNS server, or the topmost
Authentication-Results of a relay the tenant trusts. Anything else from a staff address is an
internal note flagged "unverified sender", never mailed; a requester's unverified reply is
flagged (or parked, when the tenant says so). Everything goes through a real SMTP socket.
"""

from __future__ import annotations

import base64
import smtplib
from email.message import EmailMessage
from email.utils import parseaddr

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from core.models import Comment, Ticket
from plugins.email import authenticate
from plugins.email.models import ParkedMessage
from tests.hub.web.conftest import PASSWORD, sign_in
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.fake_dns import Zone, run_dns
from tests.plugins.email.smtp_client import crlf

REQUESTER = "jane@customer.test"
PHISH = "Your account is locked: sign in at http://phish.example/login to keep it."


@pytest.fixture(scope="module")
def rsa_key() -> tuple[bytes, str]:
    """A DKIM key: the private PEM, and the public key as a DNS ``p=`` value."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, base64.b64encode(public).decode()


def publish_dkim(zone: Zone, domain: str, rsa_key: tuple[bytes, str], selector: str = "s1") -> None:
    zone.txt(f"{selector}._domainkey.{domain}", f"v=DKIM1; k=rsa; p={rsa_key[1]}")


def signed(raw: bytes, domain: str, rsa_key: tuple[bytes, str], selector: str = "s1") -> bytes:
    """The message as it goes on the wire, with a DKIM signature of ``domain`` on top."""
    raw = crlf(raw)
    sig = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        rsa_key[0],
        include_headers=[b"from", b"to", b"subject", b"message-id"],
    )
    return sig + raw


def smtp_send(server: tuple[str, int], raw: bytes, *, mail_from: str, to: str) -> bytes:
    with smtplib.SMTP(*server, timeout=10) as client:
        client.ehlo("client.test")
        assert client.mail(mail_from)[0] == 250
        code, reply = client.rcpt(to)
        assert code == 250, reply
        code, reply = client.data(crlf(raw))
        assert code == 250, reply
        return reply


def open_ticket(hub, smtp_server, mail_tenant, sink) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A ticket by mail from the requester; returns it and the reply address the hub mailed
    them (signed for them), with the sink emptied."""
    raw = make_mail(
        sender=f"Jane <{REQUESTER}>",
        to=mail_tenant.address,
        subject="VPN down",
        body="The VPN is down.",
    )
    smtp_send(smtp_server, raw, mail_from=REQUESTER, to=mail_tenant.address)
    with hub.session() as s:
        ticket_id = s.scalars(
            select(Ticket.id).where(Ticket.tenant_id == mail_tenant.tenant_id)
        ).one()
    mail_tenant.deliver()
    # The requester's acknowledgement (staff hear about the new ticket on their own).
    acks = [m for m in sink.messages() if REQUESTER in m["To"]]
    assert len(acks) == 1
    reply_to = parseaddr(acks[0]["Reply-To"])[1]
    sink.received.clear()
    return ticket_id, reply_to


def agent_address(mail_tenant, ticket_id: int, agent_email: str) -> str:  # type: ignore[no-untyped-def]
    """The reply address the hub gives that agent for the ticket."""
    token = mail_tenant.hub.ticket_token(mail_tenant.tenant_id, ticket_id, recipient=agent_email)
    local, _, domain = mail_tenant.address.partition("@")
    return f"{local}+{token}@{domain}"


def agent_mail(
    agent_email: str,
    to: str,
    ticket_id: int,
    body: str = PHISH,
    headers: dict[str, str] | None = None,
) -> bytes:
    return make_mail(
        sender=f"Agent <{agent_email}>",
        to=to,
        subject=f"Re: [#{ticket_id}] VPN down",
        body=body,
        headers=headers,
    )


def comments(hub, ticket_id: int) -> list[Comment]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return list(
            s.scalars(select(Comment).where(Comment.ticket_id == ticket_id).order_by(Comment.id))
        )


def mailed_to_requester(mail_tenant, sink) -> list[EmailMessage]:  # type: ignore[no-untyped-def]
    mail_tenant.deliver()
    return [m for m in sink.messages() if REQUESTER in m["To"]]


def assert_unverified_note(hub, mail_tenant, sink, ticket_id: int, agent) -> None:  # type: ignore[no-untyped-def]
    [note] = comments(hub, ticket_id)
    assert (note.is_internal, note.unverified_sender, note.user_id) == (True, True, agent.user_id)
    assert mailed_to_requester(mail_tenant, sink) == []


def assert_public_reply(hub, mail_tenant, sink, ticket_id: int, agent, text: str) -> None:  # type: ignore[no-untyped-def]
    [reply] = comments(hub, ticket_id)
    assert (reply.is_internal, reply.unverified_sender, reply.user_id) == (
        False,
        False,
        agent.user_id,
    )
    [mailed] = mailed_to_requester(mail_tenant, sink)
    assert text in mailed.get_body(("plain",)).get_content()


# ------------------------------------------------------------------ forged staff mail


def test_forged_agent_mail_becomes_an_unverified_internal_note_and_is_never_mailed(
    hub, smtp_server, mail_tenant, sink
) -> None:
    """The attack as reported: From the agent, ``[#id]`` in the subject, to the support address."""
    agent = mail_tenant.org.agent
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    smtp_send(
        smtp_server,
        agent_mail(agent.email, mail_tenant.address, ticket_id),
        mail_from=agent.email,
        to=mail_tenant.address,
    )
    assert_unverified_note(hub, mail_tenant, sink, ticket_id, agent)
    # The API shows agents the flag; the requester sees nothing of the note.
    [shown] = agent.get(f"/api/v1/support/tickets/{ticket_id}/comments/").json()
    assert (shown["is_internal"], shown["unverified_sender"]) == (True, True)
    with hub.session() as s:
        assert s.get(Ticket, ticket_id).first_response_at is None


def test_forged_agent_mail_to_the_requesters_reply_address_is_unverified(
    hub, smtp_server, mail_tenant, sink
) -> None:
    """The requester (or whoever holds their mail) knows their own signed reply address: it is
    not the agent's, so mail from the agent's address to it is no reply of the agent's."""
    agent = mail_tenant.org.agent
    ticket_id, requester_address = open_ticket(hub, smtp_server, mail_tenant, sink)
    assert "+" in requester_address
    smtp_send(
        smtp_server,
        agent_mail(agent.email, requester_address, ticket_id),
        mail_from=agent.email,
        to=requester_address,
    )
    assert_unverified_note(hub, mail_tenant, sink, ticket_id, agent)


def test_agent_mail_with_valid_aligned_dkim_to_their_reply_address_is_a_public_reply(
    hub, smtp_server, mail_tenant, sink, dns_zone, rsa_key
) -> None:
    agent = mail_tenant.org.agent
    domain = agent.email.partition("@")[2]
    publish_dkim(dns_zone, domain, rsa_key)
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    to = agent_address(mail_tenant, ticket_id, agent.email)
    raw = signed(
        agent_mail(agent.email, to, ticket_id, body="Restart the VPN client."), domain, rsa_key
    )
    smtp_send(smtp_server, raw, mail_from=agent.email, to=to)
    assert_public_reply(hub, mail_tenant, sink, ticket_id, agent, "Restart the VPN client.")


def test_valid_dkim_without_the_agents_reply_address_is_still_a_note(
    hub, smtp_server, mail_tenant, sink, dns_zone, rsa_key
) -> None:
    agent = mail_tenant.org.agent
    domain = agent.email.partition("@")[2]
    publish_dkim(dns_zone, domain, rsa_key)
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    raw = signed(agent_mail(agent.email, mail_tenant.address, ticket_id), domain, rsa_key)
    smtp_send(smtp_server, raw, mail_from=agent.email, to=mail_tenant.address)
    assert_unverified_note(hub, mail_tenant, sink, ticket_id, agent)


def test_dkim_of_another_domain_or_a_bad_signature_does_not_verify(
    hub, smtp_server, mail_tenant, sink, dns_zone, rsa_key
) -> None:
    agent = mail_tenant.org.agent
    publish_dkim(dns_zone, "attacker.test", rsa_key)
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    to = agent_address(mail_tenant, ticket_id, agent.email)
    # A valid signature, but of the attacker's domain (not aligned with From).
    smtp_send(
        smtp_server,
        signed(agent_mail(agent.email, to, ticket_id), "attacker.test", rsa_key),
        mail_from=agent.email,
        to=to,
    )
    # The agent's domain named in d=, but its key is not the one that signed (no record).
    tampered = signed(
        agent_mail(agent.email, to, ticket_id, body="Second try"),
        agent.email.partition("@")[2],
        rsa_key,
    )
    smtp_send(smtp_server, tampered, mail_from=agent.email, to=to)
    notes = comments(hub, ticket_id)
    assert [(c.is_internal, c.unverified_sender) for c in notes] == [(True, True), (True, True)]
    assert mailed_to_requester(mail_tenant, sink) == []


def test_agent_mail_with_spf_pass_from_an_allowed_ip_is_a_public_reply(
    hub, smtp_server, mail_tenant, sink, dns_zone
) -> None:
    agent = mail_tenant.org.agent
    dns_zone.txt(agent.email.partition("@")[2], "v=spf1 ip4:127.0.0.1 -all")
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    to = agent_address(mail_tenant, ticket_id, agent.email)
    smtp_send(
        smtp_server,
        agent_mail(agent.email, to, ticket_id, body="Fixed on our side."),
        mail_from=agent.email,
        to=to,
    )
    assert_public_reply(hub, mail_tenant, sink, ticket_id, agent, "Fixed on our side.")


def test_spf_from_a_disallowed_ip_or_for_another_domain_does_not_verify(
    hub, smtp_server, mail_tenant, sink, dns_zone
) -> None:
    agent = mail_tenant.org.agent
    dns_zone.txt(agent.email.partition("@")[2], "v=spf1 ip4:192.0.2.10 -all")
    dns_zone.txt("attacker.test", "v=spf1 ip4:127.0.0.1 -all")
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    to = agent_address(mail_tenant, ticket_id, agent.email)
    smtp_send(smtp_server, agent_mail(agent.email, to, ticket_id), mail_from=agent.email, to=to)
    # SPF passes, but for the envelope's domain: not aligned with the From domain.
    smtp_send(
        smtp_server,
        agent_mail(agent.email, to, ticket_id, body="Second try"),
        mail_from="bounce@attacker.test",
        to=to,
    )
    notes = comments(hub, ticket_id)
    assert [(c.is_internal, c.unverified_sender) for c in notes] == [(True, True), (True, True)]
    assert mailed_to_requester(mail_tenant, sink) == []


# ------------------------------------------------------------------ trusted relays


def relay_header(authserv: str, domain: str, result: str = "pass") -> str:
    return f"{authserv}; spf=none; dkim=none; dmarc={result} header.from={domain}"


def test_trusted_relay_authentication_results_dmarc_pass_is_a_public_reply(
    hub, smtp_server, mail_tenant, sink
) -> None:
    mail_tenant.configure(
        trusted_authserv_ids=["MX.Relay.test"], trusted_relay_networks=["127.0.0.0/8"]
    )
    agent = mail_tenant.org.agent
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    to = agent_address(mail_tenant, ticket_id, agent.email)
    header = relay_header("mx.relay.test", agent.email.partition("@")[2])
    smtp_send(
        smtp_server,
        agent_mail(
            agent.email,
            to,
            ticket_id,
            body="Relay says hi.",
            headers={"Authentication-Results": header},
        ),
        mail_from=agent.email,
        to=to,
    )
    assert_public_reply(hub, mail_tenant, sink, ticket_id, agent, "Relay says hi.")


@pytest.mark.parametrize(
    "case",
    ["untrusted authserv-id", "lower header of the trusted relay", "connection not from the relay"],
)
def test_authentication_results_that_do_not_count_are_ignored(
    hub, smtp_server, mail_tenant, sink, case: str
) -> None:
    networks = ["192.0.2.0/24"] if case == "connection not from the relay" else ["127.0.0.1"]
    mail_tenant.configure(trusted_authserv_ids=["mx.relay.test"], trusted_relay_networks=networks)
    agent = mail_tenant.org.agent
    domain = agent.email.partition("@")[2]
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    to = agent_address(mail_tenant, ticket_id, agent.email)
    raw = agent_mail(agent.email, to, ticket_id)
    if case == "untrusted authserv-id":
        raw = f"Authentication-Results: {relay_header('mx.attacker.test', domain)}\n".encode() + raw
    elif case == "lower header of the trusted relay":
        # The relay's own header (on top) says fail; the sender wrote a "pass" below it.
        raw = (
            f"Authentication-Results: {relay_header('mx.relay.test', domain, 'fail')}\n"
            f"Authentication-Results: {relay_header('mx.relay.test', domain)}\n"
        ).encode() + raw
    else:
        raw = f"Authentication-Results: {relay_header('mx.relay.test', domain)}\n".encode() + raw
    smtp_send(smtp_server, raw, mail_from=agent.email, to=to)
    assert_unverified_note(hub, mail_tenant, sink, ticket_id, agent)


# ------------------------------------------------------------------ requesters


def test_forged_requester_reply_is_flagged_unverified_and_shown_to_agents(
    hub, app, smtp_server, mail_tenant, sink, make_member
) -> None:
    ticket_id, reply_address = open_ticket(hub, smtp_server, mail_tenant, sink)
    raw = make_mail(
        sender=REQUESTER,
        to=reply_address,
        subject=f"Re: [#{ticket_id}] VPN down",
        body="Please close my account.",
    )
    smtp_send(smtp_server, raw, mail_from=REQUESTER, to=reply_address)
    [comment] = comments(hub, ticket_id)
    assert (comment.is_internal, comment.unverified_sender) == (False, True)
    agent = mail_tenant.org.agent
    [shown] = agent.get(f"/api/v1/support/tickets/{ticket_id}/comments/").json()
    assert shown["unverified_sender"] is True
    # The web thread marks it for agents.
    web_agent = make_member(mail_tenant.org.tenant, "agent", password=PASSWORD)
    page = sign_in(app, web_agent.email).page(f"/tickets/{ticket_id}")
    assert "Please close my account." in page
    assert page.count("Unverified sender") == 1


def test_requester_reply_with_aligned_dkim_is_not_flagged(
    hub, smtp_server, mail_tenant, sink, dns_zone, rsa_key
) -> None:
    publish_dkim(dns_zone, "customer.test", rsa_key)
    ticket_id, reply_address = open_ticket(hub, smtp_server, mail_tenant, sink)
    raw = make_mail(
        sender=REQUESTER,
        to=reply_address,
        subject=f"Re: [#{ticket_id}] VPN down",
        body="Works again, thanks.",
    )
    smtp_send(
        smtp_server, signed(raw, "customer.test", rsa_key), mail_from=REQUESTER, to=reply_address
    )
    [comment] = comments(hub, ticket_id)
    assert (comment.is_internal, comment.unverified_sender) == (False, False)


def test_unverified_requester_reply_is_parked_when_the_tenant_refuses_it(
    hub, smtp_server, mail_tenant, sink
) -> None:
    mail_tenant.configure(unverified_requester_mail="park")
    ticket_id, reply_address = open_ticket(hub, smtp_server, mail_tenant, sink)
    raw = make_mail(
        sender=REQUESTER,
        to=reply_address,
        subject=f"Re: [#{ticket_id}] VPN down",
        body="Please close my account.",
    )
    reply = smtp_send(smtp_server, raw, mail_from=REQUESTER, to=reply_address)
    assert b"parked" in reply
    assert comments(hub, ticket_id) == []
    with hub.session() as s:
        [parked] = s.scalars(
            select(ParkedMessage).where(ParkedMessage.tenant_id == mail_tenant.tenant_id)
        ).all()
    assert "unverified sender" in parked.reason


def test_settings_refuse_a_bad_network_or_authserv_id(mail_tenant) -> None:
    admin = mail_tenant.org.admin
    for settings in (
        {"trusted_relay_networks": ["not-a-net"]},
        {"trusted_authserv_ids": ["mx relay"]},
        {"unverified_requester_mail": "drop"},
    ):
        resp = admin.patch("/api/v1/admin/plugins/email/", json={"settings": settings})
        assert resp.status_code == 422, (settings, resp.text)


# ------------------------------------------------------------------ IMAP (no SMTP peer)


def test_imap_mail_relies_on_dkim_and_the_trusted_relays_header(
    hub, smtp_server, mail_tenant, sink, dovecot, dns_zone, rsa_key
) -> None:
    """Fetched mail has no peer to check SPF against: DKIM and the mailbox provider's own
    (topmost) Authentication-Results decide; on IMAP no relay network is needed."""
    from plugins.email import imap
    from tests.plugins.email.imap_client import append, configure_imap

    agent = mail_tenant.org.agent
    domain = agent.email.partition("@")[2]
    dns_zone.txt(domain, "v=spf1 ip4:127.0.0.1 -all")  # would pass over SMTP; not here
    ticket_id, _ = open_ticket(hub, smtp_server, mail_tenant, sink)
    configure_imap(mail_tenant, dovecot, trusted_authserv_ids=["imap.provider.test"])
    to = agent_address(mail_tenant, ticket_id, agent.email)
    append(dovecot, agent_mail(agent.email, to, ticket_id, body="Forged over IMAP"))
    imap.poll_all(hub)
    publish_dkim(dns_zone, domain, rsa_key)
    append(
        dovecot,
        signed(agent_mail(agent.email, to, ticket_id, body="Signed over IMAP"), domain, rsa_key),
    )
    imap.poll_all(hub)
    relayed = agent_mail(agent.email, to, ticket_id, body="Relayed over IMAP")
    append(
        dovecot,
        f"Authentication-Results: {relay_header('imap.provider.test', domain)}\n".encode()
        + relayed,
    )
    imap.poll_all(hub)
    got = [(c.comment, c.is_internal, c.unverified_sender) for c in comments(hub, ticket_id)]
    assert got == [
        ("Forged over IMAP", True, True),
        ("Signed over IMAP", False, False),
        ("Relayed over IMAP", False, False),
    ]
    assert len(mailed_to_requester(mail_tenant, sink)) == 2


def test_dns_answers_and_denials_are_cached_for_their_ttl(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with run_dns(ttl=60) as (zone, nameserver):
        monkeypatch.setenv("HUB_DNS_NAMESERVERS", nameserver)
        zone.txt("cached.example", "v=spf1 -all")
        for _ in range(3):
            assert authenticate.txt("cached.example") == [b"v=spf1 -all"]
            assert authenticate.txt("_dmarc.missing.example") == []
        asked = [name for name, _ in zone.queries]
        assert asked.count("cached.example") == 1
        assert asked.count("_dmarc.missing.example") == 1
