"""The write path: inbound messages (one, or a batch of any tenants) become tickets or comments
in the caller's transaction.

Per message: dedupe, the sender, threading (``threading.RULES``), whether the sender may add to
the matched ticket, whether the reply may act as its sender (``trust``); then the writes. The
look-ups are made once for the batch, and the writes go out with one statement per table where
they can: intake throughput (bench/email.py) rests on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import HubError, Unavailable
from core.intake.dedupe import Key, key_of, record_keys, stored_keys
from core.intake.message import InboundMessage, IngestResult
from core.intake.refs import BatchReferences, record_refs, recorded_values
from core.intake.senders import Senders, may_add_to
from core.intake.threading import (
    NEW_CONVERSATION,
    ThreadContext,
    ThreadHook,
    TokenVerifier,
    find_thread,
)
from core.intake.trust import RecipientVerifier, UnverifiedSender, authenticated
from core.lifecycle import CATEGORIES, PRIORITIES
from core.models import SlaState, Ticket, User
from core.permissions import ADMIN, AGENT, Actor, system_actor
from core.services import events
from core.services.attachments import AttachmentPolicy, add_attachment
from core.services.comments import NewComment, add_comment, add_comments
from core.services.tickets import create_tickets, new_ticket
from core.storage import BlobStore


def ingest(
    session: Session,
    tenant_id: uuid.UUID,
    msg: InboundMessage,
    *,
    store: BlobStore,
    policy: AttachmentPolicy,
    thread_hook: ThreadHook | None = None,
    verify_token: TokenVerifier | None = None,
    verify_recipient: RecipientVerifier | None = None,
) -> IngestResult:
    """Turn one inbound message into a ticket or a comment, in the caller's transaction.

    The dedupe key row is inserted in the same transaction, so a concurrent second delivery
    fails on the unique constraint and the caller reports it as a duplicate.
    """
    return ingest_many(
        session,
        [(tenant_id, msg)],
        store=store,
        policy=policy,
        thread_hook=thread_hook,
        verify_token=verify_token,
        verify_recipient=verify_recipient,
    )[0]


@dataclass
class _Batch:
    """What ``ingest_many`` looked up for a whole batch, and what earlier messages added."""

    keys: dict[Key, IngestResult]
    senders: Senders
    refs: BatchReferences
    threads: ThreadContext
    # (id() of the ticket object, address): participants recorded by this batch.
    participants: set[tuple[int, str]] = field(default_factory=set)
    # Loaded objects the session holds only weakly (the SLA clocks): the batch keeps them.
    keep: list[Any] = field(default_factory=list)


_CLOCKS = select(SlaState).where(SlaState.ticket_id.in_(bindparam("tickets", expanding=True)))


def _prefetch(
    session: Session,
    items: list[tuple[uuid.UUID, InboundMessage]],
    *,
    thread_hook: ThreadHook | None,
    verify_token: TokenVerifier | None,
) -> _Batch:
    """The batch's queries: the dedupe keys already stored, the senders with their roles, and
    the tickets that the messages' ids point at, with their SLA clocks."""
    keys = stored_keys(session, items)
    senders = Senders.fetch(session, items)
    refs = BatchReferences.fetch(session, items)
    keep: list[Any] = []
    replied = refs.ticket_ids()
    if replied:
        # A reply moves its ticket's SLA clock: load those clocks now, in one query, into the
        # session (``core.sla`` then finds each there instead of selecting it).
        keep.extend(session.scalars(_CLOCKS, {"tickets": replied}))
    return _Batch(
        keys=keys,
        senders=senders,
        refs=refs,
        threads=ThreadContext(refs, thread_hook=thread_hook, verify_token=verify_token),
        keep=keep,
    )


