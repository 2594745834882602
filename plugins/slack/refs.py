"""How Slack conversations map to tickets: external refs, idempotency markers, message origins.

Thread refs are ``core.api.ExternalRef`` rows: kind ``slack_thread`` for the requester's thread and
``slack_triage`` for the agents' triage message, value ``<team>:<channel>:<thread_ts>``. Markers of
kind ``slack_sent`` (value ``<outbox event id>:<purpose>``) make notifications idempotent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from core.api import ExternalRef, HubContext, InboundKey, Ticket, add_ref

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
        return s.scalar(
            select(ExternalRef.ticket_id)
            .where(
                ExternalRef.tenant_id == tenant_id,
                ExternalRef.kind == kind,
                ExternalRef.value == ref.value,
            )
            .order_by(ExternalRef.id.desc())
            .limit(1)
        )


def refs_of(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, kind: str) -> list[ThreadRef]:
    """The ticket's threads of one kind, oldest first."""
    with hub.session() as s:
        values = s.scalars(
            select(ExternalRef.value)
            .where(
                ExternalRef.tenant_id == tenant_id,
                ExternalRef.ticket_id == ticket_id,
                ExternalRef.kind == kind,
            )
            .order_by(ExternalRef.id)
        )
        return [r for v in values if (r := ThreadRef.parse(v)) is not None]


def link(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, kind: str, value: str) -> None:
    """Record a ref of the ticket (once)."""
    with hub.session() as s:
        ticket = s.get(Ticket, ticket_id)
        if ticket is not None and ticket.tenant_id == tenant_id:
            add_ref(s, ticket, kind, value)


def sent(hub: HubContext, tenant_id: uuid.UUID, marker: str) -> bool:
    """Whether a notification with this marker was already delivered."""
    with hub.session() as s:
        return (
            s.scalar(
                select(ExternalRef.id).where(
                    ExternalRef.tenant_id == tenant_id,
                    ExternalRef.kind == SENT,
                    ExternalRef.value == marker,
                )
            )
            is not None
        )


def mark_sent(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, marker: str) -> None:
    """Remember that a notification with this marker was delivered."""
    link(hub, tenant_id, ticket_id, SENT, marker)


def comment_origin(hub: HubContext, tenant_id: uuid.UUID, comment_id: int) -> str | None:
    """The Slack dedupe key a comment came in with, None when it did not come from Slack."""
    with hub.session() as s:
        return s.scalar(
            select(InboundKey.key)
            .where(
                InboundKey.tenant_id == tenant_id,
                InboundKey.channel == CHANNEL,
                InboundKey.comment_id == comment_id,
            )
            .limit(1)
        )
