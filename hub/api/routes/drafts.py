"""The caller's own reply draft on a ticket (what the console saves as one types)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from core.services.drafts import MAX_DRAFT_CHARS, get_draft, save_draft
from core.services.tickets import get_ticket
from hub.api.deps import ActorDep, ObjectId, SessionDep
from hub.api.schemas.common import Strict, UtcDateTime

router = APIRouter(prefix="/api/v1/support/tickets", tags=["drafts"])


class DraftUpdate(Strict):
    body: str = Field(max_length=MAX_DRAFT_CHARS)
    kind: Literal["public", "internal"] = "public"


class DraftPublic(BaseModel):
    """The draft; an empty ``body`` and no ``updated_at`` when none is kept."""

    ticket_id: int
    body: str = ""
    kind: str = "public"
    updated_at: UtcDateTime | None = None


@router.get("/{ticket_id}/draft/", response_model=DraftPublic)
def read_draft(ticket_id: ObjectId, actor: ActorDep, session: SessionDep) -> DraftPublic:
    """The caller's own draft on the ticket: private to them, nobody else reads it."""
    ticket = get_ticket(session, actor, ticket_id)
    draft = get_draft(session, actor, ticket)
    if draft is None:
        return DraftPublic(ticket_id=ticket.id)
    return DraftPublic(
        ticket_id=ticket.id, body=draft.body, kind=draft.kind, updated_at=draft.updated_at
    )


@router.put("/{ticket_id}/draft/", response_model=DraftPublic)
def write_draft(
    ticket_id: ObjectId, body: DraftUpdate, actor: ActorDep, session: SessionDep
) -> DraftPublic:
    """Keep the caller's draft (an empty ``body`` deletes it). Staff only for internal notes;
    managers, who do not reply, keep none (403)."""
    ticket = get_ticket(session, actor, ticket_id)
    draft = save_draft(session, actor, ticket, body=body.body, kind=body.kind)
    session.commit()
    if draft is None:
        return DraftPublic(ticket_id=ticket.id)
    return DraftPublic(
        ticket_id=ticket.id, body=draft.body, kind=draft.kind, updated_at=draft.updated_at
    )
