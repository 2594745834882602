"""Inbound messages from any channel: dedupe, thread, then a ticket or a comment.

Threading order (DESIGN.md): references to stored message ids, then a plugin's own
``hub_thread_message``, then a signed reply token, then a ``[#id]`` subject token; never a fuzzy
subject match. Whatever matched, only the requester, the tenant's staff or a known participant
may add to a ticket: anyone else opens a new one. The reason is written to the audit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import HubError
from core.lifecycle import CATEGORIES, PRIORITIES
from core.models import Comment, ExternalRef, InboundKey, Ticket, User
from core.permissions import ADMIN, AGENT, END_USER, Actor, system_actor
from core.services import events, identity
from core.services.attachments import AttachmentPolicy, add_attachment
from core.services.comments import add_comment
from core.services.merge import resolve_merged
from core.services.once import insert_ignore
from core.services.tickets import create_ticket
from core.storage import BlobStore

SUBJECT_TOKEN = re.compile(r"\[#(\d{1,18})\]")


@dataclass
class InboundAttachment:
    """A file that came with a message."""

    file_name: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class InboundMessage:
    """A channel's inbound event, normalised. Built by intake plugins, consumed by ``ingest``."""

    channel: str
    dedupe_key: str
    sender_email: str | None
    sender_name: str = ""
    subject: str = ""
    body: str = ""
    references: list[str] = field(default_factory=list)
    message_ref: str | None = None
    ref_kind: str = "message_id"
    thread_token: str | None = None
    ticket_hint: int | None = None
    category: str = "Other"
    priority: str = "Medium"
    attachments: list[InboundAttachment] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    internal: bool = False
    is_automated: bool = False
    raw: bytes | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestResult:
    """What became of an inbound message."""

    outcome: str  # "ticket" | "comment" | "duplicate"
    ticket_id: int | None
    comment_id: int | None = None
    reason: str = ""
    user_id: int | None = None
    skipped_attachments: list[str] = field(default_factory=list)


ThreadHook = Callable[[Session, uuid.UUID, InboundMessage], "int | None"]
TokenVerifier = Callable[[uuid.UUID, str], "int | None"]


def find_duplicate(session: Session, tenant_id: uuid.UUID, msg: InboundMessage) -> IngestResult | None:
    row = session.scalar(select(InboundKey).where(
        InboundKey.tenant_id == tenant_id, InboundKey.channel == msg.channel,
        InboundKey.key == msg.dedupe_key[:300]))
    if row is None:
        return None
    return IngestResult(outcome="duplicate", ticket_id=row.ticket_id, comment_id=row.comment_id,
                        reason=f"already received as {row.outcome}")


def _ticket(session: Session, tenant_id: uuid.UUID, ticket_id: int | None) -> Ticket | None:
    if ticket_id is None:
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.tenant_id != tenant_id:
        return None
    return resolve_merged(session, ticket)


def _by_references(session: Session, tenant_id: uuid.UUID, msg: InboundMessage) -> Ticket | None:
    refs = [r for r in msg.references if r][:50]
    if not refs:
        return None
    # The ticket with the reference, in one query (the newest reference wins).
    ticket = session.scalar(select(Ticket).join(ExternalRef, ExternalRef.ticket_id == Ticket.id)
                            .where(ExternalRef.tenant_id == tenant_id,
                                   ExternalRef.kind == msg.ref_kind, ExternalRef.value.in_(refs))
                            .order_by(ExternalRef.id.desc()).limit(1))
    if ticket is None or ticket.tenant_id != tenant_id:
        return None
    return resolve_merged(session, ticket)


def find_thread(session: Session, tenant_id: uuid.UUID, msg: InboundMessage, *,
                thread_hook: ThreadHook | None = None,
                verify_token: TokenVerifier | None = None) -> tuple[Ticket | None, str]:
    """The ticket this message continues, and why; (None, reason) when it starts a new one."""
    ticket = _by_references(session, tenant_id, msg)
    if ticket is not None:
        return ticket, "references"
    if thread_hook is not None:
        ticket = _ticket(session, tenant_id, thread_hook(session, tenant_id, msg))
        if ticket is not None:
            return ticket, f"{msg.channel} thread"
    if msg.thread_token and verify_token is not None:
        ticket = _ticket(session, tenant_id, verify_token(tenant_id, msg.thread_token))
        if ticket is not None:
            return ticket, "reply address"
    if msg.ticket_hint is not None:
        ticket = _ticket(session, tenant_id, msg.ticket_hint)
        if ticket is not None:
            return ticket, "channel thread"
    match = SUBJECT_TOKEN.search(msg.subject or "")
    if match:
        ticket = _ticket(session, tenant_id, int(match.group(1)))
        if ticket is not None:
            return ticket, "subject token"
    return None, "new conversation"


def may_add_to(session: Session, ticket: Ticket, user: User, role: str | None) -> bool:
    """Requester, staff and participants (earlier commenters, CCs on record) may add to a ticket."""
    if user.id == ticket.created_by or role in (AGENT, ADMIN):
        return True
    if session.scalar(select(Comment.id).where(
            Comment.ticket_id == ticket.id, Comment.user_id == user.id).limit(1)):
        return True
    return bool(session.scalar(select(ExternalRef.id).where(
        ExternalRef.tenant_id == ticket.tenant_id, ExternalRef.ticket_id == ticket.id,
        ExternalRef.kind == "participant", ExternalRef.value == user.email.lower()).limit(1)))


