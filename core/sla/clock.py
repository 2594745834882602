"""SLA targets: which policy applies to a ticket, its business-hours clock, and its due moments.

Each ticket has one ``support_sla_states`` row (its clock). The clock counts business time of the
policy's calendar from the start of the current cycle (creation, or the moment a finished ticket
came back), minus the business time spent Pending. From it come the warning and due moments of
the first-response target (until the first public agent reply) and of the resolution target.

``support_tickets.sla_due_at`` always holds the next due moment: the first-response target until
an agent has answered publicly, then the resolution target; nothing while the clock is paused
(Pending) or once the ticket is Resolved or Closed. It is kept by an in-transaction listener on
ticket events, so it changes in the same transaction as the priority, category, status, reply or
policy that moved it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from core.cache import TenantCache, invalidate_on_change
from core.clock import now
from core.lifecycle import DONE_STATUSES, OPEN_STATUSES
from core.models import SlaLog, SlaPolicy, SlaState, Ticket
from core.permissions import Actor
from core.services import events
from core.sla.calendar import ALWAYS_OPEN, BusinessCalendar

STATE_TABLE = cast(Table, SlaState.__table__)

# Spec section 4: per priority (minutes to first response, minutes to resolution).
DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    "Critical": (60, 4 * 60),
    "High": (4 * 60, 24 * 60),
    "Medium": (8 * 60, 3 * 24 * 60),
    "Low": (24 * 60, 7 * 24 * 60),
}
DEFAULT_WARNING_PERCENT = 80
RESPONSE, RESOLUTION = "response", "resolution"
WARNING, BREACH = "SLA_WARNING", "SLA_BREACH"
PAUSED_STATUS = "Pending"


@dataclass(frozen=True)
class Targets:
    """The policy in force for a ticket (a stored one, or the default of its priority)."""

    policy_id: int | None
    response_minutes: int
    resolution_minutes: int
    warning_percent: int
    calendar: BusinessCalendar


@dataclass(frozen=True)
class PolicyRow:
    """A policy as the hot path needs it (cached per tenant, detached from any session)."""

    id: int
    group_id: int | None
    category: str | None
    priority: str
    response_minutes: int
    resolution_minutes: int
    warning_percent: int | None
    calendar: dict[str, Any] | None


_policies: TenantCache[tuple[PolicyRow, ...]] = TenantCache()
invalidate_on_change(SlaPolicy, _policies)


def _tenant_policies(session: Session, tenant_id: uuid.UUID) -> tuple[PolicyRow, ...]:
    rows = session.execute(
        select(
            SlaPolicy.id,
            SlaPolicy.group_id,
            SlaPolicy.category,
            SlaPolicy.priority,
            SlaPolicy.response_minutes,
            SlaPolicy.resolution_minutes,
            SlaPolicy.warning_percent,
            SlaPolicy.calendar,
        )
        .where(SlaPolicy.tenant_id == tenant_id, SlaPolicy.is_active.is_(True))
        .order_by(SlaPolicy.id)
    )
    return tuple(PolicyRow(*row) for row in rows)


def tenant_policies(session: Session, tenant_id: uuid.UUID) -> tuple[PolicyRow, ...]:
    """The tenant's active policies (cached for a few seconds)."""
    with session.no_autoflush:
        return _policies.get(tenant_id, "active", lambda: _tenant_policies(session, tenant_id))


def specificity(row: Any, group_id: int | None, category: str | None) -> int | None:
    """How closely a policy (of the ticket's priority) fits a ticket of this group and category,
    higher winning: group and category 3, group 2, category 1, neither 0; None when it does not
    cover the ticket. ``countdown.at_risk_clause`` is the same order in SQL."""
    if row.group_id is not None and row.group_id != group_id:
        return None
    if row.category is not None and row.category != category:
        return None
    return (2 if row.group_id is not None else 0) + (1 if row.category is not None else 0)


def policy_for(session: Session, ticket: Ticket) -> PolicyRow | None:
    """The tenant's most specific active policy for the ticket's priority: the one for its group
    and category, else for its group, else for its category, else for every ticket; None when
    there is none (the spec's default then applies)."""
    best: PolicyRow | None = None
    best_rank = -1
    for row in tenant_policies(session, ticket.tenant_id):
        if row.priority != ticket.priority:
            continue
        rank = specificity(row, ticket.group_id, ticket.category)
        if rank is not None and rank > best_rank:
            best, best_rank = row, rank
    return best


