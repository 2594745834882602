"""A relay that accepts and never answers (security issue #13, part of item 8): each mail waits
at most the tenant's ``relay_timeout``, and the timeout is a retryable failure of that event only."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.clock import FrozenClock, set_clock
from core.models import OutboxEvent
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import JANE, send


class SilentRelay:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_relay() -> Iterator[SilentRelay]:
    relay = SilentRelay()
    try:
        yield relay
    finally:
        relay.close()


def _created(hub, tenant_id):  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return s.scalars(
            select(OutboxEvent).where(
                OutboxEvent.event_type == "ticket.created", OutboxEvent.tenant_id == tenant_id
            )
        ).one()


def test_a_silent_relay_times_out_and_the_event_is_retried(  # type: ignore[no-untyped-def]
    hub, smtp_server, mail_tenant, other_mail_tenant, sink, silent_relay
) -> None:
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    set_clock(clock)
    mail_tenant.configure(
        relay_host="127.0.0.1", relay_port=silent_relay.port, relay_tls="none", relay_timeout=0.5
    )
    for tenant in (mail_tenant, other_mail_tenant):
        code, _ = send(
            smtp_server, make_mail(sender=JANE, to=tenant.address), sender=JANE, to=[tenant.address]
        )
        assert code == 250
    started = time.monotonic()
    mail_tenant.deliver()
    assert time.monotonic() - started < 10  # 30 s a mail before
    assert silent_relay.held, "the relay was reached"
    row = _created(hub, mail_tenant.tenant_id)
    assert row.status == "pending" and row.attempts == 1
    assert "did not answer within 0.5 s" in (row.last_error or "")
    assert row.next_attempt_at > clock.at
    # The other tenant's mail went out in the same run.
    assert _created(hub, other_mail_tenant.tenant_id).status == "delivered"
    assert len(_to_jane(sink)) == 1
    # The relay answers again: the retry sends it.
    mail_tenant.configure(relay_host=sink.host, relay_port=sink.port)
    clock.advance(hours=1)
    mail_tenant.deliver()
    assert _created(hub, mail_tenant.tenant_id).status == "delivered"
    assert len(_to_jane(sink)) == 2


def test_relay_timeout_is_bounded(mail_tenant) -> None:  # type: ignore[no-untyped-def]
    resp = mail_tenant.org.admin.patch(
        "/api/v1/admin/plugins/email/", json={"settings": {"relay_timeout": 600}}
    )
    assert resp.status_code == 422 and "relay_timeout" in resp.text


def _to_jane(sink):  # type: ignore[no-untyped-def]
    """The requester's mails (staff notices of the same tickets go to the agents)."""
    return [r for r in sink.received if JANE in r[1]]
