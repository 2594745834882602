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

from core.api import HubContext, Membership, PluginConfig, TenantPlugin, User, now
from plugins.email.classify import BOUNCE
from plugins.email.models import Bounce, ParkedMessage
from plugins.email.parsing import ParsedMail, parse
from plugins.email.settings import EmailSettings, load

log = logging.getLogger("hub.email")
# The database is unreachable or busy: retry later. Errors about the data itself (DataError,
# IntegrityError, ...) are the message's fault and park it instead.
TRANSIENT = (OperationalError, InterfaceError, PoolTimeout)


@dataclass
class Delivery:
    """What became of a received message."""

    outcome: str  # "ticket" | "comment" | "duplicate" | "bounce" | "parked"
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
        result = hub.ingest(tenant_id, parsed.message)
    except TRANSIENT:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad message is parked, not retried forever
        return park(hub, tenant_id, raw, source=source, uid=uid, reason=_why(exc),
                    parsed=parsed)
    return Delivery(outcome=result.outcome, ticket_id=result.ticket_id,
                    comment_id=result.comment_id, reason=result.reason, kind=kind)


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
