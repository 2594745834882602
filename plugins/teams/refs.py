"""How Teams conversations map to tickets: external refs, delivery markers, stored activities.

ExternalRef kinds (values are ``<conversation id>|<activity id>``, unique per tenant):
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

from sqlalchemy import select

from core.api import ExternalRef, HubContext, Ticket, add_ref, lifecycle

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
        """The ExternalRef value ``<conversation>|<activity>``."""
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
        row = s.scalar(
            select(ExternalRef).where(
                ExternalRef.tenant_id == tenant_id,
                ExternalRef.kind == kind,
                ExternalRef.value == ref.value[:500],
            )
        )
        if row is not None:
            if row.ticket_id == ticket_id and ref.service_url and dict(row.meta or {}) != meta:
                row.meta = meta
            return
        ticket = s.get(Ticket, ticket_id)
        if ticket is not None and ticket.tenant_id == tenant_id:
            add_ref(s, ticket, kind, ref.value, meta)


def refs_of(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, kind: str) -> list[ConvRef]:
    """The ticket's refs of one kind with their meta, oldest first."""
    with hub.session() as s:
        rows = s.execute(
            select(ExternalRef.value, ExternalRef.meta)
            .where(
                ExternalRef.tenant_id == tenant_id,
                ExternalRef.ticket_id == ticket_id,
                ExternalRef.kind == kind,
            )
            .order_by(ExternalRef.id)
        ).all()
    return [r for value, meta in rows if (r := ConvRef.parse(value, meta)) is not None]


def ticket_by_reply(
    hub: HubContext, tenant_id: uuid.UUID, conversation: str, reply_to: str
) -> int | None:
    """The ticket of the activity a message replies to (the reply chain)."""
    value = f"{conversation}|{reply_to}"[:500]
    with hub.session() as s:
        return s.scalar(
            select(ExternalRef.ticket_id)
            .where(
                ExternalRef.tenant_id == tenant_id,
                ExternalRef.kind.in_((ACTIVITY, CONVERSATION)),
                ExternalRef.value == value,
            )
            .limit(1)
        )


def ticket_by_conversation(
    hub: HubContext, tenant_id: uuid.UUID, conversation: str, *, open_only: bool
) -> int | None:
    """The latest ticket opened from this conversation.

    A personal chat is one endless conversation, so there ``open_only``: once its ticket is
    resolved or closed, the next message opens a new one. A channel thread is one ticket."""
    prefix = f"{conversation}|"
    with hub.session() as s:
        stmt = (
            select(ExternalRef.ticket_id)
            .join(Ticket, Ticket.id == ExternalRef.ticket_id)
            .where(
                ExternalRef.tenant_id == tenant_id,
                Ticket.tenant_id == tenant_id,
                ExternalRef.kind == CONVERSATION,
                ExternalRef.value.startswith(prefix, autoescape=True),
            )
            .order_by(ExternalRef.id.desc())
            .limit(1)
        )
        if open_only:
            stmt = stmt.where(Ticket.status.not_in(lifecycle.DONE_STATUSES))
        return s.scalar(stmt)


def ticket_of_triage(
    hub: HubContext, tenant_id: uuid.UUID, conversation: str, activity: str
) -> int | None:
    """The ticket whose triage card is this activity."""
    with hub.session() as s:
        return s.scalar(
            select(ExternalRef.ticket_id)
            .where(
                ExternalRef.tenant_id == tenant_id,
                ExternalRef.kind == TRIAGE,
                ExternalRef.value == f"{conversation}|{activity}"[:500],
            )
            .limit(1)
        )


def sent(hub: HubContext, tenant_id: uuid.UUID, marker: str) -> bool:
    """Whether a notification with this marker was already delivered."""
    with hub.session() as s:
        return (
            s.scalar(
                select(ExternalRef.id).where(
                    ExternalRef.tenant_id == tenant_id,
                    ExternalRef.kind == SENT,
                    ExternalRef.value == marker[:500],
                )
            )
            is not None
        )


def mark_sent(hub: HubContext, tenant_id: uuid.UUID, ticket_id: int, marker: str) -> None:
    """Remember that a notification with this marker was delivered."""
    with hub.session() as s:
        ticket = s.get(Ticket, ticket_id)
        if ticket is not None and ticket.tenant_id == tenant_id:
            add_ref(s, ticket, SENT, marker)
