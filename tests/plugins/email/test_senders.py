"""Who sent a message: From, then Sender, Reply-To, Return-Path, then the envelope sender, any
RFC 5321 mailbox (dotless hosts, quoted local parts, IDN); only mail with none of them is
parked, with a reason that says what each place held. Every corpus fixture, delivered without
an envelope sender, ends stored or classified unless it has no sender at all."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.models import Ticket, User
from plugins.email.delivery import deliver, settings_of
from plugins.email.models import ParkedMessage
from plugins.email.parsing import parse
from tests.plugins.email.conftest import FIXTURES


def _mail(headers: str, body: str = "The disk on db1 is full.") -> bytes:
    return (headers.strip() + "\r\nSubject: Cron <root@db1> backup\r\n\r\n" + body).encode()


@pytest.mark.parametrize(
    ("headers", "envelope", "expected"),
    [
        ("From: root@localhost (Cron Daemon)", None, "root@localhost"),
        ("From: Cron Daemon <root>\r\nSender: root@db1", None, "root@db1"),
        ('From: "John Q. Public" <"john q"@example.org>', None, '"john q"@example.org'),
        ("From: =?utf-8?q?J=C3=B6rg?= <jörg@bücher.de>", None, "jörg@bücher.de"),
        ("From: undisclosed-recipients:;\r\nReply-To: help@acme.test", None, "help@acme.test"),
        ("From: nobody\r\nReturn-Path: <bounce+x@lists.test>", None, "bounce+x@lists.test"),
        ("From: nobody", "monitor@nagios", "monitor@nagios"),
    ],
)
def test_the_sender_is_taken_from_the_first_place_that_has_one(
    headers: str, envelope: str | None, expected: str
) -> None:
    parsed = parse(_mail(headers), envelope_from=envelope)
    assert parsed.message.sender_email == expected
    assert "no_sender" not in parsed.message.meta


def test_a_message_without_any_sender_says_what_each_place_held() -> None:
    parsed = parse(_mail("From: nobody\r\nReply-To: (none)"), envelope_from="<>")
    assert parsed.message.sender_email is None
    reason = parsed.message.meta["no_sender"]
    assert "From 'nobody'" in reason and "no Sender" in reason
    assert "Reply-To '(none)'" in reason and "envelope sender '<>'" in reason


def test_root_at_localhost_becomes_a_ticket_and_senderless_mail_is_parked(hub, org) -> None:  # type: ignore[no-untyped-def]
    tenant_id = org.tenant[0]
    hub.set_enabled(tenant_id, "email", True, reason="test")
    settings = settings_of(hub.config(tenant_id, "email"))
    cron = deliver(
        hub, tenant_id, _mail("From: root@localhost (Cron Daemon)"), settings=settings, source="t"
    )
    assert cron.outcome == "ticket", cron.reason
    nobody = deliver(hub, tenant_id, _mail("From: nobody"), settings=settings, source="t")
    assert nobody.outcome == "parked"
    assert nobody.reason and nobody.reason.startswith("no sender address")
    with hub.session() as s:
        ticket = s.get(Ticket, cron.ticket_id)
        assert ticket is not None
        requester = s.get(User, ticket.created_by)
        assert requester is not None and requester.email == "root@localhost"
        parked = s.scalars(select(ParkedMessage).where(ParkedMessage.tenant_id == tenant_id)).all()
        assert [p.reason for p in parked] == [nobody.reason]


_SENDER_HEADER = re.compile(rb"^(from|sender|reply-to|return-path):[^\r\n]*@", re.I | re.M)


def _has_a_sender(raw: bytes) -> bool:
    """Independently of the parser: a sender header with an @ in its first line."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return bool(_SENDER_HEADER.search(head))


def test_every_fixture_without_envelope_is_stored_or_classified(hub, org) -> None:  # type: ignore[no-untyped-def]
    tenant_id = org.tenant[0]
    hub.set_enabled(tenant_id, "email", True, reason="test")
    settings = settings_of(hub.config(tenant_id, "email")).model_copy(
        update={"addresses": ["support@acme.test"]}
    )
    parked: list[str] = []
    emls = sorted(FIXTURES.rglob("*.eml"))
    for path in emls:
        raw = path.read_bytes()
        delivery = deliver(
            hub, tenant_id, raw, settings=settings, source="t", envelope_to=["support@acme.test"]
        )
        if delivery.outcome == "parked":
            assert not _has_a_sender(raw), (path.name, delivery.reason)
            assert delivery.reason and delivery.reason.startswith("no sender address")
            parked.append(f"{path.relative_to(FIXTURES)}: {delivery.reason}")
        else:
            assert delivery.outcome in ("ticket", "comment", "duplicate", "bounce", "auto_reply")
    print(f"\n{len(emls)} fixtures, {len(parked)} parked (no sender anywhere):")
    for line in parked:
        print("  " + line)
    # Every parked one has no sender anywhere (checked above); some without one are bounces.
    assert len(parked) <= sum(not _has_a_sender(p.read_bytes()) for p in emls)
