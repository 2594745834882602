"""Attachment upload with size and type limits checked on the bytes, not only the name."""

from __future__ import annotations

import mimetypes
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Forbidden, Invalid, NotFound, ScanUnavailable, TooLarge
from core.models import Attachment, TenantScanSettings, Ticket
from core.permissions import Actor, require_writer
from core.scan import CLEAN, HELD_INFECTED, HELD_UNSCANNED, NOT_SCANNED, ScanVerdict
from core.services import events
from core.storage import BlobStore, sha256

DEFAULT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/json",
    "application/zip",
    "message/rfc822",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
TEXT_TYPES = ("text/plain", "text/csv", "application/json", "message/rfc822")
ZIP_FAMILY = (
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)

# The hub's scan (the ``hub_scan_attachment`` hook on the tenant's relay): (tenant, bytes, file
# name) to a verdict, None when no scanner answered; raises ScanUnavailable when it is down.
Scanner = Callable[[uuid.UUID, bytes, str], ScanVerdict | None]


@dataclass(frozen=True)
class AttachmentPolicy:
    """Configurable limits (spec section 6)."""

    max_bytes: int = 10 * 1024 * 1024
    allowed_types: tuple[str, ...] = DEFAULT_TYPES
    scan: Scanner | None = field(default=None)


def clean_file_name(name: str) -> str:
    """A display name only: no directories, no control characters, bounded length."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = name.strip(" .") or "attachment"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[-9:]) if dot else name[:200]
    return name


def sniff_type(data: bytes, file_name: str) -> str:
    """The type the bytes are, whatever the name claims."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        mime = str(kind.mime)
        if mime == "application/zip":
            guessed = mimetypes.guess_type(file_name)[0]
            if guessed in ZIP_FAMILY:
                return guessed
        return mime
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    guessed = mimetypes.guess_type(file_name)[0]
    return guessed if guessed in TEXT_TYPES else "text/plain"


def add_attachment(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    *,
    file_name: str,
    data: bytes,
    store: BlobStore,
    policy: AttachmentPolicy,
    uploaded_by: int | None = None,
    comment_id: int | None = None,
    is_internal: bool = False,
    emit_event: bool = True,
) -> Attachment:
    """Check, store and record one file on the ticket."""
    require_writer(actor)
    if is_internal and not actor.is_staff:
        raise Forbidden("only agents and admins add internal attachments")
    if len(data) == 0:
        raise Invalid("the file is empty", field="file")
    if len(data) > policy.max_bytes:
        raise TooLarge(
            f"the file is larger than the limit of {policy.max_bytes} bytes", field="file"
        )
    name = clean_file_name(file_name)
    mime = sniff_type(data, name)
    if mime not in policy.allowed_types:
        raise Invalid(f"files of type {mime} are not accepted", field="file")
    verdict = scan_verdict(session, ticket.tenant_id, data, name, policy)
    owner = actor.user_id if uploaded_by is None else uploaded_by
    if owner is None:
        raise Invalid("an attachment needs an uploader", field="uploaded_by")
    row = Attachment(
        ticket_id=ticket.id,
        tenant_id=ticket.tenant_id,
        uploaded_by=owner,
        file_path=store.put(data),
        file_name=name,
        file_size=len(data),
        mime_type=mime,
        sha256=sha256(data),
        comment_id=comment_id,
        is_internal=is_internal,
        created_at=now(),
        **verdict.columns(),
    )
    session.add(row)
    session.flush()
    events.audit(
        session,
        actor,
        action="Attachment Added",
        ticket_id=ticket.id,
        new=name,
        details={
            "attachment_id": row.id,
            "size": len(data),
            "mime_type": mime,
            "scan": row.scan_status,
        },
    )
    if row.held:
        events.audit(
            session,
            actor,
            action="Attachment Held",
            ticket_id=ticket.id,
            new=row.held,
            details={"attachment_id": row.id, "file": name, "signature": row.scan_signature},
        )
    if emit_event:
        events.emit(
            session,
            actor,
            events.ATTACHMENT_ADDED,
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            payload={"attachment_id": row.id, "is_internal": is_internal},
        )
    return row


@dataclass(frozen=True)
class Outcome:
    """What the scan decided for one file, as the attachment's columns."""

    status: str
    signature: str = ""
    held: str | None = None
    scanned: bool = False

    def columns(self) -> dict[str, object]:
        return {
            "scan_status": self.status,
            "scan_signature": self.signature[:255],
            "held": self.held,
            "scanned_at": now() if self.scanned else None,
        }


def when_scanner_down(session: Session, tenant_id: uuid.UUID) -> str:
    """The tenant's choice when the scanner is down: ``refuse`` (the default) or ``hold``."""
    row = session.get(TenantScanSettings, tenant_id)
    return row.when_down if row is not None else "refuse"


def scan_verdict(
    session: Session, tenant_id: uuid.UUID, data: bytes, name: str, policy: AttachmentPolicy
) -> Outcome:
    """Scan the bytes: clean, infected (held: quarantined), or not scanned: no scanner at
    all (served), or the scanner down (refused, or held unscanned, as the tenant chose)."""
    if policy.scan is None:
        return Outcome(NOT_SCANNED)
    try:
        verdict = policy.scan(tenant_id, data, name)
    except ScanUnavailable:
        if when_scanner_down(session, tenant_id) != "hold":
            raise
        return Outcome(NOT_SCANNED, held=HELD_UNSCANNED)
    if verdict is None:
        return Outcome(NOT_SCANNED)
    if verdict.infected:
        return Outcome(verdict.status, verdict.signature or "unnamed", HELD_INFECTED, True)
    return Outcome(CLEAN, scanned=True)


def list_attachments(session: Session, actor: Actor, ticket: Ticket) -> list[Attachment]:
    """Attachments the actor may see on a ticket they may see."""
    stmt = select(Attachment).where(
        Attachment.ticket_id == ticket.id, Attachment.tenant_id == actor.tenant_id
    )
    if not actor.sees_internal:
        stmt = stmt.where(Attachment.is_internal.is_(False))
    return list(session.scalars(stmt.order_by(Attachment.id)))


def downloadable(session: Session, actor: Actor, ticket: Ticket, attachment_id: int) -> Attachment:
    """The attachment to serve, for anyone who may see it; a held file (quarantined, or not
    scanned yet) is refused to everyone, admins too, until an admin releases it."""
    stmt = select(Attachment).where(
        Attachment.id == attachment_id,
        Attachment.ticket_id == ticket.id,
        Attachment.tenant_id == actor.tenant_id,
    )
    if not actor.sees_internal:
        stmt = stmt.where(Attachment.is_internal.is_(False))
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(f"attachment {attachment_id} not found")
    if row.held:
        why = "quarantined by the malware scan" if row.held == HELD_INFECTED else "not scanned yet"
        raise Forbidden(f"attachment {attachment_id} is held ({why}); it cannot be downloaded")
    return row


def read_attachment(
    session: Session, actor: Actor, ticket: Ticket, attachment_id: int, store: BlobStore
) -> tuple[Attachment, bytes]:
    """The row and bytes of an attachment that may be served (see ``downloadable``): the one
    way to a file's bytes, for the download routes and for a plugin that forwards files."""
    row = downloadable(session, actor, ticket, attachment_id)
    return row, store.get(row.file_path)