def ingest_many(
    session: Session,
    items: list[tuple[uuid.UUID, InboundMessage]],
    *,
    store: BlobStore,
    policy: AttachmentPolicy,
    thread_hook: ThreadHook | None = None,
    verify_token: TokenVerifier | None = None,
    verify_recipient: RecipientVerifier | None = None,
) -> list[IngestResult]:
    """``ingest`` for several messages (of any tenants) in the caller's transaction.

    The look-ups that ``ingest`` makes per message (dedupe key, sender and role, referenced
    ticket) are made once for the batch, and what earlier messages of the batch did counts: a
    second copy of a message is a duplicate, a reply to a message of the batch threads onto its
    ticket, a new sender is created once. Then the new tickets are written together
    (``create_tickets``), the comments in order, and the audit rows, references and dedupe keys
    with one statement per table.

    A message acts as its sender only when ``authenticated`` says so: otherwise a staff
    sender's mail is an internal note flagged ``unverified_sender`` (never mailed out), and
    another sender's reply is flagged, or refused with ``UnverifiedSender`` when the message
    asks for that (``unverified_policy``).
    """
    batch = _prefetch(session, items, thread_hook=thread_hook, verify_token=verify_token)
    plans: list[_Plan | IngestResult] = []
    for tenant_id, msg in items:
        key = key_of(tenant_id, msg)
        earlier = batch.keys.get(key)
        if earlier is not None:
            plans.append(earlier)
            continue
        if not msg.sender_email:
            raise HubError("the message has no sender address")
        plan = _plan(session, batch, tenant_id, msg, verify_recipient=verify_recipient)
        batch.keys[key] = plan.duplicate
        plans.append(plan)
    todo = [p for p in plans if isinstance(p, _Plan)]
    _write(session, todo, store=store, policy=policy)
    return [_result(done) for done in plans]


def _write(
    session: Session, todo: list[_Plan], *, store: BlobStore, policy: AttachmentPolicy
) -> None:
    """The batch's tickets, comments, attachments, audit rows, ids and dedupe keys."""
    create_tickets(session, [(system_actor(p.tenant_id), p.ticket) for p in todo if p.new])
    audits: list[tuple[Actor, dict[str, Any]]] = []
    keys: list[dict[str, Any]] = []
    replies = [plan for plan in todo if not plan.new]
    for plan, row in zip(
        replies, add_comments(session, [_reply(plan) for plan in replies]), strict=True
    ):
        plan.comment_id = row.id
    for plan in todo:
        _attach(session, plan, store=store, policy=policy)
        plan.duplicate.ticket_id = plan.ticket.id
        plan.duplicate.comment_id = plan.comment_id
        outcome = "ticket" if plan.new else "comment"
        audits.append(
            (
                system_actor(plan.tenant_id),
                {
                    "action": "Inbound Threaded" if outcome == "comment" else "Inbound Received",
                    "ticket_id": plan.ticket.id,
                    "new": plan.reason,
                    "details": {
                        "channel": plan.msg.channel,
                        "key": plan.msg.dedupe_key[:300],
                        "reason": plan.reason,
                        "comment_id": plan.comment_id,
                        "sender": plan.sender_check,
                    },
                },
            )
        )
        keys.append(
            {
                "tenant_id": plan.tenant_id,
                "channel": plan.msg.channel,
                "key": plan.msg.dedupe_key[:300],
                "ticket_id": plan.ticket.id,
                "comment_id": plan.comment_id,
                "outcome": outcome,
                "raw_path": store.put(plan.msg.raw) if plan.msg.raw else None,
                "created_at": now(),
            }
        )
    events.audit_many(session, audits)
    refs = [{**row, "ticket_id": plan.ticket.id} for plan in todo for row in plan.refs]
    session.flush()
    connection = session.connection()
    record_refs(connection, refs)
    record_keys(connection, keys)


def _result(done: _Plan | IngestResult) -> IngestResult:
    if isinstance(done, IngestResult):  # a duplicate (of a stored or an earlier message)
        return IngestResult(
            outcome="duplicate",
            ticket_id=done.ticket_id,
            comment_id=done.comment_id,
            reason=done.reason,
        )
    return IngestResult(
        outcome="ticket" if done.new else "comment",
        ticket_id=done.ticket.id,
        comment_id=done.comment_id,
        reason=done.reason,
        user_id=done.user.id,
        skipped_attachments=done.skipped,
    )


@dataclass
class _Plan:
    """What one message of a batch becomes: a new ticket or a comment on ``ticket``."""

    tenant_id: uuid.UUID
    msg: InboundMessage
    user: User
    role: str
    ticket: Ticket
    new: bool
    reason: str
    # What a later copy of this message is told (ids filled in once written).
    duplicate: IngestResult
    refs: list[dict[str, Any]] = field(default_factory=list)
    comment_id: int | None = None
    skipped: list[str] = field(default_factory=list)
    # ``authenticated``'s verdict: whether the message acts as its sender, and why.
    verified: bool = True
    sender_check: str = ""


