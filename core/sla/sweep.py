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
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from core.clock import now
from core.models import OutboxEvent, SlaState, Ticket
from core.services import events
from core.sla import clock as sla_clock

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
    sla_clock.RESPONSE: (
        "response_warn_at",
        "response_due_at",
        "response_warned_at",
        "response_breached_at",
    ),
    sla_clock.RESOLUTION: (
        "resolution_warn_at",
        "resolution_due_at",
        "resolution_warned_at",
        "resolution_breached_at",
    ),
}


def _due_checks(state: Any, at: datetime) -> list[tuple[str, str, datetime]]:
    """(target, event, due moment) that have come for this ticket and are not logged yet."""
    found = []
    for target, (warn_col, due_col, warned_col, breached_col) in _COLUMNS.items():
        warn_at, due_at = getattr(state, warn_col), getattr(state, due_col)
        if due_at is not None and due_at <= at and getattr(state, breached_col) is None:
            found.append((target, sla_clock.BREACH, due_at))
            # A breach found first makes its warning moot: mark it seen, log only the breach.
            if getattr(state, warned_col) is None:
                setattr(state, warned_col, at)
        elif warn_at is not None and warn_at <= at and getattr(state, warned_col) is None:
            found.append((target, sla_clock.WARNING, due_at or warn_at))
    return found


_STATE = cast(Table, SlaState.__table__)
_OUTBOX = cast(Table, OutboxEvent.__table__)
_TICKETS = cast(Table, Ticket.__table__)
_READ = [
    _STATE.c[name]
    for name in (
        "ticket_id",
        "tenant_id",
        "cycle",
        *_COLUMNS[sla_clock.RESPONSE],
        *_COLUMNS[sla_clock.RESOLUTION],
    )
]
_WRITE = (
    "response_warned_at",
    "response_breached_at",
    "resolution_warned_at",
    "resolution_breached_at",
    "next_check_at",
)
# One cached UPDATE run as an executemany: SQLAlchemy Core, no ORM unit of work for the batch.
_UPDATE = (
    _STATE.update()
    .where(_STATE.c.ticket_id == bindparam("b_ticket_id"))
    .values({name: bindparam(f"b_{name}") for name in _WRITE})
)


def sweep(
    session: Session, *, at: datetime | None = None, batch: int = DEFAULT_BATCH
) -> SweepResult:
    """One bounded pass over the due tickets, in the caller's transaction."""
    at = at or now()
    stmt = (
        select(*_READ)
        .where(_STATE.c.next_check_at <= at)
        .order_by(_STATE.c.next_check_at)
        .limit(batch)
    )
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
        # Each sweep moves clocks off the past end of the index, leaving dead entries there
        # until vacuum. A plain index scan marks them dead as it passes (so the next sweep skips
        # them in microseconds); a bitmap scan, which the planner picks for a small estimate,
        # never does and revisits every one of them on each run.
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
    states = [SimpleNamespace(**row._mapping) for row in conn.execute(stmt)]
    result = SweepResult(checked=len(states), more=len(states) >= batch)
    if not states:
        return result
    rows: list[dict[str, Any]] = []
    due_by_key: dict[str, datetime] = {}
    for state in states:
        for target, event, due in _due_checks(state, at):
            due_by_key[sla_clock.dedupe_key(state.ticket_id, state.cycle, target, event)] = due
            rows.append(
                sla_clock.log_row(
                    state.tenant_id, state.ticket_id, state.cycle, target, event, due, at
                )
            )
            _, _, warned_col, breached_col = _COLUMNS[target]
            setattr(state, breached_col if event == sla_clock.BREACH else warned_col, at)
        state.next_check_at = sla_clock.next_check(state)  # type: ignore[arg-type]
    if conn.dialect.name == "postgresql":
        written = _write_postgres(conn, at, rows, due_by_key, states)
    else:
        written = _write_generic(session, conn, at, rows, due_by_key, states)
    for ticket_id, event, target in written:
        (result.breaches if event == sla_clock.BREACH else result.warnings).append(
            (ticket_id, target)
        )
    return result


def _payload(target: str, due: datetime, event: str) -> dict[str, Any]:
    # "sla_target", not "target": the outbox reads payload["target"] as the escalation target
    # (a plugin name); a breach escalates to whoever is concerned.
    return {
        "sla_target": target,
        "due_at": due.isoformat(),
        "event": event,
        "actor_id": None,
        "actor_role": "system",
    }


