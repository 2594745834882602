"""How Teams conversations map to tickets: external refs, delivery markers, stored activities.

Ticket ref kinds (values are ``<conversation id>|<activity id>``, unique per tenant):
- ``teams_conversation``: the conversation (personal chat, or a channel thread whose id carries
  ``;messageid=``) a ticket came from, with the activity that opened it. ``meta`` keeps the
  ``service_url`` to answer there (Bot Connector endpoints are regional) and ``via``
  (``bot`` or ``webhook``).
- ``teams_activity``: an activity in such a conversation (ours or the user's), so that a reply to
  it (``replyToId``) threads to its ticket.
- ``teams_triage``: the triage card posted for agents (updated in place).
- ``teams_sent``: markers ``<outbox event id>:<purpose>`` that make notifications idempotent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from core.api import (
    HubContext,
    add_ticket_ref,
    find_ref,
    latest_ticket_by_prefix,
    merge_ref_meta,
    ticket_by_ref,
    ticket_refs,
)

CONVERSATION = "teams_conversation"
ACTIVITY = "teams_activity"
TRIAGE = "teams_triage"
SENT = "teams_sent"


@dataclass(frozen=True)
class ConvRef:
    """A conversation (or one activity in it) and the Bot Connector endpoint serving it."""

    conversation: str
    activity: str
    service_url: str = ""
    via: str = "bot"

    @property
    def value(self) -> str:
        """The ref value ``<conversation>|<activity>``."""
        return f"{self.conversation}|{self.activity}"

    @classmethod
    def parse(cls, value: str, meta: dict[str, Any] | None = None) -> ConvRef | None:
        """A ref from its stored value and meta; None when malformed."""
        conversation, sep, activity = value.rpartition("|")
        if not sep or not conversation:
            return None
        meta = meta or {}
        return cls(
            conversation,
            activity,
            str(meta.get("service_url") or ""),
            str(meta.get("via") or "bot"),
        )


def link(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, kind: str, ref: ConvRef) -> None:
    """Record a ref of the ticket, or complete the meta of an existing one (same tenant)."""
    meta = {"service_url": ref.service_url, "via": ref.via}
    with hub.session() as s:
        known = find_ref(s, tenant_id, kind, ref.value)
        if known is None:
            add_ticket_ref(s, tenant_id, ticket_id, kind, ref.value, meta)
        elif known.ticket_id == ticket_id and ref.service_url and known.meta != meta:
            merge_ref_meta(s, tenant_id, ticket_id, kind, ref.value, meta)


def refs_of(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, kind: str) -> list[ConvRef]:
    """The ticket's refs of one kind with their meta, oldest first."""
    with hub.session() as s:
        refs = ticket_refs(s, tenant_id, ticket_id, kind)
    return [r for ref in refs if (r := ConvRef.parse(ref.value, ref.meta)) is not None]


def ticket_by_reply(
    hub: HubContext, tenant_id: uuid.UUID, conversation: str, reply_to: str
) -> int | None:
    """The ticket of the activity a message replies to (the reply chain)."""
    with hub.session() as s:
        return ticket_by_ref(s, tenant_id, (ACTIVITY, CONVERSATION), f"{conversation}|{reply_to}")


def ticket_by_conversation(
    hub: HubContext, tenant_id: uuid.UUID, conversation: str, *, open_only: bool
) -> int | None:
    """The latest ticket opened from this conversation.

    A personal chat is one endless conversation, so there ``open_only``: once its ticket is
    resolved or closed, the next message opens a new one. A channel thread is one ticket."""
    with hub.session() as s:
        return latest_ticket_by_prefix(
            s, tenant_id, CONVERSATION, f"{conversation}|", open_only=open_only
        )


def ticket_of_triage(
    hub: HubContext, tenant_id: uuid.UUID, conversation: str, activity: str
) -> int | None:
    """The ticket whose triage card is this activity."""
    with hub.session() as s:
        return ticket_by_ref(s, tenant_id, TRIAGE, f"{conversation}|{activity}")


def sent(hub: HubContext, tenant_id: uuid.UUID, marker: str) -> bool:
    """Whether a notification with this marker was already delivered."""
    with hub.session() as s:
        return find_ref(s, tenant_id, SENT, marker) is not None


def mark_sent(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, marker: str) -> None:
    """Remember that a notification with this marker was delivered."""
    with hub.session() as s:
        add_ticket_ref(s, tenant_id, ticket_id, SENT, marker)
