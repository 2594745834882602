"""A ticket's external refs as plugins use them: found by value within the tenant, listed
oldest first, recorded once, state merged into their meta."""

from __future__ import annotations

import pytest

from core.errors import NotFound
from core.permissions import system_actor
from core.services.refs import (
    Ref,
    add_ticket_ref,
    find_ref,
    latest_ticket_by_prefix,
    merge_ref_meta,
    ticket_by_ref,
    ticket_refs,
)
from core.services.tickets import Changes, get_ticket, update_ticket


def test_a_ref_is_recorded_once_and_found_within_its_tenant(
    hub, org, other_org, open_ticket
) -> None:  # type: ignore[no-untyped-def]
    tenant, other = org.tenant[0], other_org.tenant[0]
    ticket_id = open_ticket(org)
    with hub.session() as s:
        assert add_ticket_ref(s, tenant, ticket_id, "jira_issue", "TES-1", {"url": "u"})
        s.flush()
        assert add_ticket_ref(s, tenant, ticket_id, "jira_issue", "TES-1", {"url": "other"})
    with hub.session() as s:
        assert find_ref(s, tenant, "jira_issue", "TES-1") == Ref(
            ticket_id, "jira_issue", "TES-1", {"url": "u"}
        )
        assert ticket_by_ref(s, tenant, "jira_issue", "TES-1") == ticket_id
        assert find_ref(s, other, "jira_issue", "TES-1") is None
        assert ticket_by_ref(s, other, "jira_issue", "TES-1") is None
        assert ticket_refs(s, tenant, ticket_id, "jira_issue") == [
            Ref(ticket_id, "jira_issue", "TES-1", {"url": "u"})
        ]


def test_no_ref_is_recorded_on_another_tenants_ticket(hub, org, other_org, open_ticket) -> None:  # type: ignore[no-untyped-def]
    ticket_id = open_ticket(org)
    with hub.session() as s:
        assert not add_ticket_ref(s, other_org.tenant[0], ticket_id, "slack_thread", "T:C:1")
        assert not add_ticket_ref(s, org.tenant[0], 10**9, "slack_thread", "T:C:1")
    with hub.session() as s:
        assert ticket_refs(s, org.tenant[0], ticket_id, "slack_thread") == []


def test_several_kinds_and_values_the_newest_ref_wins(hub, org, open_ticket) -> None:  # type: ignore[no-untyped-def]
    tenant = org.tenant[0]
    first, second = open_ticket(org), open_ticket(org)
    with hub.session() as s:
        add_ticket_ref(s, tenant, first, "message_id", "<a@x>")
        add_ticket_ref(s, tenant, second, "message_id", "<b@x>")
        add_ticket_ref(s, tenant, first, "teams_activity", "conv|1")
    with hub.session() as s:
        assert ticket_by_ref(s, tenant, "message_id", ["<a@x>", "<b@x>"]) == second
        assert ticket_by_ref(s, tenant, ("teams_conversation", "teams_activity"), "conv|1") == first
        assert ticket_by_ref(s, tenant, "message_id", []) is None
        assert [r.value for r in ticket_refs(s, tenant, first, "message_id")] == ["<a@x>"]


def test_latest_ticket_by_prefix_skips_done_tickets_when_asked(hub, org, open_ticket) -> None:  # type: ignore[no-untyped-def]
    tenant = org.tenant[0]
    old, new = open_ticket(org), open_ticket(org)
    with hub.session() as s:
        add_ticket_ref(s, tenant, old, "teams_conversation", "a:b_c|1")
        add_ticket_ref(s, tenant, new, "teams_conversation", "a:b_c|2")
        add_ticket_ref(s, tenant, old, "teams_conversation", "a:bxc|3")  # "_" is no wildcard
    with hub.session() as s:
        assert latest_ticket_by_prefix(s, tenant, "teams_conversation", "a:b_c|") == new
        actor = system_actor(tenant)
        update_ticket(s, actor, get_ticket(s, actor, new), Changes(status="Resolved"))
    with hub.session() as s:
        assert (
            latest_ticket_by_prefix(s, tenant, "teams_conversation", "a:b_c|", open_only=True)
            == old
        )
        assert latest_ticket_by_prefix(s, tenant, "teams_conversation", "zzz|") is None


def test_merge_ref_meta_creates_the_ref_then_merges(hub, org, other_org, open_ticket) -> None:  # type: ignore[no-untyped-def]
    tenant = org.tenant[0]
    ticket_id = open_ticket(org)
    with hub.session() as s:
        merge_ref_meta(s, tenant, ticket_id, "pagerduty_dedup_key", "k1", {"status": "triggered"})
    with hub.session() as s:
        merge_ref_meta(s, tenant, ticket_id, "pagerduty_dedup_key", "k1", {"events": [1]})
    with hub.session() as s:
        ref = find_ref(s, tenant, "pagerduty_dedup_key", "k1")
        assert ref is not None and ref.meta == {"status": "triggered", "events": [1]}
    with pytest.raises(NotFound), hub.session() as s:
        merge_ref_meta(s, other_org.tenant[0], ticket_id, "pagerduty_dedup_key", "k2", {})
