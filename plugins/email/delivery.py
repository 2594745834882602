"""One received message for one tenant: bounce, ticket, comment, or parked. Shared by SMTP and IMAP.

Errors are sorted in two kinds. A database that is down (SQLAlchemy's ``OperationalError`` and
friends) propagates, so SMTP answers 451 and IMAP leaves the message unseen: the message is
retried, never lost. Anything else wrong with one message parks it (a row an admin can see, the
raw bytes kept) so that it does not block the rest.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
import weakref
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.api import (
    TRANSIENT_DB_ERRORS,
    HubContext,
    IngestResult,
    PluginConfig,
    Unavailable,
    add_comment,
    channel_key_owners,
    ensure_user,
    find_duplicate,
    now,
    on_plugin_change,
    pending_channel_keys,
    record_seen,
    referenced_ticket,
    system_actor,
    verify_channel_key_from_mail,
)
from plugins.email import failing
from plugins.email.authenticate import Verdict, verify
from plugins.email.classify import AUTO_REPLY, BOUNCE, HUMAN
from plugins.email.models import Bounce, ParkedMessage
from plugins.email.parsing import ParsedMail, parse
from plugins.email.settings import EmailSettings, load

log = logging.getLogger(__name__)
# The database is unreachable or busy, or a service the message needs (the malware scanner) is
# down: retry later. Errors about the data itself (DataError, IntegrityError, ...) are the
# message's fault and park it instead.
TRANSIENT = (*TRANSIENT_DB_ERRORS, Unavailable)


@dataclass
class Delivery:
    """What became of a received message."""

    outcome: str  # "ticket" | "comment" | "duplicate" | "bounce" | "auto_reply" | "parked"
    ticket_id: int | None = None
    comment_id: int | None = None
    reason: str = ""
    kind: str = "human"


def base_address(address: str) -> str:
    """``Support+Tag@Example.com`` -> ``support@example.com``."""
    addr = address.strip().strip("<>").lower()
    local, at, domain = addr.partition("@")
    return f"{local.split('+', 1)[0]}{at}{domain}"


class AddressBook:
    """Support address -> (tenant, settings) for every tenant with the plugin on, read in one
    query and kept for ``ttl`` seconds, so that RCPT costs no database round trip. A change to
    any plugin row committed in this process drops it at once; other processes see a change
    within ``ttl`` seconds (as with the per-tenant hook relays)."""

    def __init__(self, hub: HubContext, ttl: float = 5.0) -> None:
        self.hub = hub
        self.ttl = ttl
        self._loaded_at = -1e9
        self._book: dict[str, tuple[uuid.UUID, EmailSettings]] = {}
        self._pending: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        _books.add(self)

    def fresh(self) -> bool:
        """True when a lookup will not touch the database."""
        return time.monotonic() - self._loaded_at < self.ttl

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    def lookup(self, address: str) -> tuple[uuid.UUID, EmailSettings] | None:
        wanted = base_address(address)
        if "@" not in wanted:
            return None
        if not self.fresh():
            self._load()
        return self._book.get(wanted)

    def _load(self) -> None:
        with self._lock:
            if self.fresh():
                return
            started = time.monotonic()
            # Who owns an address is the channel-key registry's answer (one verified claim
            # per address, by a unique index), never the order of the settings rows.
            configs = {c.tenant_id: c for c in self.hub.enabled_configs("email")}
            with self.hub.session() as s:
                owned = channel_key_owners(s, "email", enabled=True)
                pending = pending_channel_keys(s, "email")
            book: dict[str, tuple[uuid.UUID, EmailSettings]] = {}
            for addr, tenant_id in owned.items():
                config = configs.get(tenant_id)
                if config is not None:
                    book[addr] = (tenant_id, settings_of(config))
            # A change that committed while we read stays visible: it invalidated after
            # ``started``, and the entry counts as loaded at ``started``.
            self._book, self._pending, self._loaded_at = book, frozenset(pending), started

    def awaiting_verification(self, address: str) -> bool:
        """Whether a tenant claims this address and nobody has proved it yet: only its
        verification mail is taken."""
        if not self.fresh():
            self._load()
        return base_address(address) in self._pending


_books: weakref.WeakSet[AddressBook] = weakref.WeakSet()
_books_by_hub: weakref.WeakKeyDictionary[HubContext, AddressBook] = weakref.WeakKeyDictionary()


def _drop_books_now() -> None:
    for book in list(_books):
        book.invalidate()


# A plugin row was written: every book is dropped now, and again once that commits.
on_plugin_change(_drop_books_now)


def configure(hub: HubContext) -> None:
    """Make the hub's address book (``hub_configure``: once per hub)."""
    _books_by_hub[hub] = AddressBook(hub)


