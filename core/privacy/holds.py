"""Legal holds: while one is active on a person or a ticket, nothing of it is erased or
retired by retention, and the reason is shown wherever that is refused."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Invalid, NotFound
from core.models import Membership, Ticket
from core.permissions import Actor, require_admin
from core.privacy.models import LegalHold
from core.services import audit

PLACED, RELEASED = "legal_hold.placed", "legal_hold.released"


def active(session: Session, tenant_id: uuid.UUID) -> list[LegalHold]:
    """The tenant's active holds, newest first."""
    return list(
        session.scalars(
            select(LegalHold)
            .where(LegalHold.tenant_id == tenant_id, LegalHold.released_at.is_(None))
            .order_by(LegalHold.id.desc())
        )
    )


def place(
    session: Session,
    actor: Actor,
    *,
    reason: str,
    user_id: int | None = None,
    ticket_id: int | None = None,
) -> LegalHold:
    """Hold a member or a ticket of the tenant (exactly one of them), with a reason."""
    require_admin(actor, "place a legal hold")
    reason = reason.strip()
    if not reason:
        raise Invalid("a legal hold needs a reason", field="reason")
    if (user_id is None) == (ticket_id is None):
        raise Invalid("hold either a person or a ticket", field="user_id")
    if user_id is not None and not session.scalar(
        select(Membership.id).where(
            Membership.tenant_id == actor.tenant_id, Membership.user_id == user_id
        )
    ):
        raise NotFound(f"user {user_id} is not a member of this tenant")
    if ticket_id is not None and not session.scalar(
        select(Ticket.id).where(Ticket.tenant_id == actor.tenant_id, Ticket.id == ticket_id)
    ):
        raise NotFound(f"ticket {ticket_id} not found")
    hold = LegalHold(
        tenant_id=actor.tenant_id,
        user_id=user_id,
        ticket_id=ticket_id,
        reason=reason[:2000],
        placed_by=actor.user_id,
        created_at=now(),
    )
    session.add(hold)
    session.flush()
    audit.by_actor(
        session,
        actor,
        PLACED,
        details={"hold_id": hold.id, "user_id": user_id, "ticket_id": ticket_id},
    )
    return hold


def release(session: Session, actor: Actor, hold_id: int) -> LegalHold:
    """End a hold of the tenant (idempotent for one already released)."""
    require_admin(actor, "release a legal hold")
    hold = session.scalar(
        select(LegalHold).where(LegalHold.tenant_id == actor.tenant_id, LegalHold.id == hold_id)
    )
    if hold is None:
        raise NotFound(f"legal hold {hold_id} not found")
    if hold.released_at is None:
        hold.released_at, hold.released_by = now(), actor.user_id
        audit.by_actor(session, actor, RELEASED, details={"hold_id": hold.id})
    return hold


def blocking_person(session: Session, tenant_id: uuid.UUID, user_id: int) -> LegalHold | None:
    """An active hold on the person or on one of the tickets they requested."""
    return session.scalar(
        select(LegalHold)
        .where(
            LegalHold.tenant_id == tenant_id,
            LegalHold.released_at.is_(None),
            or_(
                LegalHold.user_id == user_id,
                LegalHold.ticket_id.in_(
                    select(Ticket.id).where(
                        Ticket.tenant_id == tenant_id, Ticket.created_by == user_id
                    )
                ),
            ),
        )
        .order_by(LegalHold.id)
        .limit(1)
    )


def held_tickets(session: Session, tenant_id: uuid.UUID, ticket_ids: Collection[int]) -> set[int]:
    """Those of the tickets that are held, themselves or through their requester."""
    if not ticket_ids:
        return set()
    holds = active(session, tenant_id)
    ticket_holds = {h.ticket_id for h in holds if h.ticket_id is not None}
    people = {h.user_id for h in holds if h.user_id is not None}
    held = {t for t in ticket_ids if t in ticket_holds}
    if people:
        held |= set(
            session.scalars(
                select(Ticket.id).where(
                    Ticket.tenant_id == tenant_id,
                    Ticket.id.in_(list(ticket_ids)),
                    Ticket.created_by.in_(people),
                )
            )
        )
    return held
