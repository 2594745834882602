"""Create, read, list and change tickets, with their audit rows and events."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, insert, or_, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from core import lifecycle
from core.clock import now
from core.errors import Forbidden, Invalid, NotFound
from core.models import Membership, Ticket, User
from core.organisations.service import people_query as organisation_people
from core.permissions import ADMIN, AGENT, END_USER, Actor, require_staff, require_writer
from core.services import events

UNSET: Any = object()


def _check_choice(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise Invalid(f"{name} must be one of {', '.join(allowed)}", field=name)


def get_ticket(
    session: Session, actor: Actor, ticket_id: int, *, for_update: bool = False
) -> Ticket:
    """The ticket if this actor may see it; otherwise NotFound (never Forbidden)."""
    stmt = select(Ticket).where(Ticket.id == ticket_id, Ticket.tenant_id == actor.tenant_id)
    if not actor.reads_all_tickets:
        stmt = stmt.where(Ticket.created_by == actor.user_id)
    if for_update:
        stmt = stmt.with_for_update()
    ticket = session.scalars(stmt).one_or_none()
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


def create_ticket(
    session: Session,
    actor: Actor,
    *,
    before_events: Callable[[Ticket], None] | None = None,
    **fields: Any,
) -> Ticket:
    """Open a ticket for the actor (or, for staff and the system, on behalf of a requester);
    ``fields`` are ``ticket_values``' keywords. ``before_events`` runs once the ticket has its id,
    before its events fire rules (tags and custom field values given with it)."""
    ticket = new_ticket(actor, **fields)
    return create_tickets(session, [(actor, ticket)], before_events=before_events)[0]


# Line breaks and other control characters: a subject is one line of text wherever it came from
# (it becomes a mail Subject header, a Slack title, ...). Tabs and Unicode line separators too.
_SUBJECT_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def normalize_subject(subject: str) -> str:
    """A subject as one line: control characters (CR, LF, ...) become spaces, runs of white space
    one space. Every channel's new ticket goes through this (``ticket_values``)."""
    return " ".join(_SUBJECT_CONTROLS.sub(" ", subject).split())


def new_ticket(actor: Actor, **fields: Any) -> Ticket:
    """A validated, unsaved ticket (``ticket_values``' keywords); ``create_tickets`` writes it."""
    return Ticket(**ticket_values(actor, **fields))


def ticket_values(
    actor: Actor,
    *,
    subject: str,
    description: str,
    category: str,
    priority: str = "Medium",
    channel: str = "api",
    requester_id: int | None = None,
) -> dict[str, Any]:
    """The validated column values of a new ticket. Touches no database, so a request can be
    refused (4xx) before it joins a batch."""
    require_writer(actor)
    subject = normalize_subject(subject)
    if not subject:
        raise Invalid("subject must not be empty", field="subject")
    if len(subject) > 255:
        raise Invalid("subject is longer than 255 characters", field="subject")
    if not description.strip():
        raise Invalid("description must not be empty", field="description")
    _check_choice(category, lifecycle.CATEGORIES, "category")
    _check_choice(priority, lifecycle.PRIORITIES, "priority")
    owner = actor.user_id
    if requester_id is not None and requester_id != actor.user_id:
        if not actor.is_staff:
            raise Forbidden("only agents and admins may open a ticket for someone else")
        owner = requester_id
    if owner is None:
        raise Invalid("a ticket needs a requester", field="requester_id")
    at = now()
    return {
        "tenant_id": actor.tenant_id,
        "created_by": owner,
        "subject": subject,
        "description": description,
        "category": category,
        "priority": priority,
        "status": "New",
        "channel": channel,
        "created_at": at,
        "updated_at": at,
        "sla_breached": False,
    }


def create_tickets(
    session: Session,
    items: list[tuple[Actor, Ticket]],
    *,
    before_events: Callable[[Ticket], None] | None = None,
) -> list[Ticket]:
    """Write new tickets (from ``new_ticket``) with their audit rows and events.

    All tickets go in with one flush, so that N tickets cost one INSERT per table, not N: the
    creation listeners (the SLA due moment) fill in derived columns first, so no row is
    updated right after it is inserted.
    """
    tickets = [ticket for _, ticket in items]
    for ticket in tickets:
        events.before_create(session, ticket)
    if _take_ids(session, tickets):
        _insert_numbered(session, tickets)
    else:
        session.add_all(tickets)
        session.flush()
    if before_events is not None:
        for ticket in tickets:
            before_events(ticket)
    events.audit_many(
        session,
        [
            (
                actor,
                {
                    "action": "Ticket Created",
                    "ticket_id": ticket.id,
                    "new": ticket.subject,
                    "details": {"channel": ticket.channel},
                },
            )
            for actor, ticket in items
        ],
    )
    events.emit_many(
        session,
        [
            (actor, events.TICKET_CREATED, ticket.tenant_id, ticket.id, {"channel": ticket.channel})
            for actor, ticket in items
        ],
    )
    return [ticket for _, ticket in items]


