"""One-click ratings from the resolution mail: signed links for the requester only, recorded
as the requester without a password, idempotent, tamper-proof, then the feedback form."""

from __future__ import annotations

import re

from core.models import Tenant, Ticket
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import JANE, send, tickets

RATE = re.compile(r"https?://[^\s/]+(/rate/[0-9.a-z]+)")


def _resolved_mail(hub, smtp_server, mail_tenant, sink) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    raw = make_mail(sender=JANE, to=mail_tenant.address, subject="Wifi")
    assert send(smtp_server, raw, sender=JANE, to=[mail_tenant.address])[0] == 250
    ticket_id = tickets(hub, mail_tenant.tenant_id)[-1].id
    mail_tenant.deliver()
    before = len(sink.received)
    r = mail_tenant.org.agent.patch(
        f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"}
    )
    assert r.status_code == 200, r.text
    mail_tenant.deliver()
    return ticket_id, sink.texts()[before]


def _rating(hub, ticket_id: int) -> tuple[int | None, str | None]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        t = s.get(Ticket, ticket_id)
        return t.satisfaction_rating, t.feedback


def test_a_click_in_the_resolution_mail_rates_then_feedback(
    hub, smtp_server, mail_tenant, sink
) -> None:  # type: ignore[no-untyped-def]
    ticket_id, text = _resolved_mail(hub, smtp_server, mail_tenant, sink)
    paths = RATE.findall(text)
    assert len(paths) == 5, text
    client = mail_tenant.org.admin.client
    client.cookies.clear()
    r = client.get(paths[3])  # "4 of 5"
    assert r.status_code == 200 and "4 of 5" in r.text
    assert _rating(hub, ticket_id) == (4, None)
    assert client.get(paths[3]).status_code == 200  # the same click again: nothing changes
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    r = client.post(paths[3], data={"csrf_token": csrf, "feedback": "Quick, thanks"})
    assert r.status_code == 200
    assert _rating(hub, ticket_id) == (4, "Quick, thanks")
    # Changing the score in a link breaks its signature.
    forged = re.sub(r"^/rate/(\d+)\.4\.", r"/rate/\1.5.", paths[3])
    assert client.get(forged).status_code == 401
    assert client.get("/rate/1.2.3.abc").status_code == 401
    assert _rating(hub, ticket_id) == (4, "Quick, thanks")


def test_thumbs_where_the_tenant_chooses_them(hub, smtp_server, mail_tenant, sink) -> None:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        tenant = s.get(Tenant, mail_tenant.tenant_id)
        tenant.settings = {**(tenant.settings or {}), "rating_scale": "thumbs"}
    ticket_id, text = _resolved_mail(hub, smtp_server, mail_tenant, sink)
    assert "Thumbs up" in text and "Thumbs down" in text
    paths = RATE.findall(text)
    assert len(paths) == 2
    assert mail_tenant.org.admin.client.get(paths[1]).status_code == 200
    assert _rating(hub, ticket_id)[0] == 1


def test_an_expired_link_is_refused(hub, smtp_server, mail_tenant, sink, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import types

    from hub import rating_links

    ticket_id, text = _resolved_mail(hub, smtp_server, mail_tenant, sink)
    path = RATE.findall(text)[0]
    later = rating_links.time.time() + 31 * 86400
    monkeypatch.setattr(rating_links, "time", types.SimpleNamespace(time=lambda: later))
    r = mail_tenant.org.admin.client.get(path)
    assert r.status_code == 401 and "expired" in r.text
    assert _rating(hub, ticket_id) == (None, None)