def targets_for(session: Session, ticket: Ticket) -> Targets:
    """The targets and calendar that apply to the ticket now."""
    policy = policy_for(session, ticket)
    if policy is None:
        response, resolution = DEFAULT_TARGETS[ticket.priority]
        return Targets(None, response, resolution, DEFAULT_WARNING_PERCENT, ALWAYS_OPEN)
    return Targets(
        policy.id,
        policy.response_minutes,
        policy.resolution_minutes,
        policy.warning_percent or DEFAULT_WARNING_PERCENT,
        BusinessCalendar.parse(policy.calendar),
    )


def targets(session: Session, ticket: Ticket) -> tuple[int, int]:
    """(response minutes, resolution minutes) for the ticket."""
    found = targets_for(session, ticket)
    return found.response_minutes, found.resolution_minutes


# ---------------------------------------------------------------- the clock


def _new_state(ticket: Ticket) -> SlaState:
    return SlaState(
        ticket_id=ticket.id,
        tenant_id=ticket.tenant_id,
        cycle=1,
        cycle_started_at=ticket.created_at,
        last_status="New",
        paused_since=None,
        paused_seconds=0.0,
        response_minutes=0,
        resolution_minutes=0,
        warning_percent=DEFAULT_WARNING_PERCENT,
    )


def _follow_status(
    state: SlaState, ticket: Ticket, at: datetime, calendar: BusinessCalendar
) -> None:
    """Advance the clock through a status change: pause, resume, or start a new cycle."""
    old, new = state.last_status, ticket.status
    if old == new:
        return
    if state.paused_since is not None and new != PAUSED_STATUS:
        paused = calendar.minutes_between(state.paused_since, at) * 60
        state.paused_seconds = (state.paused_seconds or 0.0) + paused
        state.paused_since = None
    if old in DONE_STATUSES and new in OPEN_STATUSES:
        # Back from Resolved/Closed: a new resolution cycle; the first response stays met.
        state.cycle += 1
        state.cycle_started_at = at
        state.paused_seconds = 0.0
        state.paused_since = None
        state.resolution_warned_at = state.resolution_breached_at = None
    if new == PAUSED_STATUS and state.paused_since is None:
        state.paused_since = at
    state.last_status = new


def _moment(calendar: BusinessCalendar, state: SlaState, minutes: float) -> datetime:
    """When ``minutes`` of unpaused business time will have run in the current cycle."""
    return calendar.add_minutes(state.cycle_started_at, minutes + (state.paused_seconds or 0) / 60)


def elapsed_minutes(state: SlaState, calendar: BusinessCalendar, at: datetime) -> float:
    """Business minutes the current cycle has run, pauses excluded."""
    end = state.paused_since or at
    return max(
        calendar.minutes_between(state.cycle_started_at, end) - (state.paused_seconds or 0) / 60,
        0.0,
    )


def _next_check(state: SlaState) -> datetime | None:
    pending = [
        state.response_warn_at if state.response_warned_at is None else None,
        state.response_due_at if state.response_breached_at is None else None,
        state.resolution_warn_at if state.resolution_warned_at is None else None,
        state.resolution_due_at if state.resolution_breached_at is None else None,
    ]
    moments = [m for m in pending if m is not None]
    return min(moments) if moments else None


def next_check(state: SlaState) -> datetime | None:
    """The next moment the sweep must look at this ticket (public for the sweep)."""
    return _next_check(state)


def recompute(
    session: Session, ticket: Ticket, *, at: datetime | None = None, new: bool = False
) -> SlaState:
    """Bring the ticket's clock and ``sla_due_at`` up to date with its current fields.

    ``new``: the ticket was just created, so it has no clock yet (saves a lookup).
    """
    at = at or now()
    # Clocks made in this session are found here even before they are flushed.
    made: dict[int, SlaState] = session.info.setdefault("sla_states_made", {})
    state = made.get(ticket.id)
    if state is None and not new:
        state = session.get(SlaState, ticket.id)
    if state is None:
        state = _new_state(ticket)
        session.add(state)
        made[ticket.id] = state
    _apply(session, ticket, state, targets_for(session, ticket), at)
    return state


