"""Group commit in the SMTP server, over real sockets: messages of concurrent sessions are stored
in one transaction, each session answered 250 only after that commit; a bad message in a batch
is parked alone; a database outage gives 451 to every message of the batch, and the retry lands
each exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from core.models import Comment, InboundKey, Ticket
from plugins.email import smtp_server
from plugins.email.models import ParkedMessage
from plugins.email.smtp_server import IntakeController
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import FailingSessions, crlf, send
from tests.services import free_port


class Gate:
    """Holds the storing thread at its first batch (a warm-up message) until ``wanted`` more
    messages are waiting, so that those are stored together; records every batch's size."""

    def __init__(self, controller: IntakeController, wanted: int) -> None:
        self.controller = controller
        self.wanted = wanted
        self.sizes: list[int] = []
        self.holding = threading.Event()
        self.real = smtp_server.deliver_many

    def waiting(self) -> int:
        return self.controller.intake.batcher.queue.qsize()

    def __call__(self, hub: Any, items: list[Any]) -> Any:
        if not self.sizes:
            self.holding.set()
            until(lambda: self.waiting() >= self.wanted)
        self.sizes.append(len(items))
        return self.real(hub, items)


def until(condition: Callable[[], bool]) -> None:
    """Wait for other sessions' DATA to arrive (not for application time)."""
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def warm_up(address: tuple[str, int], gate: Gate, to: str) -> threading.Thread:
    """A first message that the gate holds while the test's messages queue up behind it."""
    raw = make_mail(sender="warm@customer.test", to=to, message_id="warm-up@c.test")
    thread = threading.Thread(
        target=send, args=(address, raw), kwargs={"sender": "warm@customer.test", "to": [to]}
    )
    thread.start()
    until(gate.holding.is_set)
    return thread


@pytest.fixture
def server(hub, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], tuple[Any, Gate]]]:  # type: ignore[no-untyped-def]
    started: list[IntakeController] = []

    def start(wanted: int) -> tuple[Any, Gate]:
        port = free_port()
        controller = IntakeController(hub, "127.0.0.1", port)
        gate = Gate(controller, wanted)
        monkeypatch.setattr(smtp_server, "deliver_many", gate)
        controller.start()
        started.append(controller)
        return ("127.0.0.1", port), gate

    yield start
    for controller in started:
        controller.stop()


def send_all(
    address: tuple[str, int], mails: list[tuple[bytes, str]], to: str
) -> list[tuple[int, bytes]]:
    """Every mail in its own SMTP session, all at once."""
    with ThreadPoolExecutor(max_workers=len(mails)) as pool:
        return list(pool.map(lambda m: send(address, m[0], sender=m[1], to=[to]), mails))


def counts(hub, tenant_id) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    with hub.session() as s:

        def n(model: Any) -> int:
            return int(
                s.scalar(
                    select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
                )
                or 0
            )

        return n(Ticket), n(Comment), n(InboundKey), n(ParkedMessage)


def test_concurrent_sessions_are_stored_together_each_exactly_once(
    hub, server, mail_tenant
) -> None:
    address, gate = server(12)
    warm = warm_up(address, gate, mail_tenant.address)
    first = make_mail(
        sender="ann@customer.test",
        to=mail_tenant.address,
        subject="Disk full",
        message_id="first@c.test",
    )
    mails = [
        (
            make_mail(
                sender=f"user{n}@customer.test",
                to=mail_tenant.address,
                subject=f"Problem {n}",
                message_id=f"m{n}@c.test",
            ),
            f"user{n}@customer.test",
        )
        for n in range(8)
    ]
    # Two copies of one message, and a reply to a message of the same batch.
    mails += [(first, "ann@customer.test"), (first, "ann@customer.test")]
    mails.append(
        (
            make_mail(
                sender="ann@customer.test",
                to=mail_tenant.address,
                subject="Re: Disk full",
                body="Still full",
                message_id="r@c.test",
                headers={"In-Reply-To": "<first@c.test>"},
            ),
            "ann@customer.test",
        )
    )
    mails.append(
        (
            make_mail(sender="new@customer.test", to=mail_tenant.address, message_id="n1@c.test"),
            "new@customer.test",
        )
    )
    replies = send_all(address, mails, mail_tenant.address)
    warm.join()
    assert [code for code, _ in replies] == [250] * len(mails), replies
    assert gate.sizes == [1, len(mails)]  # all stored in one transaction
    tickets, comments, keys, parked = counts(hub, mail_tenant.tenant_id)
    # The warm-up, 8, "Disk full" and the new sender's; one copy is a duplicate; the reply is
    # a comment, unless it came before "Disk full" in the batch (then it opened a ticket).
    assert (tickets, comments) in ((11, 1), (12, 0))
    assert (keys, parked) == (tickets + comments, 0)
    assert sum(b"duplicate" in reply for _, reply in replies) == 1