def add_ref(session: Session, ticket: Ticket, kind: str, value: str,
            meta: dict[str, Any] | None = None) -> None:
    """Record an external id of the ticket once (unique per tenant, kind and value)."""
    value = value[:500]
    exists = session.scalar(select(ExternalRef.id).where(
        ExternalRef.tenant_id == ticket.tenant_id, ExternalRef.kind == kind,
        ExternalRef.value == value))
    if exists is None:
        session.add(ExternalRef(tenant_id=ticket.tenant_id, ticket_id=ticket.id, kind=kind,
                                value=value, meta=meta or {}, created_at=now()))


def add_refs(session: Session, ticket: Ticket, refs: list[tuple[str, str]]) -> None:
    """Record external ids of the ticket, each once: one ``INSERT ... ON CONFLICT DO NOTHING``
    for all of them, instead of a select and an insert each (``add_ref``)."""
    rows, seen = [], set()
    for kind, value in refs:
        if (kind, value[:500]) in seen:
            continue
        seen.add((kind, value[:500]))
        rows.append({"tenant_id": ticket.tenant_id, "ticket_id": ticket.id, "kind": kind,
                     "value": value[:500], "meta": {}, "created_at": now()})
    insert_ignore(session, ExternalRef, rows, ["tenant_id", "kind", "value"], ExternalRef.id)


def ingest(
    session: Session,
    tenant_id: uuid.UUID,
    msg: InboundMessage,
    *,
    store: BlobStore,
    policy: AttachmentPolicy,
    thread_hook: ThreadHook | None = None,
    verify_token: TokenVerifier | None = None,
) -> IngestResult:
    """Turn one inbound message into a ticket or a comment, in the caller's transaction.

    The dedupe key row is inserted in the same transaction, so a concurrent second delivery
    fails on the unique constraint and the caller reports it as a duplicate.
    """
    dup = find_duplicate(session, tenant_id, msg)
    if dup is not None:
        return dup
    if not msg.sender_email:
        raise HubError("the message has no sender address")
    # The sender and their role in one query; a first-time sender becomes an end user.
    user, role = identity.ensure_sender(session, tenant_id, email=msg.sender_email,
                                        full_name=msg.sender_name, role=END_USER)
    system = system_actor(tenant_id)
    ticket, reason = find_thread(session, tenant_id, msg, thread_hook=thread_hook,
                                 verify_token=verify_token)
    if ticket is not None and not may_add_to(session, ticket, user, role):
        reason = f"{reason} matched #{ticket.id} but the sender is not on it"
        ticket = None
    actor = Actor(tenant_id=tenant_id, user_id=user.id, role=role or END_USER, email=user.email,
                  name=user.full_name)
    body = msg.body.strip() or "(no text)"
    comment_id: int | None = None
    if ticket is None:
        subject = (msg.subject or "").strip() or body.splitlines()[0][:120] or "(no subject)"
        category = msg.category if msg.category in CATEGORIES else "Other"
        priority = msg.priority if msg.priority in PRIORITIES else "Medium"
        ticket = create_ticket(session, system, subject=subject[:255], description=body,
                               category=category, priority=priority, channel=msg.channel,
                               requester_id=user.id)
        outcome = "ticket"
    else:
        # Staff replying through a channel act as themselves; others through the system.
        comment_actor = actor if role in (AGENT, ADMIN) else system
        row = add_comment(session, comment_actor, ticket, comment=body,
                          is_internal=msg.internal and role in (AGENT, ADMIN),
                          channel=msg.channel, author_id=user.id,
                          extra={"automated": msg.is_automated})
        comment_id = row.id
        outcome = "comment"
    events.audit(session, system, action="Inbound Threaded" if outcome == "comment"
                 else "Inbound Received", ticket_id=ticket.id, new=reason,
                 details={"channel": msg.channel, "key": msg.dedupe_key[:300], "reason": reason,
                          "comment_id": comment_id})
    refs = [(msg.ref_kind, msg.message_ref)] if msg.message_ref else []
    refs += [("participant", address.lower()) for address in msg.participants]
    add_refs(session, ticket, refs)
    skipped: list[str] = []
    for att in msg.attachments:
        try:
            with session.begin_nested():
                add_attachment(session, system, ticket, file_name=att.file_name, data=att.data,
                               store=store, policy=policy, uploaded_by=user.id,
                               comment_id=comment_id, emit_event=False)
        except HubError as exc:
            skipped.append(f"{att.file_name}: {exc.message}")
    if skipped:
        add_comment(session, system, ticket, is_internal=True, author_id=user.id,
                    comment="Attachments not kept:\n" + "\n".join(skipped), channel=msg.channel)
    session.add(InboundKey(tenant_id=tenant_id, channel=msg.channel, key=msg.dedupe_key[:300],
                           ticket_id=ticket.id, comment_id=comment_id, outcome=outcome,
                           raw_path=store.put(msg.raw) if msg.raw else None, created_at=now()))
    session.flush()
    return IngestResult(outcome=outcome, ticket_id=ticket.id, comment_id=comment_id,
                        reason=reason, user_id=user.id, skipped_attachments=skipped)