def _apply(session: Session, ticket: Ticket, state: SlaState, found: Targets, at: datetime) -> None:
    _follow_status(state, ticket, at, found.calendar)
    state.policy_id = found.policy_id
    state.response_minutes = found.response_minutes
    state.resolution_minutes = found.resolution_minutes
    state.warning_percent = found.warning_percent
    state.updated_at = at
    done = ticket.status in DONE_STATUSES
    if ticket.id is not None:
        _note_late(session, ticket, state, at)
    if done or state.paused_since is not None:
        state.response_warn_at = state.response_due_at = None
        state.resolution_warn_at = state.resolution_due_at = None
    else:
        share = found.warning_percent / 100
        if ticket.first_response_at is None:
            state.response_warn_at = _moment(found.calendar, state, found.response_minutes * share)
            state.response_due_at = _moment(found.calendar, state, found.response_minutes)
        else:
            state.response_warn_at = state.response_due_at = None
        state.resolution_warn_at = _moment(found.calendar, state, found.resolution_minutes * share)
        state.resolution_due_at = _moment(found.calendar, state, found.resolution_minutes)
    state.next_check_at = _next_check(state)
    ticket.sla_due_at = state.response_due_at or state.resolution_due_at


def start_clock(session: Session, ticket: Ticket) -> None:
    """Creation listener: compute a new ticket's clock before its INSERT, so ``sla_due_at`` is
    written with the row (no UPDATE right after); the clock row is added once the ticket has an
    id (``on_event`` for ``ticket.created``)."""
    state = _new_state(ticket)
    _apply(session, ticket, state, targets_for(session, ticket), ticket.created_at or now())
    session.info.setdefault("sla_states_pending", {})[id(ticket)] = state


def _note_late(session: Session, ticket: Ticket, state: SlaState, at: datetime) -> None:
    """A target met after its due moment but before a sweep saw it still counts as breached.

    Logged (once) and flagged on the ticket; no escalation is sent, the work is already done.
    """
    late = []
    if (
        ticket.first_response_at is not None
        and state.response_due_at is not None
        and state.response_breached_at is None
        and ticket.first_response_at > state.response_due_at
    ):
        late.append((RESPONSE, state.response_due_at))
        state.response_breached_at = at
    if (
        ticket.status in DONE_STATUSES
        and state.resolution_due_at is not None
        and state.resolution_breached_at is None
        and at > state.resolution_due_at
    ):
        late.append((RESOLUTION, state.resolution_due_at))
        state.resolution_breached_at = at
    for target, due in late:
        insert_logs(
            session,
            [
                log_row(
                    ticket.tenant_id,
                    ticket.id,
                    state.cycle,
                    target,
                    BREACH,
                    due,
                    at,
                    note="met late",
                )
            ],
        )
        ticket.sla_breached = True


# ---------------------------------------------------------------- log rows


def dedupe_key(ticket_id: int, cycle: int, target: str, event: str) -> str:
    """One warning and one breach per ticket, target and cycle."""
    return f"{ticket_id}:{cycle}:{target}:{event}"


def log_row(
    tenant_id: uuid.UUID,
    ticket_id: int,
    cycle: int,
    target: str,
    event: str,
    due: datetime | None,
    at: datetime,
    note: str = "",
) -> dict[str, Any]:
    """The values of one ``support_sla_logs`` row."""
    text = f"{target} target {'breached' if event == BREACH else 'near'}"
    if due is not None:
        text += f"; due {due.isoformat()}"
    if note:
        text += f"; {note}"
    return {
        "tenant_id": tenant_id,
        "ticket_id": ticket_id,
        "event": event,
        "event_time": at,
        "details": text,
        "target": target,
        "dedupe_key": dedupe_key(ticket_id, cycle, target, event),
    }


