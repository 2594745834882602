"""The SLA sweep: log warnings and breaches of tickets that are due, and emit their events.

Reads only ``support_sla_states`` rows whose ``next_check_at`` has come (a partial index on it),
a bounded batch per run, so its cost follows the tickets that are due, not the tickets held.
Each warning and breach is logged once per ticket, target and cycle: the log's unique
``dedupe_key`` with insert-or-ignore decides which of two overlapping sweeps writes the row, and
only that one emits the outbox event. On PostgreSQL the batch is also claimed with
``FOR UPDATE SKIP LOCKED`` so that parallel sweeps share the work instead of repeating it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from core import sla
from core.clock import now
from core.models import OutboxEvent, SlaState, Ticket
from core.services import events

DEFAULT_BATCH = 1000


@dataclass
class SweepResult:
    """What one sweep did."""

    checked: int = 0
    warnings: list[tuple[int, str]] = field(default_factory=list)
    breaches: list[tuple[int, str]] = field(default_factory=list)
    # The batch was full: another run should follow at once.
    more: bool = False


_COLUMNS = {
    sla.RESPONSE: ("response_warn_at", "response_due_at", "response_warned_at",
                   "response_breached_at"),
    sla.RESOLUTION: ("resolution_warn_at", "resolution_due_at", "resolution_warned_at",
                     "resolution_breached_at"),
}


def _due_checks(state: Any, at: datetime) -> list[tuple[str, str, datetime]]:
    """(target, event, due moment) that have come for this ticket and are not logged yet."""
    found = []
    for target, (warn_col, due_col, warned_col, breached_col) in _COLUMNS.items():
        warn_at, due_at = getattr(state, warn_col), getattr(state, due_col)
        if due_at is not None and due_at <= at and getattr(state, breached_col) is None:
            found.append((target, sla.BREACH, due_at))
            # A breach found first makes its warning moot: mark it seen, log only the breach.
            if getattr(state, warned_col) is None:
                setattr(state, warned_col, at)
        elif warn_at is not None and warn_at <= at and getattr(state, warned_col) is None:
            found.append((target, sla.WARNING, due_at or warn_at))
    return found


_STATE = SlaState.__table__
_READ = [_STATE.c[name] for name in (
    "ticket_id", "tenant_id", "cycle", *_COLUMNS[sla.RESPONSE], *_COLUMNS[sla.RESOLUTION])]
_WRITE = ("response_warned_at", "response_breached_at", "resolution_warned_at",
          "resolution_breached_at", "next_check_at")
# One cached UPDATE run as an executemany: SQLAlchemy Core, no ORM unit of work for the batch.
_UPDATE = (_STATE.update().where(_STATE.c.ticket_id == bindparam("b_ticket_id"))
           .values({name: bindparam(f"b_{name}") for name in _WRITE}))


def sweep(session: Session, *, at: datetime | None = None, batch: int = DEFAULT_BATCH) -> SweepResult:
    """One bounded pass over the due tickets, in the caller's transaction."""
    at = at or now()
    stmt = (select(*_READ).where(_STATE.c.next_check_at <= at)
            .order_by(_STATE.c.next_check_at).limit(batch))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    conn = session.connection()
    states = [SimpleNamespace(**row._mapping) for row in conn.execute(stmt)]
    result = SweepResult(checked=len(states), more=len(states) >= batch)
    if not states:
        return result
    rows: list[dict[str, Any]] = []
    due_by_key: dict[str, datetime] = {}
    for state in states:
        for target, event, due in _due_checks(state, at):
            due_by_key[sla.dedupe_key(state.ticket_id, state.cycle, target, event)] = due
            rows.append(sla.log_row(state.tenant_id, state.ticket_id, state.cycle, target, event,
                                    due, at))
            _, _, warned_col, breached_col = _COLUMNS[target]
            setattr(state, breached_col if event == sla.BREACH else warned_col, at)
        state.next_check_at = sla.next_check(state)  # type: ignore[arg-type]
    written = sla.insert_logs(session, rows)
    outbox: list[dict[str, Any]] = []
    breached_ids: set[int] = set()
    for row in rows:
        if row["dedupe_key"] not in written:
            continue  # another sweep logged it first and sent its event
        ticket_id, target = row["ticket_id"], row["target"]
        is_breach = row["event"] == sla.BREACH
        (result.breaches if is_breach else result.warnings).append((ticket_id, target))
        if is_breach:
            breached_ids.add(ticket_id)
        # "sla_target", not "target": the outbox reads payload["target"] as the escalation
        # target (a plugin name); a breach escalates to whoever is concerned.
        outbox.append({"tenant_id": row["tenant_id"], "ticket_id": ticket_id,
                       "event_type": events.SLA_BREACHED if is_breach else events.SLA_WARNING,
                       "payload": {"sla_target": target,
                                   "due_at": due_by_key[row["dedupe_key"]].isoformat(),
                                   "event": row["event"], "actor_id": None,
                                   "actor_role": "system"},
                       "status": "pending", "attempts": 0, "next_attempt_at": at,
                       "done_plugins": {}, "created_at": at})
    if outbox:
        conn.execute(insert(OutboxEvent.__table__), outbox)
    if breached_ids:
        conn.execute(update(Ticket.__table__).where(Ticket.__table__.c.id.in_(breached_ids))
                     .values(sla_breached=True))
    conn.execute(_UPDATE, [{"b_ticket_id": st.ticket_id,
                            **{f"b_{name}": getattr(st, name) for name in _WRITE}}
                           for st in states])
    return result


def sweep_all(session_factory: Any, *, at: datetime | None = None, batch: int = DEFAULT_BATCH,
              max_batches: int = 10) -> SweepResult:
    """Sweep in committed batches until nothing is due (bounded); ``session_factory()`` is a
    context manager that commits, like ``hub.session``."""
    total = SweepResult()
    for _ in range(max_batches):
        with session_factory() as session:
            part = sweep(session, at=at, batch=batch)
        total.checked += part.checked
        total.warnings += part.warnings
        total.breaches += part.breaches
        if not part.more:
            break
    return total
