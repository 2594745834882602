"""The one resolver: a ticket event -> who is told, through which channel, as which kind.

It reads the matrix (``core.notifications.matrix``), the people on the ticket, the tenant's
setting for unassigned tickets and everyone's preferences, in a constant number of queries. The
rules on top of the table: never the person who acted, staff-only kinds and mentions in internal
notes never to end users, one notice per person and channel (the most specific kind wins).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Membership, User
from core.notifications import matrix, prefs
from core.permissions import ADMIN, AGENT, END_USER
from core.types import Person, TicketEvent, TicketSnapshot

STAFF = (AGENT, ADMIN)
# Which kind a person gets when an event makes several for them (lower wins).
_RANK = {matrix.MENTION: 0, matrix.ASSIGNED: 1}
# The one exception to "never who acted": the acknowledgement mail of a new ticket is a receipt
# for the requester who opened it, not news of someone else's doing.
_RECEIPT = (matrix.CREATED, matrix.REQUESTER)


@dataclass(frozen=True)
class Notice:
    """One person, one channel, one kind; ``threaded``: the email plugin sends it in the
    ticket's thread (else the hub sends it as a notice)."""

    person: Person
    recipient: str
    kind: str
    channel: str
    threaded: bool


def is_staff(person: Person) -> bool:
    """Agents and admins (managers read tickets but are not told as staff)."""
    return person.role in STAFF


def hears_internal(person: Person) -> bool:
    """Members who may read internal notes: everyone of the tenant but end users."""
    return person.role is not None and person.role != END_USER


def kinds_of(event: TicketEvent) -> list[str]:
    """The matrix kinds an event makes, mentions aside."""
    t, payload = event.type, event.payload
    if t == "ticket.created":
        return [matrix.CREATED]
    if t == "ticket.updated":
        changes = payload.get("changes") or {}
        out = []
        if (changes.get("assigned_to") or [None, None])[1] is not None:
            out.append(matrix.ASSIGNED)
        if "status" in changes:
            new = changes["status"][1]
            out.append(
                {
                    "Resolved": matrix.RESOLVED,
                    "Closed": matrix.CLOSED,
                    "Reopened": matrix.REOPENED,
                }.get(new, matrix.STATUS_CHANGED)
            )
        return out
    if t == "comment.added":
        comment = event.comment
        if comment is None:
            return []
        if comment.is_internal or payload.get("is_internal"):
            return [matrix.INTERNAL_NOTE]
        ticket = event.ticket
        if ticket is not None and comment.author.id == ticket.requester.id:
            return [matrix.REQUESTER_REPLY]
        if comment.author.role in (END_USER, None) and comment.channel != "automation":
            return [matrix.REQUESTER_REPLY]  # a participant's reply is an end user's reply
        return [matrix.AGENT_REPLY]
    return {
        "sla.warning": [matrix.SLA_WARNING],
        "sla.breached": [matrix.SLA_BREACH],
        "ticket.escalated": [matrix.ESCALATION],
        "ticket.merged": [matrix.MERGE],
    }.get(t, [])


def actors_of(event: TicketEvent) -> set[int]:
    """Who acted: the event's actor and a comment's author."""
    ids = {event.actor_id} if event.actor_id is not None else set()
    if event.comment is not None:
        ids.add(event.comment.author.id)
    return {int(i) for i in ids}


def _members(session: Session, tenant_id: uuid.UUID, *, roles: Iterable[str]) -> list[Person]:
    rows = session.execute(
        select(User.id, User.email, User.full_name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.tenant_id == tenant_id,
            Membership.role.in_(tuple(roles)),
            Membership.deactivated_at.is_(None),
            User.is_active.is_(True),
        )
        .order_by(User.id)
    ).all()
    return [Person(id=r[0], email=r[1], name=r[2], role=r[3]) for r in rows]


def _people_by(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    ids: set[int] | None = None,
    emails: set[str] | None = None,
) -> list[Person]:
    """Members of the tenant by id or by email (non-members are not told in the app)."""
    stmt = (
        select(User.id, User.email, User.full_name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id, Membership.deactivated_at.is_(None))
    )
    if ids is not None:
        if not ids:
            return []
        stmt = stmt.where(User.id.in_(ids))
    if emails is not None:
        if not emails:
            return []
        stmt = stmt.where(func.lower(User.email).in_(emails))
    rows = session.execute(stmt.order_by(User.id)).all()
    return [Person(id=r[0], email=r[1], name=r[2], role=r[3]) for r in rows]


def group_agents(session: Session, ticket: TicketSnapshot) -> list[Person] | None:
    """The active agents of the ticket's group (None: the ticket has no group)."""
    if ticket.group_id is None:
        return None
    from core.groups.service import group_agents as members

    ids = set(members(session, ticket.tenant_id, ticket.group_id))
    return _people_by(session, ticket.tenant_id, ids=ids) if ids else []


def watcher_addresses(ticket: TicketSnapshot) -> list[str]:
    """The ticket's watchers and Cc participants, as addresses (lower case, in order)."""
    seen: list[str] = []
    for value in ticket.refs.get("participant", []):
        address = value.lower()
        if address and address not in seen:
            seen.append(address)
    return seen


