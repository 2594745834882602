"""The person-data hooks of the email plugin: mail sent to a person and bounces naming them."""

from __future__ import annotations

import uuid

from core.api import PersonRecord, now
from hub.context import Hub
from plugins.email.models import Bounce, FailingAddress, SentMail


def _mail(hub: Hub, tenant_id: uuid.UUID) -> None:
    """Two mails to Ann (one with her address in capitals), one to Bob, a bounce naming both;
    Ann's address is failing."""
    with hub.session() as s:
        for event_id, recipient in enumerate(("ann@example.com", "Ann@Example.com", "bob@x.org")):
            s.add(
                SentMail(
                    tenant_id=tenant_id,
                    event_id=event_id + 1,
                    ticket_id=None,
                    recipient=recipient,
                    message_id=f"<{event_id}@hub>",
                    automatic=False,
                    created_at=now(),
                )
            )
        s.add(
            Bounce(
                tenant_id=tenant_id,
                dedupe_key=f"bounce-{tenant_id}",
                recipients=["ann@example.com", "bob@x.org"],
                marked=["ann@example.com"],
                created_at=now(),
            )
        )
        s.add(FailingAddress(tenant_id=tenant_id, address="ann@example.com", last_bounce_at=now()))


def _enabled(hub: Hub, *orgs) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    tenants = [o.tenant[0] for o in orgs]
    for tenant in tenants:
        hub.set_enabled(tenant, "email", True, reason="test")
        _mail(hub, tenant)
    return tenants


def test_hook_hub_person_data(hub: Hub, org, other_org) -> None:  # type: ignore[no-untyped-def]
    """Fan-out on the tenant's relay: the email plugin's list holds the mail sent to the person
    (the address compared case-insensitively) and the bounce that named them, this tenant's only."""
    tenant, _ = _enabled(hub, org, other_org)
    lists = hub.hooks(tenant).hub_person_data(tenant_id=tenant, email="ANN@example.com", hub=hub)
    records = [r for found in lists for r in found if r.plugin == "email"]
    assert all(isinstance(r, PersonRecord) for r in records)
    assert [r.kind for r in records] == ["sent_mail", "sent_mail", "bounce", "failing_address"]
    assert records[2].data == {"recipient": "ann@example.com", "marked_failing": True}
    assert records[3].data == {"address": "ann@example.com", "bounces": 1}
    assert {r.data.get("message_id") for r in records[:2]} == {"<0@hub>", "<1@hub>"}


def test_hook_hub_erase_person(hub: Hub, org, other_org) -> None:  # type: ignore[no-untyped-def]
    """Fan-out on the tenant's relay: sent mail and the bounce lose the address (the rows stay
    for idempotency), the count comes back, a second call returns 0; Bob and the other tenant
    keep theirs."""
    tenant, other = _enabled(hub, org, other_org)
    relay = hub.hooks(tenant)
    assert relay.hub_erase_person(tenant_id=tenant, email="ann@example.com", hub=hub) == [4]
    assert relay.hub_erase_person(tenant_id=tenant, email="ann@example.com", hub=hub) == [0]
    assert relay.hub_person_data(tenant_id=tenant, email="ann@example.com", hub=hub) == [[]]
    bob = relay.hub_person_data(tenant_id=tenant, email="bob@x.org", hub=hub)
    assert [r.kind for r in bob[0]] == ["sent_mail", "bounce"]
    theirs = hub.hooks(other).hub_person_data(tenant_id=other, email="ann@example.com", hub=hub)
    assert len(theirs[0]) == 4
    with hub.read_session() as s:
        assert s.query(SentMail).filter_by(tenant_id=tenant).count() == 3
