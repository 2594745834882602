"""Who owns a support address: one tenant, checked atomically on save, and only after the
address's own mail proved control (security issue: cross-tenant mail takeover).

Every mail here goes through real SMTP sockets: the intake server, the tenant's relay sink and a
separate sink standing for the operator's system relay. "Forwarding" a verification mail back
means handing the bytes the system relay received to the intake server, as the address's mail
exchanger or forwarding rule would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict
from core.models import Audit, ChannelKey, Ticket
from core.services import channel_keys
from plugins.email.delivery import address_book
from tests.plugins.email.conftest import MailTenant, Sink, enable_email, make_mail
from tests.plugins.email.smtp_client import send
from tests.services import free_port

TOKEN = re.compile(rb"hub-verify-[A-Za-z0-9_-]{32}")


@pytest.fixture
def system_relay(hub, monkeypatch) -> Iterator[Sink]:  # type: ignore[no-untyped-def]
    """The operator's relay (``HUB_SYSTEM_RELAY_*``): a local sink the tenant cannot read."""
    port = free_port()
    box = Sink("127.0.0.1", port)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(hub.settings, "system_relay_host", "127.0.0.1")
    monkeypatch.setattr(hub.settings, "system_relay_port", port)
    monkeypatch.setattr(hub.settings, "system_relay_tls", "none")
    yield box
    controller.stop()


def claim(tenant: MailTenant, *addresses: str) -> dict:  # type: ignore[type-arg]
    """Save the tenant's addresses through the admin API, without the operator's help."""
    r = tenant.org.admin.patch(
        "/api/v1/admin/plugins/email/", json={"settings": {"addresses": list(addresses)}}
    )
    assert r.status_code == 200, r.text
    address_book(tenant.hub).invalidate()
    return r.json()  # type: ignore[no-any-return]


def key_states(tenant: MailTenant) -> dict[str, str]:
    rows = tenant.org.admin.get("/api/v1/admin/plugins/").json()
    email = next(p for p in rows if p["name"] == "email")
    return {
        k["key"]: "verified" if k["verified"] else "contested" if k["contested"] else "pending"
        for k in email["channel_keys"]
    }


def tickets_of(hub, tenant_id) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return list(s.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id)))


def test_another_tenants_address_is_refused_on_save(
    hub, smtp_server, mail_tenant, other_mail_tenant
) -> None:
    victim, attacker = mail_tenant, other_mail_tenant
    r = attacker.org.admin.patch(
        "/api/v1/admin/plugins/email/",
        json={"settings": {"addresses": [attacker.address, victim.address]}},
    )
    assert r.status_code == 409, r.text
    assert victim.address in r.json()["detail"]
    # The refused save changed nothing, and the victim re-saving its settings changes nothing.
    assert key_states(attacker) == {attacker.address: "verified"}
    victim.configure(addresses=[victim.address], from_name="Acme Support")
    raw = make_mail(sender="jane@customer.test", to=victim.address, subject="Invoice question")
    code, reply = send(smtp_server, raw, sender="jane@customer.test", to=[victim.address])
    assert code == 250, reply
    assert [t.subject for t in tickets_of(hub, victim.tenant_id)] == ["Invoice question"]
    assert tickets_of(hub, attacker.tenant_id) == []


def test_a_new_address_takes_mail_only_after_its_verification_mail_comes_back(
    hub, smtp_server, mail_tenant, sink, system_relay
) -> None:  # type: ignore[no-untyped-def]
    new = "billing@acme-new.test"
    body = claim(mail_tenant, mail_tenant.address, new)
    assert key_states(mail_tenant) == {mail_tenant.address: "verified", new: "pending"}
    assert any("verification mail was sent" in n for n in body["notes"])

    # Until then an ordinary mail to it is refused, permanently and with a reason.
    raw = make_mail(sender="jane@customer.test", to=new, subject="Before verification")
    code, reply = send(smtp_server, raw, sender="jane@customer.test", to=[new])
    assert code == 550 and b"verification" in reply, reply
    assert tickets_of(hub, mail_tenant.tenant_id) == []

    # The secret went to the address through the operator's relay only.
    [(mail_from, rcpts, verification)] = system_relay.received
    assert rcpts == [new]
    assert TOKEN.search(verification)
    assert not any(TOKEN.search(raw) for _, _, raw in sink.received)
    for shown in (str(body), str(mail_tenant.org.admin.get("/api/v1/admin/plugins/").json())):
        assert not TOKEN.search(shown.encode())

    code, reply = send(smtp_server, verification, sender=mail_from, to=[new])
    assert code == 250 and b"verified" in reply, reply
    assert key_states(mail_tenant)[new] == "verified"
    assert tickets_of(hub, mail_tenant.tenant_id) == []  # the verification mail is no ticket

    raw = make_mail(sender="jane@customer.test", to=new, subject="After verification")
    code, reply = send(smtp_server, raw, sender="jane@customer.test", to=[new])
    assert code == 250, reply
    assert [t.subject for t in tickets_of(hub, mail_tenant.tenant_id)] == ["After verification"]


def test_a_guessed_or_stale_secret_verifies_nothing(
    hub, smtp_server, mail_tenant, system_relay
) -> None:  # type: ignore[no-untyped-def]
    new = "sales@acme-new.test"
    claim(mail_tenant, mail_tenant.address, new)
    [(_, _, first)] = system_relay.received
    r = mail_tenant.org.admin.post("/api/v1/admin/plugins/email/keys/verify/", json={"key": new})
    assert r.status_code == 200, r.text
    forged = make_mail(sender="x@evil.test", to=new, subject="hub-verify-" + "A" * 32)
    for raw in (forged, first):  # a made-up secret, and the one the resend replaced
        code, _ = send(smtp_server, raw, sender="x@evil.test", to=[new])
        assert code == 550
    assert key_states(mail_tenant)[new] == "pending"
    second = system_relay.received[-1][2]
    code, _ = send(smtp_server, second, sender="x@evil.test", to=[new])
    assert code == 250
    assert key_states(mail_tenant)[new] == "verified"


