"""What channels read of tickets and people: snapshots (a ticket card), the requester, members,
bouncing addresses; never another tenant's."""

from __future__ import annotations

from sqlalchemy import select

from core.models import User
from core.services.people import (
    email_of,
    failing_addresses,
    mark_failing,
    member_actor,
    requester_email,
)
from core.services.refs import add_ticket_ref
from core.services.snapshots import ticket_exists, ticket_snapshot
from core.services.tenants import TenantRef, find_tenant, tenant_id_named


def test_ticket_snapshot_of_the_tenants_ticket(hub, org, other_org, open_ticket) -> None:  # type: ignore[no-untyped-def]
    tenant = org.tenant[0]
    ticket_id = open_ticket(org, "Card me")
    with hub.session() as s:
        add_ticket_ref(s, tenant, ticket_id, "slack_thread", "T:C:1")
    with hub.session() as s:
        snap = ticket_snapshot(s, tenant, ticket_id, "http://hub/tickets/1")
        assert snap is not None
        assert (snap.id, snap.subject, snap.status, snap.url) == (
            ticket_id,
            "Card me",
            "New",
            "http://hub/tickets/1",
        )
        assert snap.requester.email == org.end_user.email and snap.requester.role == "end_user"
        assert snap.assignee is None and snap.refs == {"slack_thread": ["T:C:1"]}
        assert ticket_snapshot(s, other_org.tenant[0], ticket_id, "u") is None
        assert ticket_exists(s, tenant, ticket_id)
        assert not ticket_exists(s, other_org.tenant[0], ticket_id)


def test_requester_and_user_emails(hub, org, other_org, open_ticket) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(org)
    with hub.session() as s:
        assert requester_email(s, org.tenant[0], ticket_id) == org.end_user.email
        assert requester_email(s, other_org.tenant[0], ticket_id) is None
        assert email_of(s, org.agent.user_id) == org.agent.email
        assert email_of(s, 10**9) is None


def test_member_actor_is_any_member_of_the_tenant(hub, org, other_org) -> None:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        actor = member_actor(s, org.tenant[0], org.end_user.email.upper())
        assert actor is not None and (actor.user_id, actor.role) == (
            org.end_user.user_id,
            "end_user",
        )
        assert member_actor(s, other_org.tenant[0], org.end_user.email) is None
        assert member_actor(s, org.tenant[0], "nobody@example.com") is None


def test_bounces_mark_only_the_tenants_members(hub, org, other_org) -> None:  # type: ignore[no-untyped-def]
    wanted = [org.agent.email, other_org.agent.email, "stranger@example.com"]
    with hub.session() as s:
        assert mark_failing(s, org.tenant[0], wanted) == [org.agent.email]
        assert mark_failing(s, org.tenant[0], []) == []
    with hub.session() as s:
        assert failing_addresses(s, wanted) == {org.agent.email}
        assert failing_addresses(s, []) == set()
        other = s.scalar(select(User).where(User.email == other_org.agent.email))
        assert other is not None and not other.email_failing


def test_find_tenant_by_id_or_slug(hub, org) -> None:  # type: ignore[no-untyped-def]
    tenant_id, slug = org.tenant
    with hub.session() as s:
        found = find_tenant(s, slug)
        assert isinstance(found, TenantRef) and (found.id, found.slug) == (tenant_id, slug)
        assert find_tenant(s, str(tenant_id)) == found
        assert find_tenant(s, f"  {slug.upper()} ") == found
        assert find_tenant(s, "no-such-tenant") is None
        assert find_tenant(s, "00000000-0000-0000-0000-000000000000") is None
    # The same look-up in a session of its own, as webhook receivers resolve ``?tenant=``.
    assert tenant_id_named(hub, slug) == tenant_id
    assert tenant_id_named(hub, "no-such-tenant") is None
