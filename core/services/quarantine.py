"""Held attachments: those quarantined by the malware scan (infected) and those kept unscanned
while the scanner was down. Admins list, release or delete them; a rescan gives the unscanned
ones their verdict. Every decision writes the ticket's audit row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Invalid, NotFound, ScanUnavailable
from core.models import Attachment, TenantScanSettings, Ticket
from core.permissions import Actor, require_admin, system_actor
from core.scan import CLEAN, HELD_INFECTED, HELD_UNSCANNED, WHEN_DOWN
from core.services import events
from core.services.attachments import Scanner, when_scanner_down
from core.services.audit import by_actor
from core.storage import BlobStore

POLICY_CHANGED = "scan.policy_changed"


@dataclass(frozen=True)
class HeldFile:
    """One held attachment with the subject of its ticket, for the quarantine page."""

    attachment: Attachment
    subject: str


def held_files(session: Session, actor: Actor, *, limit: int = 200) -> list[HeldFile]:
    """The tenant's held attachments, newest first (admins)."""
    require_admin(actor, "review held attachments")
    rows = session.execute(
        select(Attachment, Ticket.subject)
        .join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Attachment.tenant_id == actor.tenant_id, Attachment.held.is_not(None))
        .order_by(Attachment.id.desc())
        .limit(limit)
    ).all()
    return [HeldFile(att, subject) for att, subject in rows]


def _held(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    row = session.scalar(
        select(Attachment)
        .where(
            Attachment.id == attachment_id,
            Attachment.tenant_id == actor.tenant_id,
            Attachment.held.is_not(None),
        )
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"held attachment {attachment_id} not found")
    return row


def release(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """An admin lets a held file be downloaded again (audited with the signature)."""
    require_admin(actor, "release held attachments")
    row = _held(session, actor, attachment_id)
    reason = row.held
    row.held, row.released_by, row.released_at = None, actor.user_id, now()
    events.audit(
        session,
        actor,
        action="Attachment Released",
        ticket_id=row.ticket_id,
        old=reason,
        details={"attachment_id": row.id, "file": row.file_name, "signature": row.scan_signature},
    )
    return row


@dataclass(frozen=True)
class Deleted:
    """A deleted held file: its name, and the blob to remove once the deletion committed
    (None: another attachment shares the bytes)."""

    file_name: str
    blob: str | None


def delete(session: Session, actor: Actor, attachment_id: int) -> Deleted:
    """An admin deletes a held file (audited). The caller removes ``blob`` from the store after
    its commit, so that a failed commit keeps the file whole."""
    require_admin(actor, "delete held attachments")
    row = _held(session, actor, attachment_id)
    name, key, ticket_id = row.file_name, row.file_path, row.ticket_id
    events.audit(
        session,
        actor,
        action="Attachment Deleted",
        ticket_id=ticket_id,
        old=name,
        details={"attachment_id": row.id, "held": row.held, "signature": row.scan_signature},
    )
    session.delete(row)
    session.flush()
    shared = session.scalar(select(Attachment.id).where(Attachment.file_path == key).limit(1))
    return Deleted(name, None if shared is not None else key)


def set_when_down(session: Session, actor: Actor, when_down: str, *, ip: str = "") -> None:
    """Choose what happens to a file when the scanner is down: ``refuse`` or ``hold``."""
    require_admin(actor, "change the scan policy")
    if when_down not in WHEN_DOWN:
        raise Invalid(f"when_down must be one of {', '.join(WHEN_DOWN)}", field="when_down")
    before = when_scanner_down(session, actor.tenant_id)
    row = session.get(TenantScanSettings, actor.tenant_id)
    if row is None:
        row = TenantScanSettings(tenant_id=actor.tenant_id)
        session.add(row)
    row.when_down, row.updated_at = when_down, now()
    if before != when_down:
        by_actor(session, actor, POLICY_CHANGED, ip=ip, details={"when_down": when_down})


@dataclass
class RescanResult:
    clean: int = 0
    infected: int = 0
    still_unscanned: int = 0


def rescan(
    session: Session,
    scan: Scanner,
    store: BlobStore,
    *,
    tenant_id: uuid.UUID | None = None,
    limit: int = 100,
) -> RescanResult:
    """Scan files held unscanned (oldest first): clean ones are released, infected ones stay
    held as quarantined. Stops at the first ScanUnavailable (the scanner is still down)."""
    stmt = select(Attachment).where(Attachment.held == HELD_UNSCANNED)
    if tenant_id is not None:
        stmt = stmt.where(Attachment.tenant_id == tenant_id)
    rows = list(session.scalars(stmt.order_by(Attachment.id).limit(limit)))
    out = RescanResult()
    for i, row in enumerate(rows):
        try:
            verdict = scan(row.tenant_id, store.get(row.file_path), row.file_name)
        except ScanUnavailable:
            out.still_unscanned += len(rows) - i
            break
        if verdict is None:
            out.still_unscanned += 1
            continue
        row.scanned_at = now()
        row.scan_status = verdict.status
        if verdict.infected:
            row.scan_signature = (verdict.signature or "unnamed")[:255]
            row.held = HELD_INFECTED
            out.infected += 1
        else:
            row.scan_status, row.held = CLEAN, None
            out.clean += 1
        events.audit(
            session,
            system_actor(row.tenant_id),
            action="Attachment Rescanned",
            ticket_id=row.ticket_id,
            new=row.scan_status,
            details={"attachment_id": row.id, "signature": row.scan_signature},
        )
    return out