def address_book(hub: HubContext) -> AddressBook:
    """The address book ``configure`` made for this hub."""
    return _books_by_hub[hub]


def resolve(hub: HubContext, address: str) -> tuple[uuid.UUID, EmailSettings] | None:
    """The tenant (with the plugin on) whose verified claim holds this address."""
    return address_book(hub).lookup(address)


def settings_of(config: PluginConfig) -> EmailSettings:
    return load({**config.settings, **config.secrets})


def deliver(
    hub: HubContext,
    tenant_id: uuid.UUID,
    raw: bytes,
    *,
    settings: EmailSettings,
    source: str,
    envelope_from: str | None = None,
    envelope_to: list[str] | None = None,
    uid: int | None = None,
    parsed: ParsedMail | None = None,
    auth: Verdict | None = None,
    parked_id: int | None = None,
) -> Delivery:
    """Parse and store one message for one tenant; returns after the commit.

    ``parked_id``: the message is a parked one an admin releases; parked again, it keeps that
    row (with the new reason) instead of adding one.
    Raises only for transient database trouble (the caller retries later).
    """
    if parsed is None:
        try:
            parsed = parse(
                raw,
                envelope_from=envelope_from,
                envelope_to=envelope_to or [],
                support_addresses=settings.addresses,
                auth=auth or verify(raw, settings),
            )
        except Exception as exc:
            return park(
                hub, tenant_id, raw, source=source, uid=uid, reason=_why(exc), keep=parked_id
            )
    kind = parsed.classification.kind
    if kind == BOUNCE:
        return record_bounce(hub, tenant_id, parsed, settings)
    if parsed.message.sender_email is None:
        why = str(parsed.message.meta.get("no_sender", "no sender address"))
        return park(
            hub, tenant_id, raw, source=source, uid=uid, reason=why, parsed=parsed, keep=parked_id
        )
    try:
        if kind == AUTO_REPLY:
            noted = note_auto_reply(hub, tenant_id, parsed)
            if noted is not None:
                return noted
        result = hub.ingest(tenant_id, parsed.message)
    except TRANSIENT:
        raise
    except Exception as exc:
        return park(
            hub,
            tenant_id,
            raw,
            source=source,
            uid=uid,
            reason=_why(exc),
            parsed=parsed,
            keep=parked_id,
        )
    _reaches_again(hub, tenant_id, parsed, result)
    return Delivery(
        outcome=result.outcome,
        ticket_id=result.ticket_id,
        comment_id=result.comment_id,
        reason=result.reason,
        kind=kind,
    )


@dataclass
class Received:
    """One message for one tenant, as a server received it."""

    tenant_id: uuid.UUID
    raw: bytes
    settings: EmailSettings
    source: str
    envelope_from: str | None = None
    envelope_to: list[str] = field(default_factory=list)
    uid: int | None = None
    # The sender's authentication (the SMTP server checks it with its peer; else DKIM and
    # trusted relays only, checked here).
    auth: Verdict | None = None


