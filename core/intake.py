"""Inbound messages from any channel: dedupe, thread, then a ticket or a comment.

Threading order (DESIGN.md): references to stored message ids, then a plugin's own
``hub_thread_message``, then a signed reply token, then a ``[#id]`` subject token; never a fuzzy
subject match. Whatever matched, only the requester, the tenant's staff or a known participant
may add to a ticket: anyone else opens a new one. The reason is written to the audit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Forbidden, HubError, Unavailable
from core.lifecycle import CATEGORIES, PRIORITIES
from core.models import (
    Comment,
    ExternalRef,
    InboundKey,
    Membership,
    SlaState,
    Ticket,
    User,
)
from core.permissions import ADMIN, AGENT, END_USER, Actor, system_actor
from core.services import events, identity
from core.services.attachments import AttachmentPolicy, add_attachment
from core.services.comments import NewComment, add_comment, add_comments
from core.services.merge import resolve_merged
from core.services.once import insert_ignore
from core.services.tickets import create_tickets, new_ticket
from core.storage import BlobStore

SUBJECT_TOKEN = re.compile(r"\[#(\d{1,18})\]")


@dataclass
class InboundAttachment:
    """A file that came with a message."""

    file_name: str
    content_type: str
    data: bytes
    inline: bool = False


def read_capped(chunks: Iterable[bytes], limit: int) -> bytes:
    """The bytes of a download, refused (``ValueError``) as soon as they pass ``limit``: a
    channel's file is never held whole in memory only to be found too large."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise ValueError("too large")
    return bytes(data)


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
    # Attachments the channel did not pass on, and why ("4,950 more attachments: at most 50 are
    # kept per message"): listed with the refused ones in the agents' internal note.
    attachments_not_taken: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    internal: bool = False
    is_automated: bool = False
    raw: bytes | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # Who vouches for the sender. None: the channel authenticated the request that named the
    # sender (a signed Slack or Teams request). True or False: the channel's verdict on this one
    # message (mail: SPF or DKIM aligned with the From domain, or a trusted relay's
    # Authentication-Results), with ``auth_summary`` saying why. See ``authenticated``.
    sender_verified: bool | None = None
    auth_summary: str = ""
    # A reply by a non-staff sender that is not verified: "accept" it flagged, or "park" it
    # (``ingest`` raises ``UnverifiedSender``, the channel keeps the message for an admin).
    unverified_policy: str = "accept"


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
# (tenant, reply token, address): whether the token was signed for that recipient address.
RecipientVerifier = Callable[[uuid.UUID, str, str], bool]


class UnverifiedSender(Forbidden):
    """A reply whose sender could not be authenticated, refused by the tenant's policy."""

    code = "unverified_sender"


def find_duplicate(
    session: Session, tenant_id: uuid.UUID, msg: InboundMessage
) -> IngestResult | None:
    row = session.scalar(
        select(InboundKey).where(
            InboundKey.tenant_id == tenant_id,
            InboundKey.channel == msg.channel,
            InboundKey.key == msg.dedupe_key[:300],
        )
    )
    if row is None:
        return None
    return IngestResult(
        outcome="duplicate",
        ticket_id=row.ticket_id,
        comment_id=row.comment_id,
        reason=f"already received as {row.outcome}",
    )


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
    ticket = session.scalar(
        select(Ticket)
        .join(ExternalRef, ExternalRef.ticket_id == Ticket.id)
        .where(
            ExternalRef.tenant_id == tenant_id,
            ExternalRef.kind == msg.ref_kind,
            ExternalRef.value.in_(refs),
        )
        .order_by(ExternalRef.id.desc())
        .limit(1)
    )
    if ticket is None or ticket.tenant_id != tenant_id:
        return None
    return resolve_merged(session, ticket)


def find_thread(
    session: Session,
    tenant_id: uuid.UUID,
    msg: InboundMessage,
    *,
    thread_hook: ThreadHook | None = None,
    verify_token: TokenVerifier | None = None,
) -> tuple[Ticket | None, str]:
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
    if session.scalar(
        select(Comment.id)
        .where(Comment.ticket_id == ticket.id, Comment.user_id == user.id)
        .limit(1)
    ):
        return True
    return bool(
        session.scalar(
            select(ExternalRef.id)
            .where(
                ExternalRef.tenant_id == ticket.tenant_id,
                ExternalRef.ticket_id == ticket.id,
                ExternalRef.kind == "participant",
                ExternalRef.value == user.email.lower(),
            )
            .limit(1)
        )
    )


