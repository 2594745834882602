"""Reply drafts: what a person has typed on a ticket and not sent yet, saved as they type.

A draft is private to its author in its tenant (no other person, not even an admin, reads it
through here), one per person and ticket, capped at ``MAX_DRAFT_CHARS``. Sending the reply
deletes it; erasing the person deletes theirs (``core.privacy.erasure``)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Forbidden, Invalid
from core.models import ReplyDraft, Ticket
from core.permissions import MANAGER, Actor

MAX_DRAFT_CHARS = 100_000  # the longest message the reply form takes
KINDS = ("public", "internal")


def get_draft(session: Session, actor: Actor, ticket: Ticket) -> ReplyDraft | None:
    """The actor's own draft on the ticket (the caller has checked they see the ticket)."""
    if actor.user_id is None:
        return None
    return session.scalars(
        select(ReplyDraft).where(
            ReplyDraft.tenant_id == actor.tenant_id,
            ReplyDraft.user_id == actor.user_id,
            ReplyDraft.ticket_id == ticket.id,
        )
    ).one_or_none()


def save_draft(
    session: Session, actor: Actor, ticket: Ticket, *, body: str, kind: str = "public"
) -> ReplyDraft | None:
    """Keep what the actor typed on the ticket (an empty message deletes the draft and returns
    None). Only people who may reply keep drafts; internal notes are for staff."""
    if actor.user_id is None or actor.role == MANAGER:
        raise Forbidden("only people who may reply keep drafts")
    if kind not in KINDS:
        raise Invalid("kind must be public or internal", field="kind")
    if kind == "internal" and not actor.is_staff:
        raise Forbidden("only staff write internal notes")
    if len(body) > MAX_DRAFT_CHARS:
        raise Invalid(f"a draft holds at most {MAX_DRAFT_CHARS} characters", field="comment")
    draft = get_draft(session, actor, ticket)
    if not body.strip():
        if draft is not None:
            session.delete(draft)
            session.flush()
        return None
    if draft is None:
        draft = ReplyDraft(tenant_id=actor.tenant_id, user_id=actor.user_id, ticket_id=ticket.id)
        session.add(draft)
    draft.body = body
    draft.kind = kind
    draft.updated_at = now()
    session.flush()
    return draft


def delete_draft(session: Session, actor: Actor, ticket: Ticket) -> None:
    """Forget the actor's draft on the ticket (it was sent)."""
    if actor.user_id is None:
        return
    session.execute(
        delete(ReplyDraft)
        .where(
            ReplyDraft.tenant_id == actor.tenant_id,
            ReplyDraft.user_id == actor.user_id,
            ReplyDraft.ticket_id == ticket.id,
        )
        .execution_options(synchronize_session=False)
    )
