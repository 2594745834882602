"""Keep the report rollups in the write transaction, and rebuild them exactly from the tickets.

An in-transaction listener on ticket events brings the ticket's ``report_ticket_facts`` row up to
date and adds a ``report_moves`` row for each creation, resolution, closing, reopening and public
staff reply. ``rebuild`` replays the same steps from the tickets, their status-change audit rows
and their comments, so the two agree (a test checks it); the listener stamps a change with the
current moment and the rebuild with its audit row's, which is the same moment up to the
microseconds between them.

The same transaction adds the change a fact makes to the per-day report sums
(``core.reports.summaries``), and ``rebuild`` sums them again from the rebuilt facts.

Business time comes from the ticket's SLA calendar (``core.sla``). Business resolution time
leaves out the time a ticket spent Pending, Resolved or Closed before its latest resolution.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, delete, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.cache import TenantCache, invalidate_on_change
from core.clock import now
from core.lifecycle import DONE_STATUSES
from core.models import Audit, Comment, Tenant, Ticket
from core.reports import summaries
from core.reports.models import ReportDaily, ReportFact, ReportMove
from core.services import events
from core.sla.calendar import BusinessCalendar
from core.sla.clock import targets_for

STOPPED = frozenset({"Pending", *DONE_STATUSES})
WATCHED = frozenset(
    {
        events.TICKET_CREATED,
        events.TICKET_UPDATED,
        events.COMMENT_ADDED,
        events.TICKET_MERGED,
        events.SLA_BREACHED,
    }
)
UTC_ZONE = ZoneInfo("UTC")

_zones: TenantCache[ZoneInfo] = TenantCache()
invalidate_on_change(Tenant, _zones)


def zone_named(name: Any) -> ZoneInfo:
    """The IANA zone of a tenant's ``settings["timezone"]``; UTC when unset or unknown."""
    if not isinstance(name, str) or not name:
        return UTC_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


def tenant_zone(session: Session, tenant_id: uuid.UUID) -> ZoneInfo:
    """The tenant's time zone, in which report days, weeks and months are counted."""

    def load() -> ZoneInfo:
        with session.no_autoflush:
            settings = session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
        return zone_named((settings or {}).get("timezone"))

    return _zones.get(tenant_id, "zone", load)


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def week_of(day: date) -> date:
    """The Monday that starts the day's ISO week."""
    return day - timedelta(days=day.weekday())


def month_of(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True, slots=True)
class Move:
    kind: str
    at: datetime
    actor_id: int | None
    backlog: int


def new_fact(ticket: Ticket, zone: ZoneInfo) -> ReportFact:
    """The fact row of a ticket as it was created (status New, nothing measured yet)."""
    day = local_day(ticket.created_at, zone)
    return ReportFact(
        ticket_id=ticket.id,
        tenant_id=ticket.tenant_id,
        requester=ticket.created_by,
        created_at=ticket.created_at,
        created_day=day,
        created_week=week_of(day),
        created_month=month_of(day),
        category=ticket.category,
        priority=ticket.priority,
        channel=ticket.channel or "api",
        status="New",
        last_status="New",
        stopped_since=None,
        stopped_business=0.0,
        reopen_count=0,
        merged=False,
        has_feedback=False,
        response_target=0,
        resolution_target=0,
    )


def follow(fact: ReportFact, status: str, at: datetime, calendar: BusinessCalendar) -> list[Move]:
    """Advance the fact through a status change at ``at``; the moves it makes."""
    old = fact.last_status
    if status == old:
        return []
    was_done, is_done = old in DONE_STATUSES, status in DONE_STATUSES
    if was_done and is_done:
        # Resolved -> Closed: still finished; the stop that began at the resolution goes on
        # (so stopped time after the resolution is never taken off its duration).
        fact.last_status = status
        return [Move("closed", at, None, 0)] if status == "Closed" else []
    if fact.stopped_since is not None:
        fact.stopped_business = (fact.stopped_business or 0.0) + calendar.minutes_between(
            fact.stopped_since, at
        )
        fact.stopped_since = None
    if status in STOPPED:
        fact.stopped_since = at
    fact.last_status = status
    if not was_done and is_done:
        return [Move("resolved" if status == "Resolved" else "closed", at, None, -1)]
    if was_done and not is_done:
        fact.reopen_count = (fact.reopen_count or 0) + 1
        return [Move("reopened", at, None, 1)]
    return []