def _take_ids(session: Session, tickets: list[Ticket]) -> bool:
    """On PostgreSQL, number a batch of three or more new tickets from their sequence in one
    round trip; False otherwise (the ORM's INSERT ... RETURNING of one or two rows is cheaper).

    Numbered tickets go in as one executemany of a short, fixed INSERT that psycopg caches and
    prepares (``_insert_numbered``). Without ids the ORM sends a multi-row ``INSERT ...
    RETURNING`` whose text changes with the batch size and, from three rows on, has too many
    parameters for psycopg's statement cache: it is parsed anew every time.
    """
    if len(tickets) < 3 or session.get_bind().dialect.name != "postgresql":
        return False
    ids = session.scalars(_NEXT_IDS, {"n": len(tickets)}).all()
    for ticket, ticket_id in zip(tickets, sorted(ids), strict=True):
        ticket.id = ticket_id
    return True


def _insert_numbered(session: Session, tickets: list[Ticket]) -> None:
    """Insert tickets that have their ids with one Core statement, then attach them to the session
    as persistent objects: no unit-of-work flush, and later changes are still saved as UPDATEs."""
    rows = []
    for ticket in tickets:
        loaded = ticket.__dict__
        for key in _TICKET_COLUMNS:
            if key not in loaded:
                setattr(ticket, key, None)  # loaded as None, so nothing is expired later
        rows.append({key: loaded[key] for key in _TICKET_COLUMNS})
    session.execute(_INSERT_TICKETS, rows)
    for ticket in tickets:
        make_transient_to_detached(ticket)
        session.add(ticket)


_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('support_tickets', 'id')) FROM generate_series(1, :n)"
)
_TICKET_COLUMNS = [attr.key for attr in sa_inspect(Ticket).column_attrs]
_INSERT_TICKETS = insert(cast(Table, Ticket.__table__))


def _staff_member(session: Session, actor: Actor, user_id: int) -> None:
    role = session.scalar(
        select(Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.tenant_id == actor.tenant_id,
            Membership.user_id == user_id,
            Membership.deactivated_at.is_(None),
            User.is_active.is_(True),
        )
    )
    if role not in (AGENT, ADMIN):
        raise Invalid(
            "tickets can only be assigned to an agent or admin of this tenant", field="assigned_to"
        )


def set_status(
    session: Session, actor: Actor, ticket: Ticket, target: str, *, reason: str | None = None
) -> bool:
    """Move a ticket through the status machine; returns False when nothing changed."""
    _check_choice(target, lifecycle.STATUSES, "status")
    current = ticket.status
    if target == current:
        return False
    if actor.is_staff:
        allowed = lifecycle.can_transition(current, target, staff=True)
    elif actor.role == END_USER and ticket.created_by == actor.user_id:
        allowed = lifecycle.can_transition(current, target, staff=False)
        if not allowed:
            raise Forbidden("the requester may only reopen a Resolved or Closed ticket")
    else:
        raise Forbidden("only agents and admins may change the status")
    if not allowed:
        raise Invalid(f"a ticket cannot go from {current} to {target}", field="status")
    at = now()
    ticket.status = target
    if target == "Closed":
        ticket.closed_at = at
    elif current == "Closed":
        ticket.closed_at = None
    if target == "Resolved":
        ticket.resolved_at = at
    elif target not in lifecycle.DONE_STATUSES:
        ticket.resolved_at = None
    ticket.updated_at = at
    events.audit(
        session,
        actor,
        action="Status Change",
        ticket_id=ticket.id,
        old=current,
        new=target,
        details={"reason": reason} if reason else None,
    )
    return True


