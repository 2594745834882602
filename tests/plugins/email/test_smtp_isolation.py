"""One tenant's large mail does not hold another tenant's mail (SMTP over real sockets)."""

from __future__ import annotations

import threading
import time

from plugins.email import smtp_server as server_module
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import send, tickets


def test_a_large_mail_being_stored_does_not_hold_another_tenants_mail(
    hub, smtp_server, mail_tenant, other_mail_tenant, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Storing the large mail is made slow (it waits for the small one, up to 15 s): when both
    share one storing queue, the small one waits the whole 15 s behind it."""
    real = server_module.deliver_many
    big_started, small_stored = threading.Event(), threading.Event()

    def slow_for_large(hub_, items):  # type: ignore[no-untyped-def]
        if any(len(i.raw) > server_module.LARGE_MESSAGE_BYTES for i in items):
            big_started.set()
            small_stored.wait(15)
            return real(hub_, items)
        out = real(hub_, items)
        small_stored.set()
        return out

    monkeypatch.setattr(server_module, "deliver_many", slow_for_large)
    big = make_mail(
        sender="big@customer.test",
        to=mail_tenant.address,
        subject="Logs attached",
        body="x" * (server_module.LARGE_MESSAGE_BYTES + 10_000),
    )
    results: dict[str, tuple[int, bytes]] = {}
    sender = threading.Thread(
        target=lambda: results.__setitem__(
            "big", send(smtp_server, big, sender="big@customer.test", to=[mail_tenant.address])
        )
    )
    sender.start()
    assert big_started.wait(10)
    small = make_mail(sender="jane@other.test", to=other_mail_tenant.address, subject="Quick one")
    started = time.monotonic()
    code, reply = send(smtp_server, small, sender="jane@other.test", to=[other_mail_tenant.address])
    waited = time.monotonic() - started
    sender.join(30)
    assert code == 250, reply
    assert waited < 6, f"the small mail waited {waited:.1f} s behind the large one"
    assert results["big"][0] == 250
    assert [t.subject for t in tickets(hub, other_mail_tenant.tenant_id)] == ["Quick one"]
    assert [t.subject for t in tickets(hub, mail_tenant.tenant_id)] == ["Logs attached"]
