"""One received message for one tenant: bounce, ticket, comment, or parked. Shared by SMTP and IMAP.

Errors are sorted in two kinds. A database that is down (SQLAlchemy's ``OperationalError`` and
friends) propagates, so SMTP answers 451 and IMAP leaves the message unseen: the message is
retried, never lost. Anything else wrong with one message parks it (a row an admin can see, the
raw bytes kept) so that it does not block the rest.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.api import (
    ExternalRef,
    HubContext,
    InboundKey,
    Membership,
    PluginConfig,
    TenantPlugin,
    Ticket,
    User,
    add_comment,
    ensure_user,
    find_duplicate,
    now,
    system_actor,
)
from plugins.email.classify import AUTO_REPLY, BOUNCE
from plugins.email.models import Bounce, ParkedMessage
from plugins.email.parsing import REF_KIND, ParsedMail, parse
from plugins.email.settings import EmailSettings, load

log = logging.getLogger("hub.email")
# The database is unreachable or busy: retry later. Errors about the data itself (DataError,
# IntegrityError, ...) are the message's fault and park it instead.
TRANSIENT = (OperationalError, InterfaceError, PoolTimeout)


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


def resolve(hub: HubContext, address: str) -> tuple[uuid.UUID, EmailSettings] | None:
    """The tenant (with the plugin on) whose ``addresses`` include this address, in one query."""
    wanted = base_address(address)
    if "@" not in wanted:
        return None
    with hub.session() as s:
        rows = s.execute(select(TenantPlugin.tenant_id, TenantPlugin.settings).where(
            TenantPlugin.plugin == "email", TenantPlugin.enabled.is_(True))).all()
    for tenant_id, settings in rows:
        if wanted in [str(a).lower() for a in (settings or {}).get("addresses", [])]:
            return tenant_id, load(dict(settings or {}))
    return None


def settings_of(config: PluginConfig) -> EmailSettings:
    return load({**config.settings, **config.secrets})


def deliver(hub: HubContext, tenant_id: uuid.UUID, raw: bytes, *, settings: EmailSettings,
            source: str, envelope_from: str | None = None, envelope_to: list[str] | None = None,
            uid: int | None = None) -> Delivery:
    """Parse and store one message for one tenant; returns after the commit.

    Raises only for transient database trouble (the caller retries later).
    """
    try:
        parsed = parse(raw, envelope_from=envelope_from, envelope_to=envelope_to or [],
                       support_addresses=settings.addresses)
    except Exception as exc:  # noqa: BLE001 - parse() is total; this is the last safety net
        return park(hub, tenant_id, raw, source=source, uid=uid, reason=_why(exc))
    kind = parsed.classification.kind
    if kind == BOUNCE:
        return record_bounce(hub, tenant_id, parsed, settings)
    try:
        if kind == AUTO_REPLY:
            noted = note_auto_reply(hub, tenant_id, parsed)
            if noted is not None:
                return noted
        result = hub.ingest(tenant_id, parsed.message)
    except TRANSIENT:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad message is parked, not retried forever
        return park(hub, tenant_id, raw, source=source, uid=uid, reason=_why(exc),
                    parsed=parsed)
    return Delivery(outcome=result.outcome, ticket_id=result.ticket_id,
                    comment_id=result.comment_id, reason=result.reason, kind=kind)


def note_auto_reply(hub: HubContext, tenant_id: uuid.UUID, parsed: ParsedMail) -> Delivery | None:
    """An auto-reply to mail of a ticket (an out-of-office answer to our notification) becomes an
    internal note: kept for the agents, but it neither reopens the ticket nor mails anyone.
    None when it refers to no ticket of ours (then it is ingested like any message)."""
    msg = parsed.message
    refs = [r for r in msg.references if r][:50]
    if not refs or not msg.sender_email:
        return None
    with hub.session() as s:
        dup = find_duplicate(s, tenant_id, msg)
        if dup is not None:
            return Delivery(outcome="duplicate", ticket_id=dup.ticket_id, reason=dup.reason,
                            kind=AUTO_REPLY)
        ticket_id = s.scalar(select(ExternalRef.ticket_id).where(
            ExternalRef.tenant_id == tenant_id, ExternalRef.kind == REF_KIND,
            ExternalRef.value.in_(refs)).order_by(ExternalRef.id.desc()).limit(1))
        ticket = s.get(Ticket, ticket_id) if ticket_id else None
        if ticket is None or ticket.tenant_id != tenant_id:
            return None
        user = ensure_user(s, email=msg.sender_email, full_name=msg.sender_name)
        why = ", ".join(parsed.classification.reasons)
        note = add_comment(s, system_actor(tenant_id), ticket, is_internal=True, channel="email",
                           author_id=user.id, comment=f"Automatic reply from {msg.sender_email} "
                           f"({why}):\n\n{msg.body.strip() or '(no text)'}",
                           extra={"automated": True})
        s.add(InboundKey(tenant_id=tenant_id, channel=msg.channel, key=msg.dedupe_key[:300],
                         ticket_id=ticket.id, comment_id=note.id, outcome="comment",
                         raw_path=hub.blob_store.put(msg.raw) if msg.raw else None,
                         created_at=now()))
        ticket_id, note_id = ticket.id, note.id
    return Delivery(outcome="auto_reply", ticket_id=ticket_id, comment_id=note_id,
                    reason="auto-reply noted on the ticket", kind=AUTO_REPLY)


def _why(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:1000]


def park(hub: HubContext, tenant_id: uuid.UUID, raw: bytes, *, source: str, reason: str,
         uid: int | None = None, parsed: ParsedMail | None = None) -> Delivery:
    """Keep a message we could not store as a ticket, with the reason, for an admin."""
    key = hub.blob_store.put(raw)
    with hub.session() as s:
        s.add(ParkedMessage(tenant_id=tenant_id, source=source[:300], uid=uid,
                            message_id=(parsed.message_id or "")[:500] if parsed else "",
                            subject=(parsed.message.subject if parsed else "")[:255],
                            reason=reason, raw_path=key, created_at=now()))
    log.warning("email: parked a message for tenant %s from %s: %s", tenant_id, source, reason)
    return Delivery(outcome="parked", reason=reason)


def record_bounce(hub: HubContext, tenant_id: uuid.UUID, parsed: ParsedMail,
                  settings: EmailSettings) -> Delivery:
    """Mark the tenant's users whose address bounced as failing; no ticket, no reply."""
    ours = set(settings.addresses)
    failed = [a for a in parsed.classification.failed_recipients if base_address(a) not in ours]
    key = parsed.message.dedupe_key[:300]
    try:
        with hub.session() as s:
            if s.scalar(select(Bounce.id).where(Bounce.tenant_id == tenant_id,
                                                Bounce.dedupe_key == key)):
                return Delivery(outcome="duplicate", reason="bounce already recorded", kind=BOUNCE)
            users = list(s.scalars(select(User).join(
                Membership, (Membership.user_id == User.id) & (Membership.tenant_id == tenant_id))
                .where(User.email.in_(failed)))) if failed else []
            for user in users:
                user.email_failing = True
            s.add(Bounce(tenant_id=tenant_id, dedupe_key=key, recipients=failed,
                         marked=[u.email for u in users], created_at=now()))
    except IntegrityError:
        return Delivery(outcome="duplicate", reason="bounce already recorded", kind=BOUNCE)
    marked = ", ".join(u.email for u in users) or "no known user"
    return Delivery(outcome="bounce", reason=f"bounce for {', '.join(failed) or '?'}; "
                    f"marked failing: {marked}", kind=BOUNCE)
