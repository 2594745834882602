"""What the email plugin's own tables hold about one person (sent mail, bounce reports, a
failing mark), for a
data export and an erasure.

Parked messages keep no address column (the raw message is a blob an admin reviews and
discards), so they are not searched here.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.api import PersonRecord
from plugins.email.models import Bounce, FailingAddress, SentMail


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
