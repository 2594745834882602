"""Likely duplicates: find, list, dismiss and merge from flags; the tenant's settings.

``check_ticket`` runs after a new ticket's commit (the built-in ``hub.builtin_duplicates`` calls
it from the outbox's ``ticket.created``, whichever channel opened the ticket), so intake pays
nothing for it. It costs one indexed query for the candidates
(``ix_support_tickets_tenant_creator_id``: tenant, requester, id), one for the pairs already
flagged, and the scoring of at most ``MAX_CANDIDATES`` tickets in Python. It never merges.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, exists, literal_column, or_, select
from sqlalchemy.orm import Session

from core.clock import now
from core.db import UTCDateTime
from core.duplicates import similarity
from core.duplicates.models import DEFAULT_WINDOW_DAYS, DuplicateFlag, DuplicateSettings
from core.errors import Conflict, Invalid, NotFound
from core.lifecycle import OPEN_STATUSES
from core.models import Ticket
from core.permissions import Actor, require_admin, require_reader, require_staff
from core.services import events
from core.services.audit import by_actor
from core.services.merge import merge_ticket
from core.services.once import insert_ignore
from core.services.tickets import get_ticket

MAX_CANDIDATES = 50
MAX_FLAGS_PER_TICKET = 3
MAX_WINDOW_DAYS = 365


def settings_for(session: Session, tenant_id: uuid.UUID) -> DuplicateSettings:
    """The tenant's settings (the defaults, unsaved, when it has no row)."""
    row = session.get(DuplicateSettings, tenant_id)
    if row is None:
        return DuplicateSettings(tenant_id=tenant_id, enabled=True, window_days=DEFAULT_WINDOW_DAYS)
    return row


def save_settings(
    session: Session, actor: Actor, *, enabled: bool, window_days: int, ip: str = ""
) -> DuplicateSettings:
    """Change the tenant's settings (admins), with a tenant audit row."""
    require_admin(actor, "change duplicate detection")
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise Invalid(f"window_days must be between 1 and {MAX_WINDOW_DAYS}", field="window_days")
    row = session.get(DuplicateSettings, actor.tenant_id)
    old = (row.enabled, row.window_days) if row else (True, DEFAULT_WINDOW_DAYS)
    if row is None:
        row = DuplicateSettings(tenant_id=actor.tenant_id)
        session.add(row)
    row.enabled, row.window_days, row.updated_at = enabled, window_days, now()
    by_actor(
        session,
        actor,
        "duplicates.settings",
        ip=ip,
        details={
            "old": {"enabled": old[0], "window_days": old[1]},
            "new": {"enabled": enabled, "window_days": window_days},
        },
    )
    session.flush()
    return row


def candidate_requesters(session: Session, ticket: Ticket) -> list[int]:
    """Whose open tickets a new ticket is compared with: its requester and the people of the
    requester's organisation (``core.organisations``; the requester alone without one)."""
    from core.organisations import organisation_peers

    peers = organisation_peers(session, ticket.tenant_id, ticket.created_by)
    return [ticket.created_by, *(p for p in peers if p != ticket.created_by)]


