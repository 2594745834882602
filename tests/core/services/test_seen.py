"""Seen-once keys of inbound deliveries: recorded in the caller's transaction, per tenant and
channel, and unique (a concurrent second delivery fails on commit)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from core.services.seen import key_of_comment, opening_raw, record_seen, seen


def test_a_recorded_key_is_seen_for_its_tenant_and_channel_only(hub, org, other_org) -> None:  # type: ignore[no-untyped-def]
    tenant, other = org.tenant[0], other_org.tenant[0]
    with hub.session() as s:
        assert not seen(s, tenant, "jira", "delivery-1")
        record_seen(s, tenant, "jira", "delivery-1", outcome="webhook")
        assert seen(s, tenant, "jira", "delivery-1")
    with hub.session() as s:
        assert seen(s, tenant, "jira", "delivery-1")
        assert not seen(s, tenant, "pagerduty", "delivery-1")
        assert not seen(s, other, "jira", "delivery-1")


def test_a_second_record_of_the_same_key_fails_on_commit(hub, org) -> None:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        record_seen(s, org.tenant[0], "jira", "twice", outcome="webhook")
    with pytest.raises(IntegrityError), hub.session() as s:
        record_seen(s, org.tenant[0], "jira", "twice", outcome="webhook")


def test_long_keys_are_cut_to_the_column_alike_on_both_sides(hub, org) -> None:  # type: ignore[no-untyped-def]
    key = "k" * 400
    with hub.session() as s:
        record_seen(s, org.tenant[0], "teams", key, outcome="action")
    with hub.session() as s:
        assert seen(s, org.tenant[0], "teams", key)
        assert seen(s, org.tenant[0], "teams", key[:300])


def test_the_key_a_comment_came_with_and_the_raw_message_of_a_ticket(  # type: ignore[no-untyped-def]
    hub, org, other_org, open_ticket
) -> None:
    tenant = org.tenant[0]
    ticket_id = open_ticket(org)
    with hub.session() as s:
        record_seen(
            s, tenant, "slack", "T1:Ev1", ticket_id=ticket_id, comment_id=77, outcome="comment"
        )
        record_seen(
            s, tenant, "email", "<m1@x>", ticket_id=ticket_id, outcome="ticket", raw_path="ab/abc"
        )
    with hub.session() as s:
        assert key_of_comment(s, tenant, "slack", 77) == "T1:Ev1"
        assert key_of_comment(s, tenant, "teams", 77) is None
        assert key_of_comment(s, other_org.tenant[0], "slack", 77) is None
        assert opening_raw(s, tenant, ticket_id) == "ab/abc"
        assert opening_raw(s, other_org.tenant[0], ticket_id) is None
