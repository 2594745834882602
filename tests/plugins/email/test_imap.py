"""IMAP polling against a real Dovecot: fetch unseen, commit, then flag or move; leases; parking."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Ticket
from plugins.email import imap
from plugins.email.delivery import settings_of
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.imap_client import append, configure_imap, mailbox, unseen
from tests.plugins.email.smtp_client import FailingSessions, tickets


def test_poll_turns_unseen_mail_into_tickets_and_flags_it(hub, dovecot, mail_tenant) -> None:
    configure_imap(mail_tenant, dovecot)
    append(
        dovecot,
        make_mail(sender="jane@c.test", to=dovecot.user, subject="One"),
        make_mail(sender="joe@c.test", to=dovecot.user, subject="Two"),
    )
    result = imap.poll_all(hub)
    assert list(result.values()) == [{"ticket": 2}]
    assert sorted(t.subject for t in tickets(hub, mail_tenant.tenant_id)) == ["One", "Two"]
    assert unseen(dovecot) == []
    state = hub.config(mail_tenant.tenant_id, "email").state["imap"]
    assert state["uidvalidity"] > 0 and state["last_uid"] == 2
    # A second round finds nothing new.
    assert list(imap.poll_all(hub).values()) == [{}]
    assert len(tickets(hub, mail_tenant.tenant_id)) == 2


def test_processed_folder_receives_the_mail(hub, dovecot, mail_tenant) -> None:
    with mailbox(dovecot) as client:
        client.create_folder("Processed")
    configure_imap(mail_tenant, dovecot, processed_folder="Processed")
    append(dovecot, make_mail(sender="jane@c.test", to=dovecot.user, subject="Move me"))
    imap.poll_all(hub)
    with mailbox(dovecot) as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert client.select_folder("Processed")[b"EXISTS"] == 1
    assert len(tickets(hub, mail_tenant.tenant_id)) == 1


def test_bad_message_is_parked_and_does_not_block_the_rest(hub, dovecot, mail_tenant) -> None:
    configure_imap(mail_tenant, dovecot)
    senderless = b"Subject: nobody sent me\r\n\r\nno From, no Return-Path\r\n"
    append(dovecot, senderless, make_mail(sender="jane@c.test", to=dovecot.user, subject="Fine"))
    result = imap.poll_all(hub)
    assert list(result.values()) == [{"parked": 1, "ticket": 1}]
    assert [t.subject for t in tickets(hub, mail_tenant.tenant_id)] == ["Fine"]
    assert unseen(dovecot) == []
    resp = mail_tenant.org.admin.get("/plugins/email/parked/")
    assert resp.status_code == 200
    (row,) = resp.json()
    assert row["subject"] == "nobody sent me" and "sender" in row["reason"]
    raw = mail_tenant.org.admin.get(f"/plugins/email/parked/{row['id']}/raw")
    assert "no From, no Return-Path" in raw.json()["raw"]
    # Not for agents, and not for another tenant's admin.
    assert mail_tenant.org.agent.get("/plugins/email/parked/").status_code == 403


def test_parked_routes_need_an_admin_scope_token(mail_tenant) -> None:  # type: ignore[no-untyped-def]
    admin = mail_tenant.org.admin
    for scope in ("read", "write"):
        made = admin.post("/api/v1/auth/tokens/", json={"name": scope, "scope": scope}).json()
        r = admin.client.get(
            "/plugins/email/parked/", headers={"Authorization": f"Bearer {made['token']}"}
        )
        assert r.status_code == 403 and scope in r.json()["detail"]
    assert admin.get("/plugins/email/parked/").status_code == 200  # the admin-scope token


def test_parked_route_is_404_for_tenant_without_the_plugin(other_org) -> None:
    assert other_org.admin.get("/plugins/email/parked/").status_code == 404


def test_database_outage_leaves_mail_unseen(
    hub, dovecot, mail_tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_imap(mail_tenant, dovecot)
    append(dovecot, make_mail(sender="jane@c.test", to=dovecot.user, subject="Later"))
    settings = settings_of(hub.config(mail_tenant.tenant_id, "email"))
    failing = FailingSessions(hub.sessions)
    monkeypatch.setattr(hub, "sessions", failing)
    failing.down = True
    assert imap.poll_mailbox(hub, mail_tenant.tenant_id, settings, {}) == {}
    failing.down = False
    assert len(unseen(dovecot)) == 1
    imap.poll_all(hub)
    assert unseen(dovecot) == []
    with hub.session() as s:
        assert s.scalars(
            select(Ticket.subject).where(Ticket.tenant_id == mail_tenant.tenant_id)
        ).all() == ["Later"]


def test_one_poller_per_mailbox(hub, dovecot, mail_tenant) -> None:
    configure_imap(mail_tenant, dovecot)
    key = imap.mailbox_key(settings_of(hub.config(mail_tenant.tenant_id, "email")))
    assert imap.acquire(hub, mail_tenant.tenant_id, key, holder="other-process")
    append(dovecot, make_mail(sender="jane@c.test", to=dovecot.user))
    assert list(imap.poll_all(hub).values()) == [{"busy": 1}]
    assert tickets(hub, mail_tenant.tenant_id) == []
    assert not imap.acquire(hub, mail_tenant.tenant_id, key, holder="third")
    imap.release(hub, mail_tenant.tenant_id, key, holder="other-process")
    assert list(imap.poll_all(hub).values()) == [{"ticket": 1}]


def test_same_message_twice_in_the_mailbox_makes_one_ticket(hub, dovecot, mail_tenant) -> None:
    configure_imap(mail_tenant, dovecot)
    raw = make_mail(sender="jane@c.test", to=dovecot.user, message_id="twice@c.test")
    append(dovecot, raw, raw)
    assert list(imap.poll_all(hub).values()) == [{"ticket": 1, "duplicate": 1}]
    assert len(tickets(hub, mail_tenant.tenant_id)) == 1


def test_periodic_task_is_offered(hub) -> None:  # type: ignore[no-untyped-def]
    tasks = [t for group in hub.pm.hook.hub_periodic_tasks(hub=hub) for t in group]
    assert "email.imap_poll" in [t.name for t in tasks]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_poll_over_tls(
    hub, dovecot_tls, mail_tenant, security: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    # Trust the test server's self-signed certificate; verification itself stays on.
    monkeypatch.setattr(
        imap, "tls_context", lambda: ssl.create_default_context(cafile=str(dovecot_tls.cert))
    )
    port = dovecot_tls.port if security == "starttls" else dovecot_tls.tls_port
    mail_tenant.configure(
        host=dovecot_tls.host,
        port=port,
        security=security,
        user=dovecot_tls.user,
        password=dovecot_tls.password,
    )
    append(dovecot_tls, make_mail(sender="jane@c.test", to=dovecot_tls.user, subject="Secure"))
    assert list(imap.poll_all(hub).values()) == [{"ticket": 1}]
    assert [t.subject for t in tickets(hub, mail_tenant.tenant_id)] == ["Secure"]


def test_untrusted_certificate_is_refused(hub, dovecot_tls, mail_tenant) -> None:
    mail_tenant.configure(
        host=dovecot_tls.host,
        port=dovecot_tls.tls_port,
        security="tls",
        user=dovecot_tls.user,
        password=dovecot_tls.password,
    )
    append(dovecot_tls, make_mail(sender="jane@c.test", to=dovecot_tls.user))
    assert list(imap.poll_all(hub).values()) == [{"error": 1}]
    assert tickets(hub, mail_tenant.tenant_id) == []


def test_long_rounds_renew_the_lease_batch_by_batch(
    hub, dovecot, mail_tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_imap(mail_tenant, dovecot)
    monkeypatch.setattr(imap, "BATCH", 1)
    append(
        dovecot,
        *(make_mail(sender="jane@c.test", to=dovecot.user, subject=f"M{n}") for n in range(3)),
    )
    assert list(imap.poll_all(hub).values()) == [{"ticket": 3}]
    assert unseen(dovecot) == []


def test_a_chunk_is_stored_in_one_transaction_and_threads_within_itself(
    hub, dovecot, mail_tenant
) -> None:  # type: ignore[no-untyped-def]
    """Six unseen messages, one of them a reply to another: one commit stores them all (the
    reply lands on the ticket its original opened in the same chunk), then all are flagged."""
    from sqlalchemy import event

    from core.models import Comment

    configure_imap(mail_tenant, dovecot)
    news = [
        make_mail(
            sender=f"user{n}@c.test",
            to=dovecot.user,
            subject=f"Case {n}",
            message_id=f"case{n}@c.test",
        )
        for n in range(5)
    ]
    reply = make_mail(
        sender="user2@c.test",
        to=dovecot.user,
        subject="Re: Case 2",
        body="Still broken.",
        headers={"In-Reply-To": "<case2@c.test>"},
    )
    append(dovecot, *news, reply)
    commits: list[int] = []

    def count(_connection) -> None:  # type: ignore[no-untyped-def]
        commits.append(1)

    event.listen(hub.engine, "commit", count)
    try:
        assert list(imap.poll_all(hub).values()) == [{"ticket": 5, "comment": 1}]
    finally:
        event.remove(hub.engine, "commit", count)
    assert unseen(dovecot) == []
    # The lease (take, give back), the stored chunk, its saved IMAP state: not one per message.
    assert len(commits) < 6
    with hub.session() as s:
        (ticket,) = s.scalars(
            select(Ticket).where(
                Ticket.tenant_id == mail_tenant.tenant_id, Ticket.subject == "Case 2"
            )
        ).all()
        comments = s.scalars(select(Comment.comment).where(Comment.ticket_id == ticket.id)).all()
    assert comments == ["Still broken."]