def refresh(session: Session, fact: ReportFact, ticket: Ticket, zone: ZoneInfo) -> None:
    """Copy the ticket's current fields onto its fact and measure its durations."""
    found = targets_for(session, ticket)
    calendar = found.calendar
    fact.agent = ticket.assigned_to
    fact.agent_group = ticket.group_id
    fact.category = ticket.category
    fact.priority = ticket.priority
    fact.channel = ticket.channel or "api"
    fact.status = ticket.status
    fact.merged = ticket.merged_into_id is not None
    fact.policy_id = found.policy_id
    fact.response_target = found.response_minutes
    fact.resolution_target = found.resolution_minutes
    fact.rating = ticket.satisfaction_rating
    fact.has_feedback = bool(ticket.feedback)
    created = ticket.created_at
    if ticket.first_response_at is not None:
        fact.first_response_minutes = _minutes(ticket.first_response_at - created)
        fact.first_response_business = calendar.minutes_between(created, ticket.first_response_at)
    else:
        fact.first_response_minutes = fact.first_response_business = None
    end = (ticket.resolved_at or ticket.closed_at) if ticket.status in DONE_STATUSES else None
    if end is None:
        fact.resolution_minutes = fact.resolution_business = None
        fact.resolved_day = fact.resolved_week = fact.resolved_month = None
        return
    fact.resolution_minutes = _minutes(end - created)
    # Stopped time before ``end``: the finished stops, not the one that began at the latest
    # resolution (``follow`` keeps that one open while the ticket stays Resolved or Closed).
    fact.resolution_business = max(
        calendar.minutes_between(created, end) - (fact.stopped_business or 0.0), 0.0
    )
    day = local_day(end, zone)
    fact.resolved_day, fact.resolved_week, fact.resolved_month = day, week_of(day), month_of(day)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _move_row(fact: ReportFact, move: Move, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "tenant_id": fact.tenant_id,
        "ticket_id": fact.ticket_id,
        "day": local_day(move.at, zone),
        "kind": move.kind,
        "actor_id": move.actor_id,
        "backlog": move.backlog,
    }


def _add_daily(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add moves to the per-day sums: one upsert, rows in key order (so two transactions
    adding to the same days lock them in the same order)."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        k = (row["tenant_id"], row["day"], row["kind"], row["actor_id"] or 0)
        total = sums.setdefault(k, [0, 0])
        total[0] += 1
        total[1] += row["backlog"]
    if not sums:
        return
    values = [
        {"tenant_id": t, "day": d, "kind": kind, "actor_id": a, "count": n, "backlog": b}
        for (t, d, kind, a), (n, b) in sorted(
            sums.items(), key=lambda kv: (str(kv[0][0]), kv[0][1:])
        )
    ]
    table = cast(Table, ReportDaily.__table__)
    stmt: Any
    if session.get_bind().dialect.name == "postgresql":
        stmt = postgresql.insert(table)
    else:
        stmt = sqlite.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "day", "kind", "actor_id"],
        set_={
            "count": table.c["count"] + stmt.excluded["count"],
            "backlog": table.c["backlog"] + stmt.excluded["backlog"],
        },
    )
    session.execute(stmt, values)


