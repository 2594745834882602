"""How Slack conversations map to tickets: external refs, idempotency markers, message origins.

Thread refs are ticket refs (``core.api.add_ticket_ref``): kind ``slack_thread`` for the requester's thread and
``slack_triage`` for the agents' triage message, value ``<team>:<channel>:<thread_ts>``. Markers of
kind ``slack_sent`` (value ``<outbox event id>:<purpose>``) make notifications idempotent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.api import (
    HubContext,
    add_ticket_ref,
    find_ref,
    key_of_comment,
    ticket_by_ref,
    ticket_refs,
)

THREAD = "slack_thread"
TRIAGE = "slack_triage"
SENT = "slack_sent"
CHANNEL = "slack"
RELAY = ":relay:"  # in a dedupe key: an agent's explicit public reply made from Slack


@dataclass(frozen=True)
class ThreadRef:
    """A Slack thread: workspace, channel and the root message's ts."""

    team: str
    channel: str
    ts: str

    @property
    def value(self) -> str:
        """The ExternalRef value ``<team>:<channel>:<ts>``."""
        return f"{self.team}:{self.channel}:{self.ts}"

    @classmethod
    def parse(cls, value: str) -> ThreadRef | None:
        """A ref from its stored value; None when malformed."""
        parts = value.split(":")
        if len(parts) != 3 or not all(parts):
            return None
        return cls(*parts)


def ticket_for(hub: HubContext, tenant_id: uuid.UUID, kind: str, ref: ThreadRef) -> int | None:
    """The ticket a thread belongs to, within the tenant."""
    with hub.session() as s:
        return ticket_by_ref(s, tenant_id, kind, ref.value)


def refs_of(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, kind: str) -> list[ThreadRef]:
    """The ticket's threads of one kind, oldest first."""
    with hub.session() as s:
        refs = ticket_refs(s, tenant_id, ticket_id, kind)
    return [r for ref in refs if (r := ThreadRef.parse(ref.value)) is not None]


def link(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, kind: str, value: str) -> None:
    """Record a ref of the ticket (once)."""
    with hub.session() as s:
        add_ticket_ref(s, tenant_id, ticket_id, kind, value)


def sent(hub: HubContext, tenant_id: uuid.UUID, marker: str) -> bool:
    """Whether a notification with this marker was already delivered."""
    with hub.session() as s:
        return find_ref(s, tenant_id, SENT, marker) is not None


def mark_sent(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, marker: str) -> None:
    """Remember that a notification with this marker was delivered."""
    link(hub, tenant_id, ticket_id, SENT, marker)


def comment_origin(hub: HubContext, tenant_id: uuid.UUID, comment_id: int) -> str | None:
    """The Slack dedupe key a comment came in with, None when it did not come from Slack."""
    with hub.session() as s:
        return key_of_comment(s, tenant_id, CHANNEL, comment_id)
