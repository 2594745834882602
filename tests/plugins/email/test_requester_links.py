"""A requester who wrote in by mail follows the link in the acknowledgement and uses the portal
(reply, rate) without a password; the hub's own mails go out through the tenant's relay
(``hub_send_mail``)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from core.api import OutboundMail
from plugins.email.hub_mail import send_mail
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import JANE, open_ticket, send, tickets
from tests.smtp_sink import LINK

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _signin_path(text: str) -> str:
    found = [m for m in LINK.finditer(text) if m.group(1) == "signin"]
    assert len(found) == 1, text
    return f"/signin/{found[0].group(2)}"


def test_the_acknowledgement_link_lets_the_requester_reply_and_rate(
    app, hub, smtp_server, mail_tenant, sink
) -> None:  # type: ignore[no-untyped-def]
    ticket_id, ack = open_ticket(hub, smtp_server, mail_tenant, sink)
    body = ack.get_body(("plain",)).get_content()
    path = _signin_path(body)
    assert "without a password" in body
    browser = TestClient(app, raise_server_exceptions=False)
    r = browser.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{ticket_id}"
    page = browser.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200 and "VPN down" in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    reply = browser.post(
        f"/tickets/{ticket_id}/reply",
        data={"csrf_token": csrf, "comment": "Still down after a restart."},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    agent = mail_tenant.org.agent
    detail = agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    assert "Still down after a restart." in [c["comment"] for c in detail["comments"]]
    assert (
        agent.patch(
            f"/api/v1/support/tickets/{ticket_id}/", json={"status": "Resolved"}
        ).status_code
        == 200
    )
    before = len(sink.received)
    mail_tenant.deliver()
    resolved = [m for m in sink.messages()[before:] if m["To"] == JANE]
    assert resolved, "the status mail went to the requester"
    path = _signin_path(resolved[-1].get_body(("plain",)).get_content())
    browser = TestClient(app, raise_server_exceptions=False)
    assert browser.get(path, follow_redirects=False).status_code == 303
    page = browser.get(f"/tickets/{ticket_id}")
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    rated = browser.post(
        f"/tickets/{ticket_id}/rate",
        data={"csrf_token": csrf, "rating": "5", "feedback": "Thanks"},
        follow_redirects=False,
    )
    assert rated.status_code == 303
    detail = agent.get(f"/api/v1/support/tickets/{ticket_id}/").json()
    assert detail["satisfaction_rating"] == 5


def test_a_mail_with_participants_carries_no_sign_in_link(
    hub, smtp_server, mail_tenant, sink
) -> None:  # type: ignore[no-untyped-def]
    raw = make_mail(
        sender=JANE, to=mail_tenant.address, subject="Shared", headers={"Cc": "bob@customer.test"}
    )
    send(smtp_server, raw, sender=JANE, to=[mail_tenant.address])
    ticket_id = tickets(hub, mail_tenant.tenant_id)[0].id
    mail_tenant.deliver()
    agent = mail_tenant.org.agent
    agent.post(f"/api/v1/support/tickets/{ticket_id}/comment/", json={"comment": "On it."})
    mail_tenant.deliver()
    texts = sink.texts()
    shared = [t for t, m in zip(texts, sink.messages(), strict=True) if m["Cc"]]
    assert shared and all("/signin/" not in t for t in shared)
    assert all(f"/tickets/{ticket_id}" in t for t in shared)


def test_hub_mail_goes_through_the_tenants_relay(hub, mail_tenant, sink) -> None:  # type: ignore[no-untyped-def]
    message_id = send_mail(
        OutboundMail(
            tenant_id=mail_tenant.tenant_id,
            to="new@customer.test",
            subject="You are invited",
            text="Follow the link.",
        ),
        hub,
    )
    assert message_id
    [(mail_from, rcpts, _)] = [r for r in sink.received if "new@customer.test" in r[1]]
    assert mail_from == mail_tenant.address and rcpts == ["new@customer.test"]
    [msg] = [m for m in sink.messages() if m["To"] == "new@customer.test"]
    assert msg["Message-ID"] == message_id and msg["Auto-Submitted"] == "auto-generated"


def test_an_invitation_from_the_api_is_mailed_by_the_tenants_relay(mail_tenant, sink) -> None:  # type: ignore[no-untyped-def]
    made = mail_tenant.org.admin.post(
        "/api/v1/admin/invitations/", json={"email": "sam@customer.test", "role": "agent"}
    ).json()
    assert made["sent"] is True and made["link"] is None
    [msg] = [m for m in sink.messages() if m["To"] == "sam@customer.test"]
    assert mail_tenant.address in str(msg["From"])
    assert len(sink.links("invite")) == 1


def test_without_a_relay_the_plugin_does_not_send(hub, org) -> None:  # type: ignore[no-untyped-def]
    assert org.admin.post("/api/v1/admin/plugins/email/enable/").status_code == 200
    mail = OutboundMail(tenant_id=org.tenant[0], to="a@b.test", subject="s", text="t")
    assert send_mail(mail, hub) is None