def deliver_many(hub: HubContext, items: list[Received]) -> list[Delivery | Exception]:
    """``deliver`` for several messages, the ordinary ones stored with one commit
    (``HubContext.ingest_many``). Per message: its ``Delivery``, or the transient database error
    that kept it from being stored (the sender must retry). Every ``Delivery`` is committed.
    """
    out: list[Delivery | Exception | None] = [None] * len(items)
    batch: list[tuple[int, ParsedMail]] = []
    for i, item in enumerate(items):
        try:
            parsed = parse(
                item.raw,
                envelope_from=item.envelope_from,
                envelope_to=item.envelope_to,
                support_addresses=item.settings.addresses,
                auth=item.auth or verify(item.raw, item.settings),
            )
        except Exception as exc:
            out[i] = _park_or_error(hub, item, _why(exc), None)
            continue
        kind = parsed.classification.kind
        if kind in (BOUNCE, AUTO_REPLY) or parsed.message.sender_email is None:
            # Rare, and with their own rules: one at a time, as ``deliver`` does.
            try:
                out[i] = deliver(
                    hub,
                    item.tenant_id,
                    item.raw,
                    settings=item.settings,
                    source=item.source,
                    envelope_from=item.envelope_from,
                    envelope_to=item.envelope_to,
                    uid=item.uid,
                    parsed=parsed,
                )
            except TRANSIENT as exc:
                out[i] = exc
            continue
        batch.append((i, parsed))
    results = hub.ingest_many([(items[i].tenant_id, parsed.message) for i, parsed in batch])
    writers: list[tuple[uuid.UUID, ParsedMail, IngestResult]] = []
    for (i, parsed), result in zip(batch, results, strict=True):
        if isinstance(result, IngestResult):
            writers.append((items[i].tenant_id, parsed, result))
            out[i] = Delivery(
                outcome=result.outcome,
                ticket_id=result.ticket_id,
                comment_id=result.comment_id,
                reason=result.reason,
                kind=parsed.classification.kind,
            )
        elif isinstance(result, TRANSIENT):
            out[i] = result
        else:  # this message's own fault: parked, the others are stored
            out[i] = _park_or_error(hub, items[i], _why(result), parsed)
    _reach_again(hub, writers)
    return [o if o is not None else RuntimeError("not delivered") for o in out]


def _reaches_again(
    hub: HubContext, tenant_id: uuid.UUID, parsed: ParsedMail, result: IngestResult
) -> None:
    """``_reach_again`` for one message."""
    _reach_again(hub, [(tenant_id, parsed, result)])


def _reach_again(hub: HubContext, stored: list[tuple[uuid.UUID, ParsedMail, IngestResult]]) -> None:
    """People's own messages (not auto-replies) that became tickets or comments: their
    addresses work, so the bounces recorded for them are cleared, in one transaction for a
    batch. Best effort: the messages are stored already."""
    senders = {
        (tenant_id, parsed.message.sender_email)
        for tenant_id, parsed, result in stored
        if parsed.message.sender_email
        and parsed.classification.kind == HUMAN
        and result.outcome in ("ticket", "comment")
    }
    if not senders:
        return
    try:
        with hub.session() as s:
            marked = {
                (t, a)
                for t in {t for t, _ in senders}
                for a in failing.failing(s, t, [x for u, x in senders if u == t])
            }
            if not marked:
                # Almost always: nobody of them is failing. Nothing to commit.
                s.rollback()
            for tenant_id, sender in sorted(marked, key=str):
                failing.clear(s, tenant_id, sender)
                log.info("email: %s wrote to tenant %s; no longer failing", sender, tenant_id)
    except TRANSIENT:
        log.warning("email: failing marks not cleared (database busy)")


def _park_or_error(
    hub: HubContext, item: Received, reason: str, parsed: ParsedMail | None
) -> Delivery | Exception:
    try:
        return park(
            hub,
            item.tenant_id,
            item.raw,
            source=item.source,
            uid=item.uid,
            reason=reason,
            parsed=parsed,
        )
    except Exception as exc:
        return exc


