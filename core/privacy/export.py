"""The core part of a person's data export: the person, their tickets with the comments they
may see (an end user never gets internal notes), their ratings, and the files to add (their
attachments and the raw mail they sent) as ``(name in the zip, blob key)``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Comment, ReplyDraft, Ticket
from core.permissions import END_USER
from core.privacy import person


@dataclass
class CoreExport:
    """JSON documents by name, and the files to copy into the archive."""

    documents: dict[str, Any]
    files: list[tuple[str, str]] = field(default_factory=list)


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def collect(session: Session, tenant_id: uuid.UUID, user_id: int) -> CoreExport:
    """Everything core holds about the tenant's member."""
    who = person.member(session, tenant_id, user_id)
    ticket_ids = person.ticket_ids(session, tenant_id, who.user_id)
    own_comments = set(person.comment_ids(session, tenant_id, who.user_id))
    commented = set(session.scalars(select(Comment.ticket_id).where(Comment.id.in_(own_comments))))
    visible = sorted(set(ticket_ids) | commented)
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.tenant_id == tenant_id, Ticket.id.in_(visible))
            .order_by(Ticket.id)
        )
    )
    comments = select(Comment).where(Comment.tenant_id == tenant_id, Comment.ticket_id.in_(visible))
    if who.role == END_USER:
        comments = comments.where(Comment.is_internal.is_(False))
    by_ticket: dict[int, list[dict[str, Any]]] = {}
    for c in session.scalars(comments.order_by(Comment.id)):
        by_ticket.setdefault(c.ticket_id, []).append(
            {
                "id": c.id,
                "by_you": c.user_id == who.user_id,
                "comment": c.comment,
                "is_internal": c.is_internal,
                "channel": c.channel,
                "created_at": _iso(c.created_at),
            }
        )
    out = CoreExport(
        documents={
            "person.json": {
                "id": who.user_id,
                "email": who.email,
                "full_name": who.full_name,
                "role": who.role,
            },
            "tickets.json": [
                {
                    "id": t.id,
                    "requested_by_you": t.id in ticket_ids,
                    "subject": t.subject,
                    "description": t.description,
                    "category": t.category,
                    "priority": t.priority,
                    "status": t.status,
                    "channel": t.channel,
                    "created_at": _iso(t.created_at),
                    "closed_at": _iso(t.closed_at),
                    "comments": by_ticket.get(t.id, []),
                }
                for t in tickets
            ],
            "ratings.json": [
                {"ticket_id": t.id, "rating": t.satisfaction_rating, "feedback": t.feedback}
                for t in tickets
                if t.id in ticket_ids and t.satisfaction_rating is not None
            ],
        }
    )
    attachments = person.attachments(session, tenant_id, who.user_id)
    out.documents["attachments.json"] = [
        {
            "id": a.id,
            "ticket_id": a.ticket_id,
            "file_name": a.file_name,
            "mime_type": a.mime_type,
            "file_size": a.file_size,
            "created_at": _iso(a.created_at),
        }
        for a in attachments
    ]
    out.files += [
        (f"attachments/{a.id}-{_safe_name(a.file_name)}", a.file_path) for a in attachments
    ]
    out.documents["drafts.json"] = [
        {
            "ticket_id": d.ticket_id,
            "kind": d.kind,
            "body": d.body,
            "updated_at": _iso(d.updated_at),
        }
        for d in session.scalars(
            select(ReplyDraft)
            .where(ReplyDraft.tenant_id == tenant_id, ReplyDraft.user_id == who.user_id)
            .order_by(ReplyDraft.id)
        )
    ]
    raws = person.raw_messages(session, tenant_id, who.user_id)
    out.files += [(f"mail/{r.id}.eml", str(r.raw_path)) for r in raws]
    return out


def _safe_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)
    return cleaned.strip("._")[:100] or "file"
