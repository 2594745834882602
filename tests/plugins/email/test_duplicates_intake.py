"""A mail about the same problem as the requester's open API ticket is flagged as its likely
duplicate (over real SMTP, after the outbox delivers ``ticket.created``); a mail about something
else of the same requester is not, and neither is ever merged."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Ticket
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import send, tickets


def test_mail_after_an_api_ticket_is_flagged_on_both(
    hub, smtp_server, mail_tenant, make_member
) -> None:  # type: ignore[no-untyped-def]
    org = mail_tenant.org
    jane = make_member(org.tenant, "end_user", email="jane@customer.test")
    first = jane.post(
        "/api/v1/support/tickets/",
        json={
            "subject": "VPN drops every hour",
            "description": "Since Monday my VPN connection drops every hour; GlobalProtect "
            "shows gateway disconnected.",
            "category": "Technical Issue",
        },
    )
    assert first.status_code == 201, first.text
    first_id = first.json()["id"]
    for subject, body in (
        (
            "Any news on my VPN ticket?",
            "Hello, any update on the VPN disconnecting every hour? It dropped three times "
            "again this morning, gateway disconnected in GlobalProtect.\n\nThanks,\nJane\n\n"
            "On Tue, 3 Mar 2026 at 09:12, Jane <jane@customer.test> wrote:\n> Since Monday",
        ),
        ("Request a second monitor", "Could I get a second monitor for my desk?"),
    ):
        raw = make_mail(
            sender="Jane <jane@customer.test>", to=mail_tenant.address, subject=subject, body=body
        )
        code, reply = send(smtp_server, raw, sender="jane@customer.test", to=[mail_tenant.address])
        assert code == 250, reply
    mail_tenant.deliver()
    rows = {t.subject: t for t in tickets(hub, mail_tenant.tenant_id)}
    followup = rows["Any news on my VPN ticket?"]
    monitor = rows["Request a second monitor"]
    assert followup.channel == "email" and followup.created_by == jane.user_id
    on_mail = org.agent.get(f"/api/v1/support/tickets/{followup.id}/duplicates/").json()
    assert [f["other_ticket_id"] for f in on_mail] == [first_id]
    assert "same requester" in on_mail[0]["reason"]
    on_api = org.agent.get(f"/api/v1/support/tickets/{first_id}/duplicates/").json()
    assert [f["other_ticket_id"] for f in on_api] == [followup.id]
    assert org.agent.get(f"/api/v1/support/tickets/{monitor.id}/duplicates/").json() == []
    with hub.session() as s:
        assert (
            s.scalars(
                select(Ticket.merged_into_id).where(Ticket.tenant_id == mail_tenant.tenant_id)
            ).all()
            == [None] * 3
        )
