"""Public replies and internal notes, and what a reply does to the ticket's status."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Forbidden, Invalid
from core.models import Comment, Membership, Notification, Ticket, User
from core.permissions import ADMIN, AGENT, Actor, require_writer
from core.services import events
from core.services.tickets import set_status

MAX_COMMENT = 100_000
MENTION = re.compile(r"(?<![\w.])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+|[\w.-]+)")


def visible_comments(session: Session, actor: Actor, ticket: Ticket) -> list[Comment]:
    """The ticket's thread in order; internal notes only for those who may see them."""
    stmt = select(Comment).where(Comment.ticket_id == ticket.id,
                                 Comment.tenant_id == actor.tenant_id)
    if not actor.sees_internal:
        stmt = stmt.where(Comment.is_internal.is_(False))
    return list(session.scalars(stmt.order_by(Comment.id)))


def add_comment(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    *,
    comment: str,
    is_internal: bool = False,
    channel: str = "api",
    author_id: int | None = None,
    extra: dict[str, object] | None = None,
) -> Comment:
    """Add a comment as the actor (or, for the system, as ``author_id``)."""
    require_writer(actor)
    text = comment.strip()
    if not text:
        raise Invalid("comment must not be empty", field="comment")
    if len(text) > MAX_COMMENT:
        raise Invalid(f"comment is longer than {MAX_COMMENT} characters", field="comment")
    if is_internal and not actor.is_staff:
        raise Forbidden("only agents and admins write internal notes")
    user_id = actor.user_id if author_id is None else author_id
    if user_id is None:
        raise Invalid("a comment needs an author", field="user_id")
    at = now()
    row = Comment(ticket_id=ticket.id, tenant_id=ticket.tenant_id, user_id=user_id,
                  comment=text, is_internal=is_internal, channel=channel, created_at=at)
    session.add(row)
    session.flush()
    events.audit(session, actor, action="Internal Note" if is_internal else "Comment Added",
                 ticket_id=ticket.id, new=str(row.id), details={"channel": channel})
    author_is_requester = user_id == ticket.created_by
    if not is_internal:
        if author_is_requester:
            _requester_replied(session, actor, ticket)
        elif ticket.first_response_at is None and _is_staff(session, ticket, user_id):
            ticket.first_response_at = at
    ticket.updated_at = at
    mentioned = _notify_mentions(session, ticket, row) if actor.is_staff else []
    payload: dict[str, object] = {"comment_id": row.id, "is_internal": is_internal,
                                  "channel": channel, "author_id": user_id,
                                  "by_requester": author_is_requester, "mentions": mentioned}
    payload.update(extra or {})
    events.emit(session, actor, events.COMMENT_ADDED, tenant_id=ticket.tenant_id,
                ticket_id=ticket.id, payload=payload)
    return row


def _is_staff(session: Session, ticket: Ticket, user_id: int) -> bool:
    role = session.scalar(select(Membership.role).where(
        Membership.tenant_id == ticket.tenant_id, Membership.user_id == user_id))
    return role in (AGENT, ADMIN)


def _requester_replied(session: Session, actor: Actor, ticket: Ticket) -> None:
    """A requester's reply reopens a finished ticket and ends a wait on them."""
    from core.permissions import system_actor

    system = system_actor(ticket.tenant_id)
    if ticket.status in ("Resolved", "Closed"):
        set_status(session, system, ticket, "Reopened", reason="requester replied")
    elif ticket.status == "Pending":
        set_status(session, system, ticket, "Open", reason="requester replied")


def _notify_mentions(session: Session, ticket: Ticket, row: Comment) -> list[int]:
    """@name or @email of a tenant's agent gives them an in-app notification."""
    handles = {m.group(1).lower().rstrip(".") for m in MENTION.finditer(row.comment)}
    if not handles:
        return []
    staff = session.execute(
        select(User.id, User.email).join(Membership, Membership.user_id == User.id).where(
            Membership.tenant_id == ticket.tenant_id, Membership.role.in_((AGENT, ADMIN)))
    ).all()
    hit = [uid for uid, email in staff
           if email.lower() in handles or email.lower().split("@")[0] in handles]
    for uid in hit:
        session.add(Notification(tenant_id=ticket.tenant_id, user_id=uid, ticket_id=ticket.id,
                                 kind="mention", created_at=now(),
                                 text=f"You were mentioned on ticket #{ticket.id}"))
    return hit
