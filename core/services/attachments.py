"""Attachment upload with size and type limits checked on the bytes, not only the name."""

from __future__ import annotations

import mimetypes
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Forbidden, Invalid, TooLarge
from core.models import Attachment, Ticket
from core.permissions import Actor, require_writer
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

# A scanner returns None when clean, or the name of what it found.
Scanner = Callable[[bytes], str | None]


@dataclass(frozen=True)
class AttachmentPolicy:
    """Configurable limits (spec section 6)."""

    max_bytes: int = 10 * 1024 * 1024
    allowed_types: tuple[str, ...] = DEFAULT_TYPES
    scanners: tuple[Scanner, ...] = field(default_factory=tuple)


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
    for scan in policy.scanners:
        found = scan(data)
        if found:
            raise Invalid(f"the file was rejected by the malware scan ({found})", field="file")
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
    )
    session.add(row)
    session.flush()
    events.audit(
        session,
        actor,
        action="Attachment Added",
        ticket_id=ticket.id,
        new=name,
        details={"attachment_id": row.id, "size": len(data), "mime_type": mime},
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


def list_attachments(session: Session, actor: Actor, ticket: Ticket) -> list[Attachment]:
    """Attachments the actor may see on a ticket they may see."""
    stmt = select(Attachment).where(
        Attachment.ticket_id == ticket.id, Attachment.tenant_id == actor.tenant_id
    )
    if not actor.sees_internal:
        stmt = stmt.where(Attachment.is_internal.is_(False))
    return list(session.scalars(stmt.order_by(Attachment.id)))