@dataclass
class Changes:
    """What a PATCH or a bulk action asks to change; UNSET fields are left alone."""

    status: Any = UNSET
    priority: Any = UNSET
    category: Any = UNSET
    assigned_to: Any = UNSET
    group_id: Any = UNSET
    satisfaction_rating: Any = UNSET
    feedback: Any = UNSET
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def update_ticket(
    session: Session, actor: Actor, ticket: Ticket, changes: Changes
) -> dict[str, Any]:
    """Apply changes with the role and lifecycle rules; returns {field: [old, new]}."""
    require_writer(actor)
    done: dict[str, Any] = {}
    at = now()
    if changes.priority is not UNSET and changes.priority != ticket.priority:
        require_staff(actor, "change the priority")
        _check_choice(changes.priority, lifecycle.PRIORITIES, "priority")
        done["priority"] = [ticket.priority, changes.priority]
        events.audit(
            session,
            actor,
            action="Priority Change",
            ticket_id=ticket.id,
            old=ticket.priority,
            new=changes.priority,
        )
        ticket.priority = changes.priority
    if changes.category is not UNSET and changes.category != ticket.category:
        require_staff(actor, "change the category")
        _check_choice(changes.category, lifecycle.CATEGORIES, "category")
        done["category"] = [ticket.category, changes.category]
        events.audit(
            session,
            actor,
            action="Category Change",
            ticket_id=ticket.id,
            old=ticket.category,
            new=changes.category,
        )
        ticket.category = changes.category
    assignee = changes.assigned_to
    if changes.group_id is not UNSET and changes.group_id != ticket.group_id:
        if _change_group(session, actor, ticket, changes.group_id, done) and assignee is UNSET:
            assignee = None
    if assignee is not UNSET and assignee != ticket.assigned_to:
        require_staff(actor, "assign tickets")
        if assignee is not None:
            _staff_member(session, actor, assignee)
        done["assigned_to"] = [ticket.assigned_to, assignee]
        events.audit(
            session,
            actor,
            action="Assignment",
            ticket_id=ticket.id,
            old=ticket.assigned_to,
            new=assignee,
        )
        ticket.assigned_to = assignee
        # Spec section 3: Open means "assigned to an agent".
        if assignee is not None and ticket.status == "New" and changes.status is UNSET:
            set_status(session, actor, ticket, "Open", reason="assigned")
            done["status"] = ["New", "Open"]
    if changes.status is not UNSET:
        old = ticket.status
        if set_status(session, actor, ticket, changes.status, reason=changes.reason):
            done["status"] = [old, changes.status]
    if changes.satisfaction_rating is not UNSET or changes.feedback is not UNSET:
        _rate(session, actor, ticket, changes, done)
    if done:
        ticket.updated_at = at
        events.emit(
            session,
            actor,
            events.TICKET_UPDATED,
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            payload={"changes": done, **changes.extra},
        )
    return done


def _change_group(
    session: Session, actor: Actor, ticket: Ticket, group_id: int | None, done: dict[str, Any]
) -> bool:
    """Move the ticket to another agent group; True when its assignee is not in the new group
    and so lets go of it (the group's own agents take it)."""
    from core.groups.service import check_group, member_ids

    require_staff(actor, "move tickets between groups")
    check_group(session, actor.tenant_id, group_id)
    done["group_id"] = [ticket.group_id, group_id]
    events.audit(
        session,
        actor,
        action="Group Change",
        ticket_id=ticket.id,
        old=ticket.group_id,
        new=group_id,
    )
    ticket.group_id = group_id
    return (
        ticket.assigned_to is not None
        and group_id is not None
        and ticket.assigned_to not in member_ids(session, group_id)
    )


def _rate(
    session: Session, actor: Actor, ticket: Ticket, changes: Changes, done: dict[str, Any]
) -> None:
    if ticket.created_by != actor.user_id:
        raise Forbidden("only the requester rates a ticket")
    if ticket.status not in lifecycle.DONE_STATUSES:
        raise Invalid(
            "a ticket can be rated once it is Resolved or Closed", field="satisfaction_rating"
        )
    rating = changes.satisfaction_rating
    if rating is not UNSET:
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise Invalid(
                "satisfaction_rating must be an integer from 1 to 5", field="satisfaction_rating"
            )
        done["satisfaction_rating"] = [ticket.satisfaction_rating, rating]
        events.audit(
            session,
            actor,
            action="CSAT",
            ticket_id=ticket.id,
            old=ticket.satisfaction_rating,
            new=rating,
        )
        ticket.satisfaction_rating = rating
    if changes.feedback is not UNSET:
        done["feedback"] = [ticket.feedback, changes.feedback]
        ticket.feedback = changes.feedback


# ---------------------------------------------------------------- listing


@dataclass
class TicketFilter:
    """Filters of the ticket list; every one is served by an index that starts with tenant_id."""

    status: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    assigned_to: int | None = None
    unassigned: bool = False
    group_ids: list[int] | None = None  # None: any group; []: matches nothing
    no_group: bool = False
    created_by: int | None = None
    sla_breached: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str | None = None
    ids: list[int] | None = None
    organisation: int | None = None  # requesters of this organisation (core.organisations)
    # Tags (each one named must be on the ticket) and custom field values ({key: value}).
    tags: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    # Further conditions on Ticket from other domains (e.g. "has a possible duplicate").
    conditions: list[Any] = field(default_factory=list)


