"""The core's side of sender authentication (security issue #13, item 2): who may act as staff
through a channel, and the per-recipient reply tokens that decide it for mail."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from core.intake import InboundMessage, UnverifiedSender
from core.models import Comment


def _open(hub, org) -> int:  # type: ignore[no-untyped-def]
    result = hub.ingest(
        org.tenant[0],
        InboundMessage(
            channel="email",
            dedupe_key=uuid.uuid4().hex,
            sender_email=org.end_user.email,
            subject="Printer on fire",
            body="Help",
            sender_verified=True,
            auth_summary="test",
        ),
    )
    assert result.outcome == "ticket"
    return int(result.ticket_id)


def _reply(hub, org, ticket_id: int, sender: str, **kw) -> Comment:  # type: ignore[no-untyped-def]
    msg = InboundMessage(
        channel=kw.pop("channel", "email"),
        dedupe_key=uuid.uuid4().hex,
        sender_email=sender,
        subject=f"Re: [#{ticket_id}]",
        body="A reply",
        **kw,
    )
    result = hub.ingest(org.tenant[0], msg)
    assert (result.outcome, result.ticket_id) == ("comment", ticket_id), result
    with hub.session() as s:
        return s.scalars(select(Comment).where(Comment.id == result.comment_id)).one()


def test_a_reply_token_signed_for_a_recipient_holds_only_for_that_address(hub, org) -> None:
    tenant = org.tenant[0]
    token = hub.ticket_token(tenant, 42, recipient="Agent@Example.com")
    assert hub.verify_ticket_token(tenant, token) == 42  # it threads like any reply token
    assert hub.verify_token_recipient(tenant, token, "agent@example.com")
    assert not hub.verify_token_recipient(tenant, token, "someone@example.com")
    assert not hub.verify_token_recipient(uuid.uuid4(), token, "agent@example.com")
    plain = hub.ticket_token(tenant, 42)
    assert hub.verify_ticket_token(tenant, plain) == 42
    assert not hub.verify_token_recipient(tenant, plain, "agent@example.com")
    forged = plain + "-" + "a" * 10
    assert not hub.verify_token_recipient(tenant, forged, "agent@example.com")


def test_verified_staff_mail_acts_as_staff_only_through_their_own_signed_address(hub, org) -> None:
    ticket_id = _open(hub, org)
    agent = org.agent.email
    cases = [
        ({"sender_verified": False, "auth_summary": "dkim: none"}, (True, True)),
        ({"sender_verified": True}, (True, True)),  # verified, but to the plain address
        (
            {"sender_verified": True, "thread_token": hub.ticket_token(org.tenant[0], ticket_id)},
            (True, True),
        ),
        (
            {
                "sender_verified": True,
                "thread_token": hub.ticket_token(
                    org.tenant[0], ticket_id, recipient=org.end_user.email
                ),
            },
            (True, True),
        ),
        (
            {
                "sender_verified": True,
                "thread_token": hub.ticket_token(org.tenant[0], ticket_id, recipient=agent),
            },
            (False, False),
        ),
    ]
    for kw, expected in cases:
        comment = _reply(hub, org, ticket_id, agent, **kw)
        assert (comment.is_internal, comment.unverified_sender) == expected, kw


def test_a_channel_that_authenticates_its_requests_still_lets_staff_act(hub, org) -> None:
    """Slack and Teams name the sender in a signed request (``sender_verified`` None)."""
    ticket_id = _open(hub, org)
    comment = _reply(hub, org, ticket_id, org.agent.email, channel="slack", ticket_hint=ticket_id)
    assert (comment.is_internal, comment.unverified_sender) == (False, False)


def test_unverified_requester_reply_is_flagged_or_refused(hub, org) -> None:
    ticket_id = _open(hub, org)
    comment = _reply(hub, org, ticket_id, org.end_user.email, sender_verified=False)
    assert (comment.is_internal, comment.unverified_sender) == (False, True)
    with pytest.raises(UnverifiedSender):
        _reply(
            hub, org, ticket_id, org.end_user.email, sender_verified=False, unverified_policy="park"
        )
    verified = _reply(hub, org, ticket_id, org.end_user.email, sender_verified=True)
    assert verified.unverified_sender is False