def _write_generic(
    session: Session,
    conn: Any,
    at: datetime,
    rows: list[dict[str, Any]],
    due_by_key: dict[str, datetime],
    states: list[Any],
) -> list[tuple[int, str, str]]:
    """Log rows (insert-or-ignore), events for the rows this sweep won, flags: four statements."""
    won = sla_clock.insert_logs(session, rows)
    written: list[tuple[int, str, str]] = []
    outbox: list[dict[str, Any]] = []
    for row in rows:
        if row["dedupe_key"] not in won:
            continue  # another sweep logged it first and sent its event
        written.append((row["ticket_id"], row["event"], row["target"]))
        is_breach = row["event"] == sla_clock.BREACH
        outbox.append(
            {
                "tenant_id": row["tenant_id"],
                "ticket_id": row["ticket_id"],
                "event_type": events.SLA_BREACHED if is_breach else events.SLA_WARNING,
                "payload": _payload(row["target"], due_by_key[row["dedupe_key"]], row["event"]),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": at,
                "done_plugins": {},
                "created_at": at,
            }
        )
    if outbox:
        conn.execute(insert(_OUTBOX), outbox)
    breached = {ticket_id for ticket_id, event, _ in written if event == sla_clock.BREACH}
    if breached:
        conn.execute(update(_TICKETS).where(_TICKETS.c.id.in_(breached)).values(sla_breached=True))
    conn.execute(
        _UPDATE,
        [
            {"b_ticket_id": st.ticket_id, **{f"b_{name}": getattr(st, name) for name in _WRITE}}
            for st in states
        ],
    )
    return written


# PostgreSQL: the whole write in one statement. Data-modifying CTEs insert the log rows
# (insert-or-ignore), the outbox rows of the log rows this sweep won, flag the breached tickets
# and move every clock's next check; arrays bound once instead of one row per round trip.
_PG_WRITE = text("""
WITH v AS (
    SELECT * FROM unnest(CAST(:tenant AS uuid[]), CAST(:ticket AS bigint[]),
                         CAST(:event AS text[]), CAST(:details AS text[]),
                         CAST(:target AS text[]), CAST(:dkey AS text[]), CAST(:due AS text[]))
        AS v(tenant_id, ticket_id, event, details, target, dedupe_key, due)
), logs AS (
    INSERT INTO support_sla_logs (tenant_id, ticket_id, event, event_time, details, target,
                                  dedupe_key)
    SELECT tenant_id, ticket_id, event, CAST(:at AS timestamptz), details, target, dedupe_key
    FROM v
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING tenant_id, ticket_id, event, target, dedupe_key
), outbox AS (
    INSERT INTO outbox_events (tenant_id, ticket_id, event_type, payload, status, attempts,
                               next_attempt_at, done_plugins, created_at)
    SELECT l.tenant_id, l.ticket_id,
           CASE WHEN l.event = 'SLA_BREACH' THEN 'sla.breached' ELSE 'sla.warning' END,
           jsonb_build_object('sla_target', l.target, 'due_at', v.due, 'event', l.event,
                              'actor_id', NULL, 'actor_role', 'system'),
           'pending', 0, CAST(:at AS timestamptz), CAST('{}' AS jsonb), CAST(:at AS timestamptz)
    FROM logs l JOIN v ON v.dedupe_key = l.dedupe_key
    ORDER BY l.ticket_id, l.event
    RETURNING 1
), flagged AS (
    UPDATE support_tickets SET sla_breached = true
    WHERE id = ANY(ARRAY(SELECT ticket_id FROM logs WHERE event = 'SLA_BREACH'))
      AND sla_breached = false
    RETURNING 1
), clocks AS (
    UPDATE support_sla_states s
    SET response_warned_at = u.rw, response_breached_at = u.rb,
        resolution_warned_at = u.sw, resolution_breached_at = u.sb, next_check_at = u.nc
    FROM unnest(CAST(:s_ticket AS bigint[]), CAST(:s_rw AS timestamptz[]),
                CAST(:s_rb AS timestamptz[]), CAST(:s_sw AS timestamptz[]),
                CAST(:s_sb AS timestamptz[]), CAST(:s_nc AS timestamptz[]))
        AS u(ticket_id, rw, rb, sw, sb, nc)
    WHERE s.ticket_id = u.ticket_id
    RETURNING 1
)
SELECT ticket_id, event, target FROM logs
""")


def _write_postgres(
    conn: Any,
    at: datetime,
    rows: list[dict[str, Any]],
    due_by_key: dict[str, datetime],
    states: list[Any],
) -> list[tuple[int, str, str]]:
    params: dict[str, Any] = {
        "at": at,
        "tenant": [r["tenant_id"] for r in rows],
        "ticket": [r["ticket_id"] for r in rows],
        "event": [r["event"] for r in rows],
        "details": [r["details"] for r in rows],
        "target": [r["target"] for r in rows],
        "dkey": [r["dedupe_key"] for r in rows],
        "due": [due_by_key[r["dedupe_key"]].isoformat() for r in rows],
        "s_ticket": [st.ticket_id for st in states],
        "s_rw": [st.response_warned_at for st in states],
        "s_rb": [st.response_breached_at for st in states],
        "s_sw": [st.resolution_warned_at for st in states],
        "s_sb": [st.resolution_breached_at for st in states],
        "s_nc": [st.next_check_at for st in states],
    }
    return [(t, e, g) for t, e, g in conn.execute(_PG_WRITE, params)]


def sweep_all(
    session_factory: Any,
    *,
    at: datetime | None = None,
    batch: int = DEFAULT_BATCH,
    max_batches: int = 10,
) -> SweepResult:
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
