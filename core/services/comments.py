"""Public replies and internal notes, and what a reply does to the ticket's status."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Forbidden, Invalid
from core.models import Comment, ExternalRef, Membership, Ticket, User
from core.permissions import ADMIN, AGENT, Actor, require_writer
from core.services import events
from core.services.tickets import set_status

MAX_COMMENT = 100_000
MENTION = re.compile(r"(?<![\w.])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+|[\w.-]+)")


def visible_comments(session: Session, actor: Actor, ticket: Ticket) -> list[Comment]:
    """The ticket's thread in order; internal notes only for those who may see them."""
    stmt = select(Comment).where(
        Comment.ticket_id == ticket.id, Comment.tenant_id == actor.tenant_id
    )
    if not actor.sees_internal:
        stmt = stmt.where(Comment.is_internal.is_(False))
    return list(session.scalars(stmt.order_by(Comment.id)))


@dataclass
class NewComment:
    """One comment for ``add_comments``: ``add_comment``'s arguments."""

    actor: Actor
    ticket: Ticket
    comment: str
    is_internal: bool = False
    channel: str = "api"
    author_id: int | None = None
    extra: dict[str, object] | None = None
    # The channel could not authenticate the sender (``Comment.unverified_sender``).
    unverified_sender: bool = False


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
    return add_comments(
        session, [NewComment(actor, ticket, comment, is_internal, channel, author_id, extra)]
    )[0]


def add_comments(session: Session, items: list[NewComment]) -> list[Comment]:
    """Add several comments (to any tickets, in order) with one flush for their rows and one
    INSERT each for their audit rows and events: a batch of N replies costs a few statements,
    not a unit of work per reply. Every comment is checked before anything is written."""
    rows = [_new_row(item) for item in items]
    session.add_all(rows)
    session.flush()
    events.audit_many(
        session,
        [
            (
                item.actor,
                {
                    "action": "Internal Note" if item.is_internal else "Comment Added",
                    "ticket_id": item.ticket.id,
                    "new": str(row.id),
                    "details": {"channel": item.channel},
                },
            )
            for item, row in zip(items, rows, strict=True)
        ],
    )
    emitted: list[tuple[Actor, str, uuid.UUID, int | None, dict[str, Any]]] = []
    for item, row in zip(items, rows, strict=True):
        ticket = item.ticket
        author_is_requester = row.user_id == ticket.created_by
        if not item.is_internal:
            if author_is_requester:
                _requester_replied(session, ticket)
            elif ticket.first_response_at is None and _is_staff(session, ticket, row.user_id):
                ticket.first_response_at = row.created_at
        ticket.updated_at = row.created_at
        mentioned = _mentions(session, ticket, row)
        payload: dict[str, Any] = {
            "comment_id": row.id,
            "is_internal": item.is_internal,
            "channel": item.channel,
            "author_id": row.user_id,
            "by_requester": author_is_requester,
            "mentions": mentioned,
            "unverified_sender": item.unverified_sender,
        }
        payload.update(item.extra or {})
        emitted.append((item.actor, events.COMMENT_ADDED, ticket.tenant_id, ticket.id, payload))
    if session.new:
        # Events a reply caused (a reopened ticket) keep their place before its own event.
        session.flush()
    events.emit_many(session, emitted)
    return rows


def _new_row(item: NewComment) -> Comment:
    """The checked, unsaved comment row of one item."""
    actor = item.actor
    require_writer(actor)
    text = item.comment.strip()
    if not text:
        raise Invalid("comment must not be empty", field="comment")
    if len(text) > MAX_COMMENT:
        raise Invalid(f"comment is longer than {MAX_COMMENT} characters", field="comment")
    if item.is_internal and not actor.is_staff:
        raise Forbidden("only agents and admins write internal notes")
    user_id = actor.user_id if item.author_id is None else item.author_id
    if user_id is None:
        raise Invalid("a comment needs an author", field="user_id")
    return Comment(
        ticket_id=item.ticket.id,
        tenant_id=item.ticket.tenant_id,
        user_id=user_id,
        comment=text,
        is_internal=item.is_internal,
        channel=item.channel,
        unverified_sender=item.unverified_sender,
        created_at=now(),
    )


def _is_staff(session: Session, ticket: Ticket, user_id: int) -> bool:
    role = session.scalar(
        select(Membership.role).where(
            Membership.tenant_id == ticket.tenant_id, Membership.user_id == user_id
        )
    )
    return role in (AGENT, ADMIN)


def _requester_replied(session: Session, ticket: Ticket) -> None:
    """A requester's reply reopens a finished ticket and ends a wait on them."""
    from core.permissions import system_actor

    system = system_actor(ticket.tenant_id)
    if ticket.status in ("Resolved", "Closed"):
        set_status(session, system, ticket, "Reopened", reason="requester replied")
    elif ticket.status == "Pending":
        set_status(session, system, ticket, "Open", reason="requester replied")


def _mentions(session: Session, ticket: Ticket, row: Comment) -> list[int]:
    """Who a comment @mentions (by @name or @email): the tenant's staff, and, in a public
    comment, the end users on the ticket (its requester and participants). The notification
    matrix tells them; this only finds them."""
    handles = {m.group(1).lower().rstrip(".") for m in MENTION.finditer(row.comment)}
    if not handles:
        return []
    people = session.execute(
        select(User.id, User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == ticket.tenant_id)
    ).all()
    on_ticket: set[str] = set()
    if not row.is_internal:
        on_ticket = {
            v.lower()
            for v in session.scalars(
                select(ExternalRef.value).where(
                    ExternalRef.tenant_id == ticket.tenant_id,
                    ExternalRef.ticket_id == ticket.id,
                    ExternalRef.kind == "participant",
                )
            )
        }
    return [
        uid
        for uid, email, role in people
        if (email.lower() in handles or email.lower().split("@")[0] in handles)
        and (
            role in (AGENT, ADMIN)
            or (not row.is_internal and (uid == ticket.created_by or email.lower() in on_ticket))
        )
    ]