def write_moves(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert moves and add them to the per-day sums."""
    if rows:
        session.execute(insert(ReportMove), rows)
        _add_daily(session, rows)


# ---------------------------------------------------------------- the live path


@dataclass
class _Pending:
    """What this transaction did to one ticket, applied to its fact before commit."""

    ticket: Ticket
    created: bool = False
    steps: list[tuple[str, datetime]] = field(default_factory=list)
    replies: list[tuple[int, datetime]] = field(default_factory=list)


def on_event(session: Session, event: events.EventLike, actor: Any) -> None:
    """Listener: note the ticket's status at this moment (and a public staff reply); the facts
    are brought up to date before commit, all the transaction's tickets at once."""
    if event.event_type not in WATCHED or event.ticket_id is None:
        return
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None:
        return
    pending: dict[int, _Pending] = session.info.setdefault("report_pending", {})
    entry = pending.setdefault(ticket.id, _Pending(ticket))
    entry.created = entry.created or event.event_type == events.TICKET_CREATED
    entry.steps.append((ticket.status, now()))
    payload = event.payload or {}
    if (
        event.event_type == events.COMMENT_ADDED
        and not payload.get("is_internal")
        and not payload.get("by_requester")
    ):
        comment = session.get(Comment, payload.get("comment_id"))
        if comment is not None:
            entry.replies.append((comment.user_id, comment.created_at))


def save(session: Session) -> None:
    """Apply the transaction's ticket changes to their facts (one SELECT for the facts that
    exist, their UPDATEs in one batch) and insert their moves (one INSERT)."""
    pending: dict[int, _Pending] | None = session.info.pop("report_pending", None)
    if not pending:
        return
    made: dict[int, ReportFact] = session.info.setdefault("report_facts", {})
    missing = [tid for tid, entry in pending.items() if tid not in made and not entry.created]
    if missing:
        # Locked: the sums add the difference from this very row (``summaries``), so a
        # concurrent change to the same fact waits for this one.
        with session.no_autoflush:
            for row in session.scalars(
                select(ReportFact)
                .where(ReportFact.ticket_id.in_(missing))
                .order_by(ReportFact.ticket_id)
                .with_for_update()
            ):
                made[row.ticket_id] = row
    rows: list[dict[str, Any]] = []
    deltas: summaries.Parts = {}
    for ticket_id, entry in pending.items():
        ticket = entry.ticket
        zone = tenant_zone(session, ticket.tenant_id)
        fact: ReportFact | None = made.get(ticket_id)
        before = summaries.parts(fact) if fact is not None else {}
        moves: list[Move] = []
        if fact is None and not entry.created:
            # A ticket older than the rollups: replay its whole history once.
            fact = _replay(session, ticket, zone, record=True)
            session.add(fact)
        else:
            if fact is None:
                fact = new_fact(ticket, zone)
                session.add(fact)
                moves.append(Move("created", ticket.created_at, None, 1))
            calendar = targets_for(session, ticket).calendar
            for status, at in entry.steps:
                moves += follow(fact, status, at, calendar)
            moves += [Move("reply", at, user_id, 0) for user_id, at in entry.replies]
        made[ticket_id] = fact
        refresh(session, fact, ticket, zone)
        rows += [_move_row(fact, m, zone) for m in moves]
        summaries.add_all(deltas, summaries.difference(before, summaries.parts(fact)))
    if rows:
        write_moves(session, rows)
    summaries.apply(session, deltas)


@sa_event.listens_for(Session, "before_commit")
def _save_before_commit(session: Session) -> None:
    # SQLAlchemy fires the commit events for a savepoint's release too (an automation rule's
    # actions run in one): the facts are brought up to date once, by the real commit.
    if not session.in_nested_transaction():
        save(session)


@sa_event.listens_for(Session, "after_commit")
def _forget_facts(session: Session) -> None:
    # Expired by the commit: the next transaction loads the ones it needs in one SELECT.
    if not session.in_nested_transaction():
        session.info.pop("report_facts", None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: Any = None) -> None:
    session.info.pop("report_facts", None)
    session.info.pop("report_pending", None)


# ---------------------------------------------------------------- the rebuild


def _status_changes(session: Session, ids: list[int]) -> dict[int, list[tuple[str, datetime]]]:
    out: dict[int, list[tuple[str, datetime]]] = {}
    rows = session.execute(
        select(Audit.ticket_id, Audit.new_value, Audit.created_at)
        .where(Audit.ticket_id.in_(ids), Audit.action == "Status Change")
        .order_by(Audit.id)
    )
    for ticket_id, new, at in rows:
        if ticket_id is not None and new is not None:
            out.setdefault(ticket_id, []).append((new, at))
    return out


def _replies(session: Session, tickets: Iterable[Ticket]) -> dict[int, list[tuple[int, datetime]]]:
    by_id = {t.id: t for t in tickets}
    out: dict[int, list[tuple[int, datetime]]] = {}
    rows = session.execute(
        select(Comment.ticket_id, Comment.user_id, Comment.created_at)
        .where(Comment.ticket_id.in_(list(by_id)), Comment.is_internal.is_(False))
        .order_by(Comment.id)
    )
    for ticket_id, user_id, at in rows:
        if user_id != by_id[ticket_id].created_by:
            out.setdefault(ticket_id, []).append((user_id, at))
    return out


def _build(
    session: Session,
    ticket: Ticket,
    zone: ZoneInfo,
    changes: list[tuple[str, datetime]],
    replies: list[tuple[int, datetime]],
) -> tuple[ReportFact, list[Move]]:
    fact = new_fact(ticket, zone)
    calendar = targets_for(session, ticket).calendar
    moves = [Move("created", ticket.created_at, None, 1)]
    for status, at in changes:
        moves += follow(fact, status, at, calendar)
    # A ticket whose status moved without an audit row still ends in its current status.
    moves += follow(fact, ticket.status, ticket.updated_at, calendar)
    moves += [Move("reply", at, user_id, 0) for user_id, at in replies]
    refresh(session, fact, ticket, zone)
    return fact, moves


def _replay(session: Session, ticket: Ticket, zone: ZoneInfo, *, record: bool) -> ReportFact:
    with session.no_autoflush:
        changes = _status_changes(session, [ticket.id]).get(ticket.id, [])
        replies = _replies(session, [ticket]).get(ticket.id, [])
    fact, moves = _build(session, ticket, zone, changes, replies)
    if record:
        write_moves(session, [_move_row(fact, m, zone) for m in moves])
    return fact


FACT_COLUMNS = [c.key for c in ReportFact.__table__.columns]


def rebuild(session: Session, tenant_id: uuid.UUID, *, chunk: int = 2000) -> int:
    """Recompute the tenant's facts and moves from its tickets; returns how many tickets."""
    session.flush()
    _forget(session)
    zone = tenant_zone(session, tenant_id)
    session.execute(delete(ReportMove).where(ReportMove.tenant_id == tenant_id))
    session.execute(delete(ReportDaily).where(ReportDaily.tenant_id == tenant_id))
    session.execute(delete(ReportFact).where(ReportFact.tenant_id == tenant_id))
    summaries.clear(session, tenant_id)
    last_id, count = 0, 0
    while True:
        tickets = list(
            session.scalars(
                select(Ticket)
                .where(Ticket.tenant_id == tenant_id, Ticket.id > last_id)
                .order_by(Ticket.id)
                .limit(chunk)
            )
        )
        if not tickets:
            return count
        ids = [t.id for t in tickets]
        changes = _status_changes(session, ids)
        replies = _replies(session, tickets)
        facts, moves = [], []
        sums: summaries.Parts = {}
        for ticket in tickets:
            fact, made = _build(
                session, ticket, zone, changes.get(ticket.id, []), replies.get(ticket.id, [])
            )
            facts.append({k: getattr(fact, k) for k in FACT_COLUMNS})
            summaries.add_all(sums, summaries.parts(facts[-1]))
            moves += [_move_row(fact, m, zone) for m in made]
        session.execute(insert(ReportFact), facts)
        session.execute(insert(ReportMove), moves)
        _add_daily(session, moves)
        summaries.apply(session, sums)
        session.expunge_all()
        count += len(tickets)
        last_id = ids[-1]


def tenant_ids(session: Session) -> list[uuid.UUID]:
    return list(session.scalars(select(Tenant.id).order_by(Tenant.created_at)))


events.add_listener(on_event)


def tenants_missing_facts(session: Session) -> list[uuid.UUID]:
    """Tenants with a ticket the rollups do not know (tickets from before the rollups existed,
    or a restore of tickets without them): ``rebuild`` each once."""
    return list(
        session.scalars(
            select(Ticket.tenant_id)
            .outerjoin(ReportFact, ReportFact.ticket_id == Ticket.id)
            .where(ReportFact.ticket_id.is_(None))
            .distinct()
        )
    )