def check_ticket(session: Session, ticket: Ticket) -> list[DuplicateFlag]:
    """Flag the open tickets of the same requester, from the tenant's window before ``ticket``,
    whose text is like this one's. A pair already flagged (open, dismissed or merged) is left
    as it is: a dismissed pair never comes back. Returns the new flags (flushed)."""
    settings = settings_for(session, ticket.tenant_id)
    if not settings.enabled or ticket.merged_into_id is not None:
        return []
    requesters = candidate_requesters(session, ticket)
    since = ticket.created_at - timedelta(days=settings.window_days)
    created: ColumnElement[datetime] = Ticket.created_at.expression
    status: ColumnElement[str] = Ticket.status.expression
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no statistics: it would take the created_at range (every ticket of the
        # window) over (tenant, requester). A unary + keeps a term out of index choice.
        created = literal_column("+support_tickets.created_at", UTCDateTime())
        status = literal_column("+support_tickets.status", String())
    rows = session.execute(
        select(Ticket.id, Ticket.subject, Ticket.description, Ticket.created_by)
        .where(
            Ticket.tenant_id == ticket.tenant_id,
            Ticket.created_by.in_(requesters),
            Ticket.id != ticket.id,
            status.in_(OPEN_STATUSES),
            Ticket.merged_into_id.is_(None),
            created >= since,
            created <= ticket.created_at,
        )
        .order_by(Ticket.id.desc())
        .limit(MAX_CANDIDATES)
    ).all()
    if not rows:
        return []
    known = set(
        session.scalars(
            select(
                DuplicateFlag.first_ticket_id + DuplicateFlag.second_ticket_id - ticket.id
            ).where(
                DuplicateFlag.tenant_id == ticket.tenant_id,
                or_(
                    DuplicateFlag.first_ticket_id == ticket.id,
                    DuplicateFlag.second_ticket_id == ticket.id,
                ),
            )
        )
    )
    new = similarity.prepare(ticket.subject, ticket.description)
    found = []
    for row in rows:
        if row.id in known:
            continue
        match = similarity.similar(new, similarity.prepare(row.subject, row.description or ""))
        if match is not None:
            found.append((match, row))
    found.sort(key=lambda item: -item[0].score)
    values = []
    for match, row in found[:MAX_FLAGS_PER_TICKET]:
        who = "same requester" if row.created_by == ticket.created_by else "same organisation"
        first, second = sorted((ticket.id, row.id))
        values.append(
            {
                "tenant_id": ticket.tenant_id,
                "first_ticket_id": first,
                "second_ticket_id": second,
                "score": match.score,
                "reason": match.basis(who),
                "status": "open",
                "created_at": now(),
            }
        )
    # Two workers checking the two tickets of a pair at once write it once.
    ids = insert_ignore(
        session,
        DuplicateFlag,
        values,
        ["tenant_id", "first_ticket_id", "second_ticket_id"],
        DuplicateFlag.id,
    )
    if not ids:
        return []
    flags = list(session.scalars(select(DuplicateFlag).where(DuplicateFlag.id.in_(ids))))
    return flags


@dataclass
class FlagView:
    """A flag as one ticket's page shows it: the other ticket of the pair, and the reason in
    words from both tickets' current text ("same requester, similar subject '...' (shared
    words: ...)")."""

    flag: DuplicateFlag
    ticket_id: int
    other_id: int
    other_subject: str
    other_status: str
    reason: str


def _view(flag: DuplicateFlag, ticket: Ticket, other: Any) -> FlagView:
    match = similarity.compare(
        similarity.prepare(ticket.subject, ticket.description),
        similarity.prepare(other.subject, other.description or ""),
    )
    match.score = flag.score
    who = flag.reason.split(",", 1)[0] if "," in flag.reason else "same requester"
    return FlagView(
        flag, ticket.id, other.id, other.subject, other.status, match.reason(other.subject, who)
    )


def flags_for(session: Session, actor: Actor, ticket_id: int) -> list[FlagView]:
    """The open flags of a ticket the actor may see (staff and managers: end users never see
    flags),
    with the other ticket's subject, in one query."""
    ticket = get_ticket(session, actor, ticket_id)
    require_reader(actor, "possible duplicates")
    other_id = DuplicateFlag.first_ticket_id + DuplicateFlag.second_ticket_id - ticket.id
    rows = session.execute(
        select(DuplicateFlag, Ticket.id, Ticket.subject, Ticket.description, Ticket.status)
        .join(Ticket, and_(Ticket.id == other_id, Ticket.tenant_id == DuplicateFlag.tenant_id))
        .where(
            DuplicateFlag.tenant_id == actor.tenant_id,
            or_(
                DuplicateFlag.first_ticket_id == ticket.id,
                DuplicateFlag.second_ticket_id == ticket.id,
            ),
            DuplicateFlag.status == "open",
            Ticket.merged_into_id.is_(None),
        )
        .order_by(DuplicateFlag.score.desc(), DuplicateFlag.id)
    ).all()
    if ticket.merged_into_id is not None:
        return []
    return [_view(row[0], ticket, row) for row in rows]


def flag_view(session: Session, flag: DuplicateFlag, ticket_id: int) -> FlagView:
    """One flag as ``ticket_id``'s page shows it (after a dismissal, say)."""
    ticket = session.get(Ticket, ticket_id)
    other = session.get(Ticket, flag.other(ticket_id))
    assert ticket is not None and other is not None
    return _view(flag, ticket, other)


def _flag(session: Session, actor: Actor, ticket_id: int, flag_id: int) -> DuplicateFlag:
    get_ticket(session, actor, ticket_id)
    require_staff(actor, "act on possible duplicates")
    flag = session.scalar(
        select(DuplicateFlag)
        .where(
            DuplicateFlag.id == flag_id,
            DuplicateFlag.tenant_id == actor.tenant_id,
            or_(
                DuplicateFlag.first_ticket_id == ticket_id,
                DuplicateFlag.second_ticket_id == ticket_id,
            ),
        )
        .with_for_update()
    )
    if flag is None:
        raise NotFound("no such duplicate flag on this ticket")
    if flag.status != "open":
        raise Conflict(f"this flag is already {flag.status}")
    return flag


def dismiss(session: Session, actor: Actor, ticket_id: int, flag_id: int) -> DuplicateFlag:
    """Mark the pair as not a duplicate (it is never flagged again), with an audit row on
    both tickets."""
    flag = _flag(session, actor, ticket_id, flag_id)
    flag.status, flag.decided_by, flag.decided_at = "dismissed", actor.user_id, now()
    for tid in (flag.first_ticket_id, flag.second_ticket_id):
        events.audit(
            session,
            actor,
            action="Duplicate Dismissed",
            ticket_id=tid,
            new=str(flag.other(tid)),
            details={"flag": flag.id, "other": flag.other(tid), "score": flag.score},
        )
    session.flush()
    return flag


def merge_from_flag(session: Session, actor: Actor, ticket_id: int, flag_id: int) -> Ticket:
    """Merge ``ticket_id`` into the other ticket of the flag (the merge service does the work
    and its audit); the flag is marked merged. Returns the target."""
    flag = _flag(session, actor, ticket_id, flag_id)
    target = merge_ticket(session, actor, ticket_id, flag.other(ticket_id))
    flag.status, flag.decided_by, flag.decided_at = "merged", actor.user_id, now()
    session.flush()
    return target


def has_open_flag(tenant_id: uuid.UUID) -> ColumnElement[bool]:
    """A condition on ``Ticket``: it has an open flag (the queue filter)."""

    return or_(
        exists().where(
            DuplicateFlag.tenant_id == tenant_id,
            DuplicateFlag.first_ticket_id == Ticket.id,
            DuplicateFlag.status == "open",
        ),
        exists().where(
            DuplicateFlag.tenant_id == tenant_id,
            DuplicateFlag.second_ticket_id == Ticket.id,
            DuplicateFlag.status == "open",
        ),
    )