def test_reply_in_the_same_batch_threads_onto_the_new_ticket(hub, server, mail_tenant) -> None:
    address, gate = server(2)
    warm = warm_up(address, gate, mail_tenant.address)
    first = make_mail(
        sender="ann@customer.test",
        to=mail_tenant.address,
        subject="Disk full",
        message_id="first2@c.test",
    )
    reply = make_mail(
        sender="ann@customer.test",
        to=mail_tenant.address,
        subject="Re: Disk full",
        body="Still full",
        message_id="r2@c.test",
        headers={"In-Reply-To": "<first2@c.test>"},
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = pool.submit(
            send, address, first, sender="ann@customer.test", to=[mail_tenant.address]
        )
        until(lambda: gate.waiting() == 1)  # the first message is queued before its reply
        answered = pool.submit(
            send, address, reply, sender="ann@customer.test", to=[mail_tenant.address]
        )
        (code1, _), (code2, text) = sent.result(), answered.result()
    warm.join()
    assert (code1, code2) == (250, 250), text
    assert gate.sizes == [1, 2]
    assert counts(hub, mail_tenant.tenant_id)[:3] == (2, 1, 3)
    assert b"comment" in text


def test_a_bad_message_is_parked_and_the_rest_of_its_batch_lands(hub, server, mail_tenant) -> None:
    address, gate = server(6)
    warm = warm_up(address, gate, mail_tenant.address)
    mails = [
        (
            make_mail(
                sender=f"user{n}@customer.test", to=mail_tenant.address, message_id=f"ok{n}@c.test"
            ),
            f"user{n}@customer.test",
        )
        for n in range(5)
    ]
    # No From, Sender, Reply-To or Return-Path, and a null envelope sender: nobody to file a
    # ticket for. It fails inside the batch's transaction.
    nobody = crlf(
        b"To: " + mail_tenant.address.encode() + b"\nSubject: who am I\n"
        b"Message-ID: <nobody@c.test>\n\nno sender at all\n"
    )
    mails.append((nobody, ""))
    replies = send_all(address, mails, mail_tenant.address)
    warm.join()
    assert [code for code, _ in replies] == [250] * 6, replies
    assert gate.sizes == [1, 6]
    assert b"parked" in replies[-1][1]
    assert counts(hub, mail_tenant.tenant_id) == (6, 0, 6, 1)


def test_database_outage_fails_the_whole_batch_with_451_and_the_retry_lands_once(
    hub, server, mail_tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, gate = server(6)
    mails = [
        (
            make_mail(
                sender=f"user{n}@customer.test",
                to=mail_tenant.address,
                message_id=f"down{n}@c.test",
            ),
            f"user{n}@customer.test",
        )
        for n in range(6)
    ]
    failing = FailingSessions(hub.sessions)
    monkeypatch.setattr(hub, "sessions", failing)
    warm = warm_up(address, gate, mail_tenant.address)
    failing.down = True  # RCPT is answered from the address book; DATA cannot be stored
    replies = send_all(address, mails, mail_tenant.address)
    warm.join()
    assert [code for code, _ in replies] == [451] * 6, replies
    assert gate.sizes == [1, 6]
    failing.down = False
    for _ in range(2):  # the senders retry; a second retry must not duplicate
        replies = send_all(address, mails, mail_tenant.address)
        assert [code for code, _ in replies] == [250] * 6, replies
    # The warm-up was held while the database went down: it got 451 too, and is not stored.
    assert counts(hub, mail_tenant.tenant_id) == (6, 0, 6, 0)