def recipients(session: Session, event: TicketEvent, needed: set[str]) -> dict[str, list[Person]]:
    """The people of each needed recipient kind for this event (members of the tenant)."""
    ticket = event.ticket
    assert ticket is not None
    out: dict[str, list[Person]] = {r: [] for r in matrix.RECIPIENTS}
    out[matrix.REQUESTER] = [ticket.requester]
    out[matrix.ASSIGNEE] = [ticket.assignee] if ticket.assignee is not None else []
    if matrix.PREVIOUS_ASSIGNEE in needed:
        old, new = (event.payload.get("changes") or {}).get("assigned_to") or [None, None]
        if old is not None and old != new:
            out[matrix.PREVIOUS_ASSIGNEE] = _people_by(session, event.tenant_id, ids={int(old)})
    if matrix.AGENTS in needed:
        group = group_agents(session, ticket)
        if group is not None:
            out[matrix.AGENTS] = group
        elif ticket.assignee is None:
            setting = prefs.tenant_settings(session, event.tenant_id).unassigned
            if setting == "all_agents":
                out[matrix.AGENTS] = _members(session, event.tenant_id, roles=STAFF)
    if matrix.ADMINS in needed:
        out[matrix.ADMINS] = _members(session, event.tenant_id, roles=(ADMIN,))
    if matrix.WATCHERS in needed:
        requester = ticket.requester.email.lower()
        emails = {a for a in watcher_addresses(ticket) if a != requester}
        out[matrix.WATCHERS] = _people_by(session, event.tenant_id, emails=emails)
    if matrix.MENTIONED in needed:
        ids = {int(i) for i in event.payload.get("mentions") or []}
        out[matrix.MENTIONED] = _people_by(session, event.tenant_id, ids=ids)
    return out


def resolve(session: Session, event: TicketEvent) -> list[Notice]:
    """Every notice an event makes, after the rules and everyone's preferences."""
    if event.ticket is None:
        return []
    kinds = kinds_of(event)
    if event.payload.get("mentions"):
        kinds.append(matrix.MENTION)
    if not kinds:
        return []
    internal = matrix.INTERNAL_NOTE in kinds
    needed = {r for k in kinds for r in matrix.MATRIX[k]}
    people = recipients(session, event, needed)
    acted = actors_of(event)
    candidates: list[Notice] = []
    for kind in kinds:
        for recipient, chans in matrix.MATRIX[kind].items():
            for person in people[recipient]:
                if person.id in acted and not (kind, recipient) == _RECEIPT:
                    continue
                staff_only = kind in matrix.STAFF_ONLY or (kind == matrix.MENTION and internal)
                if staff_only and not hears_internal(person):
                    continue
                staff_kinds = (
                    matrix.AGENTS,
                    matrix.ADMINS,
                    matrix.ASSIGNEE,
                    matrix.PREVIOUS_ASSIGNEE,
                )
                if recipient in staff_kinds and not (hears_internal(person)):
                    continue
                for channel in chans:
                    if person.id in acted and channel != matrix.EMAIL:
                        continue
                    if channel == matrix.CHAT and not is_staff(person):
                        continue  # end users are not linked in Slack or Teams
                    threaded = matrix.threaded(kind, recipient, channel)
                    candidates.append(Notice(person, recipient, kind, channel, threaded))
    settings = prefs.tenant_settings(session, event.tenant_id)
    choices = prefs.person_choices(session, event.tenant_id, {n.person.id for n in candidates})
    chosen: dict[tuple[int, str], Notice] = {}
    for notice in candidates:
        mine = choices.get(notice.person.id, {})
        if not prefs.wanted(notice.kind, notice.channel, notice.recipient, mine, settings.defaults):
            continue
        slot = (notice.person.id, notice.channel)
        held = chosen.get(slot)
        if held is None or _rank(notice) < _rank(held):
            chosen[slot] = notice
    return list(chosen.values())


def _rank(notice: Notice) -> int:
    # The thread's mail to the requester is kept over a separate notice (it carries the reply).
    if notice.threaded:
        return -1
    return _RANK.get(notice.kind, 2)


def thread_addresses(session: Session, event: TicketEvent) -> list[str]:
    """The addresses the email plugin's threaded mail for this event goes to: the requester
    and the Cc participants the matrix and their preferences allow, never who acted. Cc
    participants without an account here have no preferences: the matrix decides alone."""
    ticket = event.ticket
    if ticket is None:
        return []
    kinds = [k for k in kinds_of(event) if k in matrix.THREADED_MAIL]
    if not kinds:
        return []
    notices = resolve(session, event)
    told = {n.person.email.lower() for n in notices if n.threaded}
    out = [ticket.requester.email.lower()] if ticket.requester.email.lower() in told else []
    if any(matrix.EMAIL in matrix.channels(k, matrix.WATCHERS) for k in kinds):
        members = {
            p.email.lower()
            for p in _people_by(session, event.tenant_id, emails=set(watcher_addresses(ticket)))
        }
        acted_emails = (
            {ticket.requester.email.lower()} if ticket.requester.id in actors_of(event) else set()
        )
        if event.comment is not None:
            acted_emails.add(event.comment.author.email.lower())
        for address in watcher_addresses(ticket):
            if address in out or address in acted_emails:
                continue
            if address not in members or address in told:
                out.append(address)
    return out