def test_without_a_system_relay_the_operator_verifies(hub, smtp_server, mail_tenant) -> None:
    new = "help@acme-new.test"
    body = claim(mail_tenant, mail_tenant.address, new)
    assert any("operator" in n for n in body["notes"])
    with hub.session() as s:
        channel_keys.mark_verified(s, mail_tenant.tenant_id, "email", new)
    address_book(hub).invalidate()
    assert key_states(mail_tenant)[new] == "verified"


def test_an_address_claimed_by_two_tenants_at_once_is_verified_for_neither(
    hub, smtp_server, org, other_org, sink, system_relay
) -> None:  # type: ignore[no-untyped-def]
    contested = "support@newco.test"
    first = enable_email(org, hub, sink, f"a@{org.tenant[1]}.test")
    second = enable_email(other_org, hub, sink, f"b@{other_org.tenant[1]}.test")
    claim(first, first.address, contested)
    claim(second, second.address, contested)
    mails = [m for m in system_relay.received if m[1] == [contested]]
    assert len(mails) == 2
    # Whoever's verification arrives first must not win by arrival order.
    for mail_from, _, raw in mails:
        code, _ = send(smtp_server, raw, sender=mail_from, to=[contested])
        assert code == 550
    assert key_states(first)[contested] == "contested"
    assert key_states(second)[contested] == "contested"
    with hub.session() as s:  # the operator settles it
        channel_keys.mark_verified(s, first.tenant_id, "email", contested)
    address_book(hub).invalidate()
    raw = make_mail(sender="jane@customer.test", to=contested, subject="Settled")
    assert send(smtp_server, raw, sender="jane@customer.test", to=[contested])[0] == 250
    assert [t.subject for t in tickets_of(hub, first.tenant_id)] == ["Settled"]
    assert tickets_of(hub, second.tenant_id) == []


def test_one_verified_owner_per_key_is_the_databases_rule(hub, org, other_org) -> None:
    """Not a read-then-write: the partial unique index refuses a second verified claim even
    when the service's own check is bypassed."""
    with hub.session() as s:
        channel_keys.mark_verified(s, org.tenant[0], "email", "shared@x.test")
    with pytest.raises(Conflict), hub.session() as s:
        channel_keys.mark_verified(s, other_org.tenant[0], "email", "shared@x.test")
    with pytest.raises(IntegrityError), hub.session() as s:
        s.add(
            ChannelKey(
                tenant_id=other_org.tenant[0],
                plugin="email",
                key="shared@x.test",
                verified_at=channel_keys.now(),
            )
        )
        s.flush()
    with hub.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(ChannelKey)
                .where(ChannelKey.key == "shared@x.test")
            )
            == 1
        )


def test_removing_an_address_releases_it(hub, mail_tenant, other_mail_tenant, system_relay) -> None:  # type: ignore[no-untyped-def]
    claim(mail_tenant, "moved@acme-new.test")
    assert mail_tenant.address not in key_states(mail_tenant)
    body = claim(other_mail_tenant, other_mail_tenant.address, mail_tenant.address)
    assert key_states(other_mail_tenant)[mail_tenant.address] == "pending"
    assert body["channel_keys"]


def test_claims_are_audited_with_the_plugin_change(hub, mail_tenant) -> None:
    claim(mail_tenant, mail_tenant.address, "extra@acme-new.test")
    with hub.session() as s:
        details = [
            a.details
            for a in s.scalars(
                select(Audit).where(
                    Audit.tenant_id == mail_tenant.tenant_id, Audit.action == "Plugin Configured"
                )
            )
        ]
    assert any("addresses" in (d or {}).get("settings", []) for d in details)


def test_the_migration_keeps_single_claims_and_holds_double_ones(tmp_path) -> None:
    """Upgrading a hub where two tenants list one address (the state the attack left)."""
    import uuid

    from alembic import command
    from sqlalchemy import create_engine

    from hub.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "0002_core_indexes")
    engine = create_engine(url)
    a, b = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        for tid, slug, addresses in (
            (a, "a", ["own@a.test", "shared@x.test"]),
            (b, "b", ["shared@x.test"]),
        ):
            conn.execute(
                text(
                    "INSERT INTO tenants (id, slug, name, settings, created_at) "
                    "VALUES (:id, :slug, :slug, '{}', CURRENT_TIMESTAMP)"
                ),
                {"id": tid.hex, "slug": slug},
            )
            conn.execute(
                text(
                    "INSERT INTO tenant_plugins (tenant_id, plugin, enabled, settings,"
                    " state, updated_at) VALUES (:t, 'email', 1, :s, '{}', "
                    "CURRENT_TIMESTAMP)"
                ),
                {"t": tid.hex, "s": json.dumps({"addresses": addresses})},
            )
    command.upgrade(cfg, "0010_channel_keys")
    with engine.connect() as conn:
        rows = {
            (r.tenant_id, r.key, r.verified_at is not None)
            for r in conn.execute(
                text("SELECT tenant_id, key, verified_at FROM support_channel_keys")
            )
        }
    engine.dispose()
    assert rows == {
        (a.hex, "own@a.test", True),
        (a.hex, "shared@x.test", False),
        (b.hex, "shared@x.test", False),
    }
