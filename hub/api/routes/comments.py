"""Comments and attachments of a ticket."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from core.errors import TooLarge
from core.models import Comment
from core.services.attachments import add_attachment, list_attachments, read_attachment
from core.services.comments import add_comment, visible_comments
from core.services.tickets import get_ticket
from hub import audit_export
from hub.api.deps import ActorDep, HubDep, ObjectId, SessionDep
from hub.api.routes.tickets import _attachment
from hub.api.schemas.attachments import AttachmentPublic
from hub.api.schemas.comments import CommentCreate, CommentPublic

# A ticket-trail row per download (who fetched which file, when).
ATTACHMENT_DOWNLOADED = "Attachment Downloaded"

router = APIRouter(prefix="/api/v1/support/tickets", tags=["comments", "attachments"])


@router.post("/{ticket_id}/comment/", status_code=201, response_model=CommentPublic)
def comment(
    ticket_id: ObjectId, body: CommentCreate, actor: ActorDep, session: SessionDep, hub: HubDep
) -> Comment:
    """Add a public reply or (staff) an internal note."""
    ticket = get_ticket(session, actor, ticket_id, for_update=True)
    row = add_comment(
        session,
        actor,
        ticket,
        comment=body.comment,
        is_internal=body.is_internal,
        channel="web" if not body.is_internal else "api",
    )
    session.commit()
    hub.kick()
    return row


@router.get("/{ticket_id}/comments/", response_model=list[CommentPublic])
def comments(ticket_id: ObjectId, actor: ActorDep, session: SessionDep) -> list[Comment]:
    """The thread the caller may see (no internal notes for end users)."""
    return visible_comments(session, actor, get_ticket(session, actor, ticket_id))


@router.post("/{ticket_id}/attachment/", status_code=201, response_model=AttachmentPublic)
async def upload(
    ticket_id: ObjectId,
    actor: ActorDep,
    session: SessionDep,
    hub: HubDep,
    file: Annotated[UploadFile, File()],
    is_internal: Annotated[bool, Form()] = False,
) -> AttachmentPublic:
    """Upload one file (multipart ``file``), checked by size and by content type."""
    limit = hub.attachment_policy.max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"the file is larger than the limit of {limit} bytes", field="file")
    ticket = get_ticket(session, actor, ticket_id, for_update=True)
    row = add_attachment(
        session,
        actor,
        ticket,
        file_name=file.filename or "attachment",
        data=data,
        store=hub.blob_store,
        policy=hub.attachment_policy,
        is_internal=is_internal,
    )
    session.commit()
    hub.kick()
    return _attachment(row)


@router.get("/{ticket_id}/attachments/", response_model=list[AttachmentPublic])
def attachments(
    ticket_id: ObjectId, actor: ActorDep, session: SessionDep
) -> list[AttachmentPublic]:
    """Attachments of the ticket, each with its download URL."""
    ticket = get_ticket(session, actor, ticket_id)
    return [_attachment(a) for a in list_attachments(session, actor, ticket)]


@router.get(
    "/{ticket_id}/attachments/{attachment_id}/",
    response_class=Response,
    responses={200: {"description": "the file", "content": {"application/octet-stream": {}}}},
)
def download(
    ticket_id: ObjectId, attachment_id: ObjectId, actor: ActorDep, session: SessionDep, hub: HubDep
) -> Response:
    """The file itself, only for those who may see the ticket; never rendered inline. A file
    held by the malware scan (quarantined, or not scanned yet) is a 403 for everyone."""
    ticket = get_ticket(session, actor, ticket_id)
    row, data = read_attachment(session, actor, ticket, attachment_id, hub.blob_store)
    audit_export.record_read(
        hub,
        actor,
        ATTACHMENT_DOWNLOADED,
        ticket_id=ticket.id,
        new=row.file_name,
        details={"attachment_id": row.id},
    )
    return Response(
        content=data,
        media_type=row.mime_type or "application/octet-stream",
        headers={
            "Content-Disposition": _disposition(row.file_name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


def _disposition(name: str) -> str:
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