def add_ref(
    session: Session, ticket: Ticket, kind: str, value: str, meta: dict[str, Any] | None = None
) -> None:
    """Record an external id of the ticket once (unique per tenant, kind and value)."""
    value = value[:500]
    exists = session.scalar(
        select(ExternalRef.id).where(
            ExternalRef.tenant_id == ticket.tenant_id,
            ExternalRef.kind == kind,
            ExternalRef.value == value,
        )
    )
    if exists is None:
        session.add(
            ExternalRef(
                tenant_id=ticket.tenant_id,
                ticket_id=ticket.id,
                kind=kind,
                value=value,
                meta=meta or {},
                created_at=now(),
            )
        )


def add_refs(session: Session, ticket: Ticket, refs: list[tuple[str, str]]) -> None:
    """Record external ids of the ticket, each once: one ``INSERT ... ON CONFLICT DO NOTHING``
    for all of them, instead of a select and an insert each (``add_ref``)."""
    rows, seen = [], set()
    for kind, value in refs:
        if (kind, value[:500]) in seen:
            continue
        seen.add((kind, value[:500]))
        rows.append(
            {
                "tenant_id": ticket.tenant_id,
                "ticket_id": ticket.id,
                "kind": kind,
                "value": value[:500],
                "meta": {},
                "created_at": now(),
            }
        )
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

    keys: dict[tuple[uuid.UUID, str, str], IngestResult]
    users: dict[str, User]
    roles: dict[tuple[int, uuid.UUID], str]
    # (tenant, kind, value) -> (order, ticket): stored references, newest first by ``order``.
    refs: dict[tuple[uuid.UUID, str, str], tuple[int, Ticket]]
    # (id() of the ticket object, address): participants recorded by this batch.
    participants: set[tuple[int, str]] = field(default_factory=set)
    order: int = 0
    keep: list[Any] = field(default_factory=list)


# The batch's queries, built once: building a statement and its cache key costs more than
# running it here (expanding parameters take the lists).
_KEY_TABLE = cast(Table, InboundKey.__table__)
# Plain columns, not the entity: nothing here needs a loaded ``InboundKey`` object.
_KEYS = select(
    _KEY_TABLE.c.tenant_id,
    _KEY_TABLE.c.channel,
    _KEY_TABLE.c.key,
    _KEY_TABLE.c.ticket_id,
    _KEY_TABLE.c.comment_id,
    _KEY_TABLE.c.outcome,
).where(
    _KEY_TABLE.c.tenant_id == bindparam("tenant"),
    _KEY_TABLE.c.channel == bindparam("channel"),
    _KEY_TABLE.c.key.in_(bindparam("keys", expanding=True)),
)
_SENDERS = (
    select(User, Membership.tenant_id, Membership.role)
    .outerjoin(
        Membership,
        (Membership.user_id == User.id)
        & Membership.tenant_id.in_(bindparam("tenants", expanding=True)),
    )
    .where(func.lower(User.email).in_(bindparam("emails", expanding=True)))
)
_REFS = (
    select(ExternalRef.tenant_id, ExternalRef.kind, ExternalRef.value, ExternalRef.id, Ticket)
    .join(Ticket, Ticket.id == ExternalRef.ticket_id)
    .where(
        ExternalRef.tenant_id.in_(bindparam("tenants", expanding=True)),
        ExternalRef.kind.in_(bindparam("kinds", expanding=True)),
        ExternalRef.value.in_(bindparam("values", expanding=True)),
    )
)
_INSERT_KEYS = insert(_KEY_TABLE)
_INSERT_REFS: dict[str, Any] = {}


