"""What the email plugin's own tables hold about one person (sent mail, bounce reports, a
failing mark), for a
data export and an erasure.

Parked messages keep no address column: the person's are found by the addresses in the
raw message's headers (From, Sender, Reply-To, Return-Path), read from the blob store.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.api import BlobStore, PersonRecord
from plugins.email.models import Bounce, FailingAddress, ParkedMessage, SentMail

SENDER_HEADERS = ("from", "sender", "reply-to", "return-path")


def _bounces(session: Session, tenant_id: uuid.UUID, email: str) -> list[Bounce]:
    """Bounce reports naming the address (the lists are JSON: compared here, not in SQL)."""
    rows = session.scalars(select(Bounce).where(Bounce.tenant_id == tenant_id).order_by(Bounce.id))
    return [
        b
        for b in rows
        if email in {str(a).lower() for a in [*(b.recipients or []), *(b.marked or [])]}
    ]


def records(session: Session, tenant_id: uuid.UUID, email: str) -> list[PersonRecord]:
    """Each mail sent to the person and each bounce report that named them."""
    email = email.strip().lower()
    sent = session.scalars(
        select(SentMail)
        .where(SentMail.tenant_id == tenant_id, func.lower(SentMail.recipient) == email)
        .order_by(SentMail.id)
    )
    out = [
        PersonRecord(
            plugin="email",
            kind="sent_mail",
            id=str(m.id),
            created_at=m.created_at,
            data={
                "recipient": m.recipient,
                "ticket_id": m.ticket_id,
                "message_id": m.message_id,
                "automatic": m.automatic,
            },
        )
        for m in sent
    ]
    out += [
        PersonRecord(
            plugin="email",
            kind="bounce",
            id=str(b.id),
            created_at=b.created_at,
            data={
                "recipient": email,
                "marked_failing": email in {str(a).lower() for a in b.marked},
            },
        )
        for b in _bounces(session, tenant_id, email)
    ]
    out += [
        PersonRecord(
            plugin="email",
            kind="failing_address",
            id=str(f.id),
            created_at=f.last_bounce_at,
            data={"address": f.address, "bounces": f.bounces},
        )
        for f in session.scalars(
            select(FailingAddress).where(
                FailingAddress.tenant_id == tenant_id, FailingAddress.address == email
            )
        )
    ]
    return out


def erase(session: Session, tenant_id: uuid.UUID, email: str) -> int:
    """Anonymise the person's records: sent mail keeps its row without the recipient (it still
    stops a retried event from mailing twice), bounce reports lose the address."""
    email = email.strip().lower()
    sent = session.execute(
        update(SentMail)
        .where(SentMail.tenant_id == tenant_id, func.lower(SentMail.recipient) == email)
        .values(recipient="")
        .execution_options(synchronize_session=False)
    )
    bounces = _bounces(session, tenant_id, email)
    for b in bounces:
        b.recipients = [a for a in b.recipients or [] if str(a).lower() != email]
        b.marked = [a for a in b.marked or [] if str(a).lower() != email]
    failing = session.execute(
        delete(FailingAddress).where(
            FailingAddress.tenant_id == tenant_id, FailingAddress.address == email
        )
    )
    erased = int(sent.rowcount) + int(failing.rowcount)  # type: ignore[attr-defined]
    return erased + len(bounces)


def _senders(raw: bytes) -> set[str]:
    headers = BytesHeaderParser().parsebytes(raw)
    values = [str(v) for h in SENDER_HEADERS for v in headers.get_all(h) or []]
    return {addr.lower() for _, addr in getaddresses(values) if addr}


def parked(
    session: Session, store: BlobStore, tenant_id: uuid.UUID, email: str
) -> list[tuple[ParkedMessage, bytes]]:
    """The tenant's parked messages the person sent, with their raw bytes."""
    email = email.strip().lower()
    out = []
    rows = session.scalars(
        select(ParkedMessage)
        .where(ParkedMessage.tenant_id == tenant_id, ParkedMessage.raw_path.is_not(None))
        .order_by(ParkedMessage.id)
    )
    for row in rows:
        try:
            raw = store.get(str(row.raw_path))
        except (OSError, ValueError):
            continue
        if email in _senders(raw):
            out.append((row, raw))
    return out


def parked_records(
    session: Session, store: BlobStore, tenant_id: uuid.UUID, email: str
) -> list[PersonRecord]:
    """Each parked message of the person, its raw bytes as a file of the export."""
    return [
        PersonRecord(
            plugin="email",
            kind="parked_mail",
            id=str(row.id),
            created_at=row.created_at,
            data={"subject": row.subject, "reason": row.reason, "source": row.source},
            files={f"parked-{row.id}.eml": raw},
        )
        for row, raw in parked(session, store, tenant_id, email)
    ]


def erase_parked(session: Session, store: BlobStore, tenant_id: uuid.UUID, email: str) -> int:
    """Delete the person's parked messages, rows and blobs."""
    found = parked(session, store, tenant_id, email)
    for row, _ in found:
        store.delete(str(row.raw_path))
        session.delete(row)
    return len(found)


def sweep_parked(
    session: Session,
    store: BlobStore,
    tenant_id: uuid.UUID,
    before: datetime,
    *,
    dry_run: bool,
    limit: int,
) -> int:
    """Retention of parked mail: delete (or count) those parked before ``before``."""
    where = (ParkedMessage.tenant_id == tenant_id, ParkedMessage.created_at < before)
    if dry_run:
        return int(
            session.scalar(select(func.count()).select_from(ParkedMessage).where(*where)) or 0
        )
    rows = session.execute(
        select(ParkedMessage.id, ParkedMessage.raw_path)
        .where(*where)
        .order_by(ParkedMessage.id)
        .limit(limit)
    ).all()
    session.execute(
        delete(ParkedMessage)
        .where(ParkedMessage.id.in_([r[0] for r in rows]))
        .execution_options(synchronize_session=False)
    )
    session.flush()
    for _, key in rows:
        if key:
            store.delete(str(key))
    return len(rows)