def note_auto_reply(hub: HubContext, tenant_id: uuid.UUID, parsed: ParsedMail) -> Delivery | None:
    """An auto-reply to mail of a ticket (an out-of-office answer to our notification) becomes an
    internal note: kept for the agents, but it neither reopens the ticket nor mails anyone.
    None when it refers to no ticket of ours (then it is ingested like any message)."""
    msg = parsed.message
    if not any(msg.references) or not msg.sender_email:
        return None
    with hub.session() as s:
        dup = find_duplicate(s, tenant_id, msg)
        if dup is not None:
            return Delivery(
                outcome="duplicate", ticket_id=dup.ticket_id, reason=dup.reason, kind=AUTO_REPLY
            )
        ticket = referenced_ticket(s, tenant_id, msg)
        if ticket is None:
            return None
        user = ensure_user(s, email=msg.sender_email, full_name=msg.sender_name)
        why = ", ".join(parsed.classification.reasons)
        note = add_comment(
            s,
            system_actor(tenant_id),
            ticket,
            is_internal=True,
            channel="email",
            author_id=user.id,
            comment=f"Automatic reply from {msg.sender_email} "
            f"({why}):\n\n{msg.body.strip() or '(no text)'}",
            extra={"automated": True},
        )
        record_seen(
            s,
            tenant_id,
            msg.channel,
            msg.dedupe_key,
            ticket_id=ticket.id,
            comment_id=note.id,
            outcome="comment",
            raw_path=hub.blob_store.put(msg.raw) if msg.raw else None,
        )
        ticket_id, note_id = ticket.id, note.id
    return Delivery(
        outcome="auto_reply",
        ticket_id=ticket_id,
        comment_id=note_id,
        reason="auto-reply noted on the ticket",
        kind=AUTO_REPLY,
    )


def _why(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:1000]


def park(
    hub: HubContext,
    tenant_id: uuid.UUID,
    raw: bytes,
    *,
    source: str,
    reason: str,
    uid: int | None = None,
    parsed: ParsedMail | None = None,
    keep: int | None = None,
) -> Delivery:
    """Keep a message we could not store as a ticket, with the reason, for an admin. ``keep``:
    the parked row of a released message that failed again (its reason is updated)."""
    if keep is not None:
        with hub.session() as s:
            row = s.get(ParkedMessage, keep)
            if row is not None and row.tenant_id == tenant_id:
                row.reason = reason
        return Delivery(outcome="parked", reason=reason)
    key = hub.blob_store.put(raw)
    with hub.session() as s:
        s.add(
            ParkedMessage(
                tenant_id=tenant_id,
                source=source[:300],
                uid=uid,
                message_id=(parsed.message_id or "")[:500] if parsed else "",
                subject=(parsed.message.subject if parsed else "")[:255],
                reason=reason,
                raw_path=key,
                created_at=now(),
            )
        )
    log.warning("email: parked a message for tenant %s from %s: %s", tenant_id, source, reason)
    return Delivery(outcome="parked", reason=reason)


def record_bounce(
    hub: HubContext, tenant_id: uuid.UUID, parsed: ParsedMail, settings: EmailSettings
) -> Delivery:
    """Mark the addresses that bounced as failing for this tenant; no ticket, no reply."""
    ours = set(settings.addresses)
    failed = [a for a in parsed.classification.failed_recipients if base_address(a) not in ours]
    key = parsed.message.dedupe_key[:300]
    try:
        with hub.session() as s:
            if s.scalar(
                select(Bounce.id).where(Bounce.tenant_id == tenant_id, Bounce.dedupe_key == key)
            ):
                return Delivery(outcome="duplicate", reason="bounce already recorded", kind=BOUNCE)
            marked = failing.mark(s, tenant_id, failed)
            s.add(
                Bounce(
                    tenant_id=tenant_id,
                    dedupe_key=key,
                    recipients=failed,
                    marked=marked,
                    created_at=now(),
                )
            )
    except IntegrityError:
        return Delivery(outcome="duplicate", reason="bounce already recorded", kind=BOUNCE)
    shown = ", ".join(marked) or "no known user"
    return Delivery(
        outcome="bounce",
        reason=f"bounce for {', '.join(failed) or '?'}; marked failing: {shown}",
        kind=BOUNCE,
    )


def verify_address(hub: HubContext, address: str, raw: bytes) -> uuid.UUID | None:
    """The verification mail of a claimed address came back: verify the claim whose secret it
    carries and return its tenant (None when it carries no valid secret)."""
    with hub.session() as s:
        tenant_id = verify_channel_key_from_mail(s, "email", base_address(address), raw)
    if tenant_id is not None:
        _drop_books_now()
        log.info("email: %s verified for tenant %s", base_address(address), tenant_id)
    return tenant_id