def _insert_refs(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into the external refs (unique per tenant, kind and
    value: the first one stays), built once per dialect."""
    stmt = _INSERT_REFS.get(dialect)
    if stmt is None:
        from sqlalchemy.dialects import postgresql, sqlite

        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = _INSERT_REFS[dialect] = make(
            cast(Table, ExternalRef.__table__)
        ).on_conflict_do_nothing(index_elements=["tenant_id", "kind", "value"])
    return stmt


_CLOCKS = select(SlaState).where(SlaState.ticket_id.in_(bindparam("tickets", expanding=True)))


def _prefetch(session: Session, items: list[tuple[uuid.UUID, InboundMessage]]) -> _Batch:
    """Three queries for the batch: the dedupe keys already stored, the senders with their
    roles, and the tickets that the messages' references point at (with their SLA clocks)."""
    tenants = sorted({tid for tid, _ in items})
    keys: dict[tuple[uuid.UUID, str, str], IngestResult] = {}
    wanted: dict[tuple[uuid.UUID, str], set[str]] = {}
    for tid, msg in items:
        wanted.setdefault((tid, msg.channel), set()).add(msg.dedupe_key[:300])
    for (tid, channel), values in wanted.items():
        for row in session.execute(
            _KEYS, {"tenant": tid, "channel": channel, "keys": sorted(values)}
        ):
            keys[(row.tenant_id, row.channel, row.key)] = IngestResult(
                outcome="duplicate",
                ticket_id=row.ticket_id,
                comment_id=row.comment_id,
                reason=f"already received as {row.outcome}",
            )
    emails = sorted({m.sender_email.strip().lower() for _, m in items if m.sender_email})
    users: dict[str, User] = {}
    roles: dict[tuple[int, uuid.UUID], str] = {}
    if emails:
        for user, member_tenant, role in session.execute(
            _SENDERS, {"tenants": tenants, "emails": emails}
        ):
            users[user.email.lower()] = user
            if role is not None:
                roles[(user.id, member_tenant)] = role
    refs: dict[tuple[uuid.UUID, str, str], tuple[int, Ticket]] = {}
    keep: list[Any] = []
    # The references to follow, and the ids the messages would record (to know which exist).
    ref_values = sorted(
        {
            r[:500]
            for _, m in items
            for r in [*m.references[:50], m.message_ref or "", *(a.lower() for a in m.participants)]
            if r
        }
    )
    if ref_values:
        kinds = sorted({m.ref_kind for _, m in items} | {"participant"})
        for ref_tenant, kind, value, ref_id, ticket in session.execute(
            _REFS, {"tenants": tenants, "kinds": kinds, "values": ref_values}
        ):
            if ticket.tenant_id == ref_tenant:
                refs[(ref_tenant, kind, value)] = (ref_id, ticket)
        replied = sorted({t.id for _, t in refs.values()})
        if replied:
            # A reply moves its ticket's SLA clock: load those clocks now, in one query, into
            # the session (``core.sla`` then finds each there instead of selecting it).
            # (The session holds loaded objects weakly: the batch keeps them.)
            keep.extend(session.scalars(_CLOCKS, {"tickets": replied}))
    order = max((o for o, _ in refs.values()), default=0)
    return _Batch(keys=keys, users=users, roles=roles, refs=refs, order=order, keep=keep)


def _sender(
    session: Session, batch: _Batch, tenant_id: uuid.UUID, msg: InboundMessage
) -> tuple[User, str]:
    """The sender and their role; a first-time sender becomes a user and an end user here."""
    email = identity.normalize_email(msg.sender_email or "")
    user = batch.users.get(email.lower())
    if user is None:
        user = User(
            email=email,
            full_name=msg.sender_name or email.split("@")[0],
            password=None,
            is_active=True,
            date_joined=now(),
        )
        session.add(user)
        session.flush()
        batch.users[email.lower()] = user
    role = batch.roles.get((user.id, tenant_id))
    if role is None:
        session.add(
            Membership(
                tenant_id=tenant_id,
                user_id=user.id,
                role=END_USER,
                skills={},
                available=True,
                created_at=now(),
            )
        )
        role = batch.roles[(user.id, tenant_id)] = END_USER
    return user, role


def _thread(
    session: Session,
    batch: _Batch,
    tenant_id: uuid.UUID,
    msg: InboundMessage,
    *,
    thread_hook: ThreadHook | None,
    verify_token: TokenVerifier | None,
) -> tuple[Ticket | None, str]:
    """``find_thread`` with the references looked up for the whole batch (and those stored by
    earlier messages of the batch, which are the newest)."""
    found = [
        batch.refs[k]
        for k in ((tenant_id, msg.ref_kind, r[:500]) for r in msg.references[:50] if r)
        if k in batch.refs
    ]
    if found:
        ticket = resolve_merged(session, max(found, key=lambda hit: hit[0])[1])
        if ticket.tenant_id == tenant_id:
            return ticket, "references"
    return find_thread(
        session,
        tenant_id,
        replace(msg, references=[]),
        thread_hook=thread_hook,
        verify_token=verify_token,
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
    batch = _prefetch(session, items)
    plans: list[_Plan | IngestResult] = []
    for tenant_id, msg in items:
        key = (tenant_id, msg.channel, msg.dedupe_key[:300])
        earlier = batch.keys.get(key)
        if earlier is not None:
            plans.append(earlier)
            continue
        if not msg.sender_email:
            raise HubError("the message has no sender address")
        plan = _plan(
            session,
            batch,
            tenant_id,
            msg,
            thread_hook=thread_hook,
            verify_token=verify_token,
            verify_recipient=verify_recipient,
        )
        batch.keys[key] = plan.duplicate
        plans.append(plan)
    todo = [p for p in plans if isinstance(p, _Plan)]
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
    if refs:
        connection.execute(_insert_refs(connection.dialect.name), refs)
    if keys:
        connection.execute(_INSERT_KEYS, keys)
    results = []
    for done in plans:
        if isinstance(done, IngestResult):  # a duplicate (of a stored or an earlier message)
            results.append(
                IngestResult(
                    outcome="duplicate",
                    ticket_id=done.ticket_id,
                    comment_id=done.comment_id,
                    reason=done.reason,
                )
            )
        else:
            results.append(
                IngestResult(
                    outcome="ticket" if done.new else "comment",
                    ticket_id=done.ticket.id,
                    comment_id=done.comment_id,
                    reason=done.reason,
                    user_id=done.user.id,
                    skipped_attachments=done.skipped,
                )
            )
    return results


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


def authenticated(
    session: Session,
    tenant_id: uuid.UUID,
    msg: InboundMessage,
    user: User,
    role: str,
    ticket: Ticket,
    *,
    verify_token: TokenVerifier | None,
    verify_recipient: RecipientVerifier | None,
) -> tuple[bool, str]:
    """Whether a reply onto ``ticket`` may act as its sender, and why (for the audit).

    A From header proves nothing (DESIGN.md, "Trust boundaries"). Where the channel judges each
    message (``sender_verified`` not None), the sender must be verified by it; staff must in
    addition have written to the reply address signed for them, naming this ticket, so that
    a forged mail from a domain that passes DMARC for someone else still cannot speak for them.
    """
    if msg.sender_verified is None:
        return True, f"authenticated by the {msg.channel} channel"
    if not msg.sender_verified:
        return False, f"unverified sender: {msg.auth_summary or 'not authenticated'}"[:500]
    if role not in (AGENT, ADMIN):
        return True, f"verified: {msg.auth_summary}"[:500]
    token = msg.thread_token
    if not token or verify_token is None or verify_recipient is None:
        return False, "unverified sender: staff mail not sent to their signed reply address"
    if not verify_recipient(tenant_id, token, user.email):
        return False, "unverified sender: the reply address was not signed for this sender"
    named = _ticket(session, tenant_id, verify_token(tenant_id, token))
    if named is None or named.id != ticket.id:
        return False, "unverified sender: the reply address names another ticket"
    return True, f"verified: {msg.auth_summary}; signed reply address"[:500]


def _plan(
    session: Session,
    batch: _Batch,
    tenant_id: uuid.UUID,
    msg: InboundMessage,
    *,
    thread_hook: ThreadHook | None,
    verify_token: TokenVerifier | None,
    verify_recipient: RecipientVerifier | None,
) -> _Plan:
    user, role = _sender(session, batch, tenant_id, msg)
    ticket, reason = _thread(
        session, batch, tenant_id, msg, thread_hook=thread_hook, verify_token=verify_token
    )
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
            verify_token=verify_token,
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
    wanted = [(msg.ref_kind, msg.message_ref)] if msg.message_ref else []
    wanted += [("participant", address.lower()) for address in msg.participants]
    for kind, value in wanted:
        value = value[:500]
        if (tenant_id, kind, value) in batch.refs:
            continue  # stored already (unique per tenant, kind and value): the first one stays
        batch.order += 1
        batch.refs[(tenant_id, kind, value)] = (batch.order, ticket)
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
