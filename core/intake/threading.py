"""Which ticket an inbound message continues: an ordered list of rules, the first match wins.

In the manner of Zammad's ``Channel::Filter`` classes, each rule is a small function named for
what it follows, and its name is the reason written to the audit (``Inbound Threaded``):

1. ``references``: the message refers to a stored id of a ticket (mail In-Reply-To and
   References against the Message-IDs we recorded; the newest wins);
2. ``plugin_thread``: the channel plugin's own ``hub_thread_message`` hook (firstresult),
   recorded as ``"<channel> thread"``;
3. ``reply_address``: a signed reply token (``support+<token>@domain``);
4. ``channel_thread``: the ticket the channel says the message belongs to (a Slack or Teams
   thread of a ticket card);
5. ``subject_token``: a ``[#1234]`` in the subject.

Never a fuzzy subject match. Every rule stays inside the receiving tenant and follows merges.
``RULES`` serves the single message and the batch alike: what differs is only the
``ThreadContext`` they read (stored ids looked up now, or fetched for the whole batch).
Whether the sender may add to the matched ticket is decided after this (``ingest``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.intake.message import InboundMessage
from core.intake.refs import References, StoredReferences, reference_values
from core.models import Ticket
from core.services.merge import resolve_merged

SUBJECT_TOKEN = re.compile(r"\[#(\d{1,18})\]")
# The reason recorded when no rule matched.
NEW_CONVERSATION = "new conversation"

ThreadHook = Callable[[Session, uuid.UUID, InboundMessage], "int | None"]
TokenVerifier = Callable[[uuid.UUID, str], "int | None"]


@dataclass(frozen=True)
class ThreadContext:
    """What the rules consult besides the session and the message."""

    references: References
    # The tenant's ``hub_thread_message`` hook relay.
    thread_hook: ThreadHook | None = None
    # Reply token -> the ticket id it was signed for (None when the signature fails).
    verify_token: TokenVerifier | None = None


@dataclass(frozen=True)
class ThreadMatch:
    """The ticket a rule matched (merges followed), and the reason to record."""

    ticket: Ticket
    reason: str


def tenant_ticket(session: Session, tenant_id: uuid.UUID, ticket_id: int | None) -> Ticket | None:
    """The tenant's ticket of that id, merges followed; None for another tenant's or none."""
    if ticket_id is None:
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.tenant_id != tenant_id:
        return None
    return resolve_merged(session, ticket)


def _match(ticket: Ticket | None, reason: str) -> ThreadMatch | None:
    return None if ticket is None else ThreadMatch(ticket, reason)


def references(
    session: Session, tenant_id: uuid.UUID, msg: InboundMessage, context: ThreadContext
) -> ThreadMatch | None:
    values = reference_values(msg)
    if not values:
        return None
    ticket = context.references.newest(tenant_id, msg.ref_kind, values)
    if ticket is None or ticket.tenant_id != tenant_id:
        return None
    return ThreadMatch(resolve_merged(session, ticket), "references")


def plugin_thread(
    session: Session, tenant_id: uuid.UUID, msg: InboundMessage, context: ThreadContext
) -> ThreadMatch | None:
    if context.thread_hook is None:
        return None
    ticket_id = context.thread_hook(session, tenant_id, msg)
    return _match(tenant_ticket(session, tenant_id, ticket_id), f"{msg.channel} thread")


def reply_address(
    session: Session, tenant_id: uuid.UUID, msg: InboundMessage, context: ThreadContext
) -> ThreadMatch | None:
    if not msg.thread_token or context.verify_token is None:
        return None
    ticket_id = context.verify_token(tenant_id, msg.thread_token)
    return _match(tenant_ticket(session, tenant_id, ticket_id), "reply address")


def channel_thread(
    session: Session, tenant_id: uuid.UUID, msg: InboundMessage, context: ThreadContext
) -> ThreadMatch | None:
    return _match(tenant_ticket(session, tenant_id, msg.ticket_hint), "channel thread")


def subject_token(
    session: Session, tenant_id: uuid.UUID, msg: InboundMessage, context: ThreadContext
) -> ThreadMatch | None:
    token = SUBJECT_TOKEN.search(msg.subject or "")
    if token is None:
        return None
    return _match(tenant_ticket(session, tenant_id, int(token.group(1))), "subject token")


Rule = Callable[[Session, uuid.UUID, InboundMessage, ThreadContext], "ThreadMatch | None"]
RULES: tuple[Rule, ...] = (references, plugin_thread, reply_address, channel_thread, subject_token)


def find_thread(
    session: Session, tenant_id: uuid.UUID, msg: InboundMessage, context: ThreadContext
) -> ThreadMatch | None:
    """The first rule's match, in ``RULES`` order; None when the message starts a conversation."""
    for rule in RULES:
        match = rule(session, tenant_id, msg, context)
        if match is not None:
            return match
    return None


def referenced_ticket(session: Session, tenant_id: uuid.UUID, msg: InboundMessage) -> Ticket | None:
    """The ticket the ``references`` rule threads this message onto, looked up now (for a
    channel that handles some messages itself, such as mail's auto-replies)."""
    match = references(session, tenant_id, msg, ThreadContext(StoredReferences(session)))
    return None if match is None else match.ticket
