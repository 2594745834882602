"""IMAP polling: unseen mail of each tenant's mailbox becomes tickets, then is flagged or moved.

Order per chunk of up to ``BATCH`` messages: fetch with ``BODY.PEEK[]`` (which leaves them
unseen), commit their tickets and comments in one transaction, and only then flag them ``\\Seen``
or move them to ``processed_folder``, with one command. A database failure stops the round and
leaves what was not committed unseen for the next one; a bad message is parked and flagged, so it
does not come back. One poller per mailbox at a time, across processes: a lease row in the database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import uuid
from datetime import timedelta

from imapclient import IMAPClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.api import STRICT, EgressPolicy, HubContext, PeriodicTask, now
from plugins.email.delivery import Delivery, Received, deliver_many, settings_of
from plugins.email.models import MailboxLease
from plugins.email.settings import EmailSettings

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
BATCH = 25
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def mailbox_key(settings: EmailSettings) -> str:
    return f"{settings.user}@{settings.host}:{settings.port}/{settings.folder}"[:300]


def acquire(hub: HubContext, tenant_id: uuid.UUID, mailbox: str, holder: str = HOLDER) -> bool:
    """Take the mailbox's lease when it is free, expired, or already ours."""
    at = now()
    with hub.session() as s:
        result = s.execute(
            update(MailboxLease)
            .where(
                MailboxLease.tenant_id == tenant_id,
                MailboxLease.mailbox == mailbox,
                (MailboxLease.expires_at < at) | (MailboxLease.holder == holder),
            )
            .values(holder=holder, expires_at=at + LEASE)
        )
        if getattr(result, "rowcount", 0):
            return True
        if s.scalar(
            select(MailboxLease.id).where(
                MailboxLease.tenant_id == tenant_id, MailboxLease.mailbox == mailbox
            )
        ):
            return False
    try:
        with hub.session() as s:
            s.add(
                MailboxLease(
                    tenant_id=tenant_id, mailbox=mailbox, holder=holder, expires_at=at + LEASE
                )
            )
    except IntegrityError:
        return False  # another process inserted it first
    return True


def release(hub: HubContext, tenant_id: uuid.UUID, mailbox: str, holder: str = HOLDER) -> None:
    with hub.session() as s:
        s.execute(
            update(MailboxLease)
            .where(
                MailboxLease.tenant_id == tenant_id,
                MailboxLease.mailbox == mailbox,
                MailboxLease.holder == holder,
            )
            .values(expires_at=now() - timedelta(seconds=1))
        )


def tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's CAs, host names checked."""
    return ssl.create_default_context()


def connect(
    settings: EmailSettings, timeout: float = 30, *, egress: EgressPolicy = STRICT
) -> IMAPClient:
    """A logged-in client: implicit TLS, STARTTLS, or plain (only for local test servers).
    The server's resolved address is checked by the egress policy and connected to as checked."""
    context = tls_context()
    client: IMAPClient = egress.imap_client(
        settings.host,
        settings.port,
        ssl=settings.security == "tls",
        ssl_context=context if settings.security == "tls" else None,
        timeout=timeout,
    )
    if settings.security == "starttls":
        client.starttls(context)
    client.login(settings.user, settings.password)
    return client


def poll_mailbox(
    hub: HubContext, tenant_id: uuid.UUID, settings: EmailSettings, state: dict[str, object]
) -> dict[str, int]:
    """One round for one mailbox (the caller holds the lease); returns counts by outcome."""
    counts: dict[str, int] = {}
    source = f"imap:{mailbox_key(settings)}"
    client = connect(settings, egress=hub.egress)
    try:
        info = client.select_folder(settings.folder)
        validity = int(info.get(b"UIDVALIDITY", 0))
        if state.get("uidvalidity") != validity:
            # The folder was rebuilt: old UIDs mean nothing now (dedupe by Message-ID still holds).
            state.update(uidvalidity=validity, last_uid=0)
        uids = sorted(client.search(["UNSEEN"]))
        for start in range(0, len(uids), BATCH):
            if start and not acquire(hub, tenant_id, mailbox_key(settings)):
                log.warning("imap: lost the lease of %s; stopping this round", source)
                return counts  # a long round outlived the lease and another poller took over
            chunk = uids[start : start + BATCH]
            fetched = client.fetch(chunk, ["BODY.PEEK[]"])
            items = [
                Received(
                    tenant_id=tenant_id, raw=bytes(raw), settings=settings, source=source, uid=uid
                )
                for uid in chunk
                if (raw := (fetched.get(uid) or {}).get(b"BODY[]")) is not None
            ]
            # The chunk is stored in one transaction (a message that fails alone is parked),
            # then acknowledged with one command: what was committed is flagged or moved.
            results = deliver_many(hub, items)
            stored = {
                item.uid: r
                for item, r in zip(items, results, strict=True)
                if isinstance(r, Delivery) and item.uid is not None
            }
            if stored:
                _done(client, settings, list(stored))
                for delivery in stored.values():
                    counts[delivery.outcome] = counts.get(delivery.outcome, 0) + 1
                state["last_uid"] = max(int(state.get("last_uid") or 0), *stored)  # type: ignore[call-overload]
                hub.save_state(tenant_id, "email", {"imap": dict(state)})
            if len(stored) < len(items):
                log.warning(
                    "imap: database failure; leaving %d message(s) of %s unseen",
                    len(items) - len(stored),
                    source,
                )
                return counts
    finally:
        with contextlib.suppress(Exception):  # the connection may already be gone
            client.logout()
    return counts


def _done(client: IMAPClient, settings: EmailSettings, uids: list[int]) -> None:
    """Acknowledge stored messages to the server: move them, or flag them read."""
    if not uids:
        return
    if settings.processed_folder:
        if client.has_capability("MOVE"):
            client.move(uids, settings.processed_folder)
            return
        client.copy(uids, settings.processed_folder)
        client.delete_messages(uids)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()
        return
    client.add_flags(uids, [b"\\Seen"])


def poll_all(hub: HubContext) -> dict[str, dict[str, int]]:
    """Poll every enabled tenant's mailbox once; a failing mailbox does not stop the others."""
    results: dict[str, dict[str, int]] = {}
    for config in hub.enabled_configs("email"):
        settings = settings_of(config)
        if not settings.host or not settings.user:
            continue
        mailbox = mailbox_key(settings)
        if not acquire(hub, config.tenant_id, mailbox):
            results[f"{config.tenant_id}:{mailbox}"] = {"busy": 1}
            continue
        try:
            state = dict((config.state or {}).get("imap") or {})
            results[f"{config.tenant_id}:{mailbox}"] = poll_mailbox(
                hub, config.tenant_id, settings, state
            )
        except Exception as exc:
            log.warning("imap: polling %s for tenant %s failed: %s", mailbox, config.tenant_id, exc)
            results[f"{config.tenant_id}:{mailbox}"] = {"error": 1}
        finally:
            release(hub, config.tenant_id, mailbox)
    return results


def periodic_task() -> PeriodicTask:
    """IMAP polling every minute (Celery beat)."""

    def run(hub: HubContext) -> None:
        for mailbox, counts in poll_all(hub).items():
            if counts:
                log.info("imap: %s: %s", mailbox, counts)

    return PeriodicTask(name="email.imap_poll", seconds=60, run=run, kind="intake")