SORTS = {
    "-created_at": ("id", True),
    "created_at": ("id", False),
    "-updated_at": ("updated_at", True),
    "updated_at": ("updated_at", False),
    "-sla_due_at": ("sla_due_at", True),
    "sla_due_at": ("sla_due_at", False),
}


def encode_cursor(key: Any, ticket_id: int) -> str:
    raw = json.dumps([key.isoformat() if isinstance(key, datetime) else key, ticket_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, column: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key, ticket_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if column != "id" and key is not None:
            key = datetime.fromisoformat(key)
        return key, int(ticket_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Invalid("cursor is not valid", field="cursor") from exc


def ticket_query(actor: Actor, flt: TicketFilter) -> Select[Ticket]:
    """The scoped, filtered select of tickets this actor may see."""
    stmt = select(Ticket).where(Ticket.tenant_id == actor.tenant_id)
    if not actor.reads_all_tickets:
        stmt = stmt.where(Ticket.created_by == actor.user_id)
    for name, values, allowed in (
        ("status", flt.status, lifecycle.STATUSES),
        ("priority", flt.priority, lifecycle.PRIORITIES),
        ("category", flt.category, lifecycle.CATEGORIES),
    ):
        for value in values:
            _check_choice(value, allowed, name)
        if values:
            stmt = stmt.where(getattr(Ticket, name).in_(values))
    if flt.unassigned:
        stmt = stmt.where(Ticket.assigned_to.is_(None))
    elif flt.assigned_to is not None:
        stmt = stmt.where(Ticket.assigned_to == flt.assigned_to)
    if flt.no_group:
        stmt = stmt.where(Ticket.group_id.is_(None))
    elif flt.group_ids is not None:
        stmt = stmt.where(Ticket.group_id.in_(flt.group_ids))
    if flt.created_by is not None:
        stmt = stmt.where(Ticket.created_by == flt.created_by)
    if flt.organisation is not None:
        stmt = stmt.where(
            Ticket.created_by.in_(organisation_people(actor.tenant_id, flt.organisation))
        )
    if flt.sla_breached is not None:
        stmt = stmt.where(Ticket.sla_breached.is_(flt.sla_breached))
    if flt.created_after is not None:
        stmt = stmt.where(Ticket.created_at >= flt.created_after)
    if flt.created_before is not None:
        stmt = stmt.where(Ticket.created_at < flt.created_before)
    if flt.ids is not None:
        stmt = stmt.where(Ticket.id.in_(flt.ids))
    if flt.tags:
        from core.tags.service import where_tags

        stmt = stmt.where(*where_tags(actor.tenant_id, flt.tags))
    if flt.fields:
        from core.fields.service import field_filter

        for key, value in flt.fields.items():
            stmt = stmt.where(field_filter(actor.tenant_id, key, value))
    for condition in flt.conditions:
        stmt = stmt.where(condition)
    if flt.q:
        term = "%" + flt.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Ticket.subject.ilike(term, escape="\\"), Ticket.description.ilike(term, escape="\\")
            )
        )
    return stmt


def list_tickets(
    session: Session,
    actor: Actor,
    flt: TicketFilter,
    *,
    sort: str = "-created_at",
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Ticket], str | None]:
    """One page of tickets by keyset pagination: one query, whatever the page number."""
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}", field="sort")
    if not 1 <= limit <= 200:
        raise Invalid("limit must be between 1 and 200", field="limit")
    column_name, desc = SORTS[sort]
    column = getattr(Ticket, column_name)
    stmt = ticket_query(actor, flt)
    if column_name == "sla_due_at":
        stmt = stmt.where(Ticket.sla_due_at.is_not(None))
    if cursor:
        key, last_id = _decode_cursor(cursor, column_name)
        if column_name == "id":
            stmt = stmt.where(Ticket.id < last_id if desc else Ticket.id > last_id)
        elif desc:
            stmt = stmt.where(or_(column < key, and_(column == key, Ticket.id < last_id)))
        else:
            stmt = stmt.where(or_(column > key, and_(column == key, Ticket.id > last_id)))
    order = [column.desc(), Ticket.id.desc()] if desc else [column.asc(), Ticket.id.asc()]
    if column_name == "id":
        order = order[:1]
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, column_name), last.id)
    return rows, next_cursor
