"""Person data that channels read or keep: who requested a ticket, who a member is, which
addresses bounce. Plain values out, never the ORM rows."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.models import Membership, Ticket, User
from core.permissions import Actor
from core.services.identity import actor_for, user_by_email


def requester_email(session: Session, tenant_id: uuid.UUID, ticket_id: int) -> str | None:
    """The email of the requester of the tenant's ticket."""
    return session.scalar(
        select(User.email)
        .join(Ticket, Ticket.created_by == User.id)
        .where(Ticket.id == ticket_id, Ticket.tenant_id == tenant_id)
    )


def email_of(session: Session, user_id: int) -> str | None:
    """A user's email by id."""
    return session.scalar(select(User.email).where(User.id == user_id))


def member_actor(session: Session, tenant_id: uuid.UUID, email: str) -> Actor | None:
    """Any member of the tenant with this email, as an actor; None for anyone else."""
    user = user_by_email(session, email)
    if user is None:
        return None
    try:
        return actor_for(session, tenant_id, user)
    except NotFound:
        return None


def failing_addresses(session: Session, emails: Collection[str]) -> set[str]:
    """Those of ``emails`` whose mail bounces (marked by ``mark_failing``)."""
    if not emails:
        return set()
    return set(
        session.scalars(
            select(User.email).where(User.email.in_(emails), User.email_failing.is_(True))
        )
    )


def mark_failing(session: Session, tenant_id: uuid.UUID, emails: Collection[str]) -> list[str]:
    """Mark the tenant's members with these addresses as bouncing; returns the addresses
    marked (an address of nobody in the tenant is left alone)."""
    if not emails:
        return []
    users = list(
        session.scalars(
            select(User)
            .join(
                Membership,
                (Membership.user_id == User.id) & (Membership.tenant_id == tenant_id),
            )
            .where(User.email.in_(emails))
        )
    )
    for user in users:
        user.email_failing = True
    return [u.email for u in users]