def _plan(
    session: Session,
    batch: _Batch,
    tenant_id: uuid.UUID,
    msg: InboundMessage,
    *,
    verify_recipient: RecipientVerifier | None,
) -> _Plan:
    user, role = batch.senders.sender(session, tenant_id, msg)
    match = find_thread(session, tenant_id, msg, batch.threads)
    ticket, reason = (match.ticket, match.reason) if match else (None, NEW_CONVERSATION)
    if (
        ticket is not None
        and (id(ticket), user.email.lower()) not in batch.participants
        and not may_add_to(session, ticket, user, role)
    ):
        which = f"#{ticket.id}" if ticket.id is not None else "a ticket opened in this batch"
        reason = f"{reason} matched {which} but the sender is not on it"
        ticket = None
    new = ticket is None
    if ticket is None:
        body = msg.body.strip() or "(no text)"
        subject = (msg.subject or "").strip() or body.splitlines()[0][:120] or "(no subject)"
        category = msg.category if msg.category in CATEGORIES else "Other"
        priority = msg.priority if msg.priority in PRIORITIES else "Medium"
        ticket = new_ticket(
            system_actor(tenant_id),
            subject=subject[:255],
            description=body,
            category=category,
            priority=priority,
            channel=msg.channel,
            requester_id=user.id,
        )
    verified, sender_check = True, ""
    if not new:
        verified, sender_check = authenticated(
            session,
            tenant_id,
            msg,
            user,
            role,
            ticket,
            verify_token=batch.threads.verify_token,
            verify_recipient=verify_recipient,
        )
        if not verified and role not in (AGENT, ADMIN) and msg.unverified_policy == "park":
            raise UnverifiedSender(f"reply to #{ticket.id} refused: {sender_check}")
    elif msg.sender_verified is not None:
        sender_check = ("verified: " if msg.sender_verified else "unverified sender: ") + (
            msg.auth_summary or "not authenticated"
        )
    plan = _Plan(
        tenant_id=tenant_id,
        msg=msg,
        user=user,
        role=role,
        ticket=ticket,
        new=new,
        reason=reason,
        verified=verified,
        sender_check=sender_check[:500],
        duplicate=IngestResult(
            outcome="duplicate",
            ticket_id=None,
            reason=f"already received as {'ticket' if new else 'comment'}",
        ),
    )
    for kind, value in recorded_values(msg):
        if not batch.refs.record(tenant_id, kind, value, ticket):
            continue  # stored already (unique per tenant, kind and value): the first one stays
        if kind == "participant":
            batch.participants.add((id(ticket), value))
        plan.refs.append(
            {"tenant_id": tenant_id, "kind": kind, "value": value, "meta": {}, "created_at": now()}
        )
    return plan


def _reply(plan: _Plan) -> NewComment:
    """The comment a reply becomes. Verified staff replying through a channel act as
    themselves; others through the system. Mail from a staff address that is not verified is
    kept as an internal note (never mailed out), flagged; other unverified replies are flagged."""
    msg, user, role = plan.msg, plan.user, plan.role
    staff = role in (AGENT, ADMIN)
    actor = (
        Actor(
            tenant_id=plan.tenant_id,
            user_id=user.id,
            role=role,
            email=user.email,
            name=user.full_name,
        )
        if staff and plan.verified
        else system_actor(plan.tenant_id)
    )
    internal = (msg.internal or not plan.verified) if staff else False
    return NewComment(
        actor,
        plan.ticket,
        msg.body.strip() or "(no text)",
        is_internal=internal,
        channel=msg.channel,
        author_id=user.id,
        extra={"automated": msg.is_automated},
        unverified_sender=not plan.verified,
    )


def _attach(session: Session, plan: _Plan, *, store: BlobStore, policy: AttachmentPolicy) -> None:
    """The attachments of a message (its ticket, and its comment, exist by now); those refused
    are listed in an internal note."""
    msg, ticket, user = plan.msg, plan.ticket, plan.user
    system = system_actor(plan.tenant_id)
    for att in msg.attachments:
        try:
            with session.begin_nested():
                add_attachment(
                    session,
                    system,
                    ticket,
                    file_name=att.file_name,
                    data=att.data,
                    store=store,
                    policy=policy,
                    uploaded_by=user.id,
                    comment_id=plan.comment_id,
                    emit_event=False,
                )
        except Unavailable:
            raise  # the scanner is down: the message is not stored (SMTP 451, IMAP unseen)
        except HubError as exc:
            plan.skipped.append(f"{att.file_name}: {exc.message}")
    plan.skipped.extend(msg.attachments_not_taken)
    if plan.skipped:
        add_comment(
            session,
            system,
            ticket,
            is_internal=True,
            author_id=user.id,
            comment="Attachments not kept:\n" + "\n".join(plan.skipped),
            channel=msg.channel,
        )