def insert_logs(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert-or-ignore log rows in one statement; returns the dedupe keys actually written."""
    from core.services.once import insert_ignore

    return set(insert_ignore(session, SlaLog, rows, ["dedupe_key"], SlaLog.dedupe_key))


# ---------------------------------------------------------------- listener

RECOMPUTE_ON = (
    events.TICKET_CREATED,
    events.TICKET_UPDATED,
    events.COMMENT_ADDED,
    events.TICKET_MERGED,
)


def on_event(session: Session, event: events.EventLike, actor: Actor) -> None:
    """Listener: keep the clock and the due moment current as the ticket changes."""
    if event.event_type not in RECOMPUTE_ON or event.ticket_id is None:
        return
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None:
        return
    pending = session.info.get("sla_states_pending", {}).pop(id(ticket), None)
    if pending is not None and event.event_type == events.TICKET_CREATED:
        pending.ticket_id = ticket.id
        session.info.setdefault("sla_states_made", {})[ticket.id] = pending
        session.info.setdefault("sla_states_unsaved", []).append(pending)
        return
    recompute(session, ticket, new=event.event_type == events.TICKET_CREATED)


def recompute_for_policy(
    session: Session,
    tenant_id: uuid.UUID,
    priority: str,
    category: str | None,
    *,
    group_id: int | None = None,
    chunk: int = 500,
) -> int:
    """Recompute the open tickets a policy change may touch; returns how many."""
    stmt = select(Ticket).where(
        Ticket.tenant_id == tenant_id, Ticket.priority == priority, Ticket.status.in_(OPEN_STATUSES)
    )
    if category is not None:
        stmt = stmt.where(Ticket.category == category)
    if group_id is not None:
        stmt = stmt.where(Ticket.group_id == group_id)
    count = 0
    last_id = 0
    while True:
        rows = list(
            session.scalars(stmt.where(Ticket.id > last_id).order_by(Ticket.id).limit(chunk))
        )
        for ticket in rows:
            recompute(session, ticket)
            count += 1
        if len(rows) < chunk:
            return count
        last_id = rows[-1].id


def describe(session: Session, ticket: Ticket, *, at: datetime | None = None) -> dict[str, Any]:
    """The ticket's SLA state as the API shows it: targets, due moments, paused, breached, log.

    Reads only: a ticket without a clock yet (older than the SLA tables) is shown as computed
    now, without saving it, so that this works in a read-only session.
    """
    with session.no_autoflush:
        return _describe(session, ticket, at or now())


def _describe(session: Session, ticket: Ticket, at: datetime) -> dict[str, Any]:
    state = session.get(SlaState, ticket.id)
    if state is None:
        state = recompute(session, ticket, at=at)
        session.expunge(state)
    found = targets_for(session, ticket)
    logs = session.scalars(
        select(SlaLog)
        .where(SlaLog.ticket_id == ticket.id, SlaLog.tenant_id == ticket.tenant_id)
        .order_by(SlaLog.id)
    )
    paused_seconds = state.paused_seconds or 0.0
    if state.paused_since is not None:
        paused_seconds += found.calendar.minutes_between(state.paused_since, at) * 60
    return {
        "ticket_id": ticket.id,
        "policy_id": state.policy_id,
        "calendar": "24x7" if found.calendar.is_24x7 else "business hours",
        "warning_percent": state.warning_percent,
        "cycle": state.cycle,
        "cycle_started_at": state.cycle_started_at,
        "paused": state.paused_since is not None,
        "paused_since": state.paused_since,
        "paused_minutes": round(paused_seconds / 60, 2),
        "elapsed_minutes": round(elapsed_minutes(state, found.calendar, at), 2),
        "sla_due_at": ticket.sla_due_at,
        "breached": ticket.sla_breached,
        "targets": {
            RESPONSE: {
                "minutes": state.response_minutes,
                "met_at": ticket.first_response_at,
                "warn_at": state.response_warn_at,
                "due_at": state.response_due_at,
                "warned": state.response_warned_at is not None,
                "breached": state.response_breached_at is not None,
            },
            RESOLUTION: {
                "minutes": state.resolution_minutes,
                "met_at": ticket.resolved_at,
                "warn_at": state.resolution_warn_at,
                "due_at": state.resolution_due_at,
                "warned": state.resolution_warned_at is not None,
                "breached": state.resolution_breached_at is not None,
            },
        },
        "log": [
            {
                "id": row.id,
                "event": row.event,
                "target": row.target,
                "event_time": row.event_time,
                "details": row.details,
            }
            for row in logs
        ],
    }


@sa_event.listens_for(Session, "before_flush")
def _save_new_clocks_before_flush(session: Session, *_: Any) -> None:
    save_new_clocks(session)


@sa_event.listens_for(Session, "before_commit")
def _save_new_clocks_before_commit(session: Session) -> None:
    save_new_clocks(session)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_new_clocks(session: Session, _previous: Any) -> None:
    for key in ("sla_states_unsaved", "sla_states_pending", "sla_states_made"):
        session.info.pop(key, None)


STATE_COLUMNS = [attr.key for attr in sa_inspect(SlaState).column_attrs]
_INSERT_STATES = insert(STATE_TABLE)  # built once; see save_new_clocks


def save_new_clocks(session: Session) -> None:
    """Insert the clocks of the tickets created in this transaction, all in one statement.

    They are written with a Core INSERT (a batch of new tickets costs one statement and no
    unit-of-work flush), then attached to the session as persistent objects, so that later
    changes in the same transaction (a rule raising the priority) are saved as UPDATEs.
    Runs before any flush (so a query in the transaction sees them) and before commit.
    """
    states = session.info.pop("sla_states_unsaved", None)
    if not states:
        return
    session.execute(
        _INSERT_STATES, [{key: getattr(state, key) for key in STATE_COLUMNS} for state in states]
    )
    for state in states:
        make_transient_to_detached(state)
        session.add(state)


events.add_listener(on_event)
events.add_creation_listener(start_clock)
