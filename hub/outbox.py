"""Outbox delivery: take due rows one at a time, call the hooks outside any transaction, record
the outcome.

At least once, and exactly once while the holder lives: a row is *taken* by a conditional UPDATE
that writes a fresh lease token and pushes ``next_attempt_at`` to the end of a lease
(``outbox_lease_seconds``). A background heartbeat renews the lease every third of it while the
holder works, so a slow relay never lets a second worker take the row; only the token's holder
records the outcome. A holder that dies stops renewing, and the row is taken over once its lease
runs out. Each plugin that took an event is remembered in ``done_plugins`` (saved with every
renewal too), so a retry or a takeover calls only the plugins that had not taken it.

Fairness: a batch lists at most ``outbox_tenant_batch`` due rows per tenant, tenants in turn (a
tenant with 10,000 queued events does not starve one with a single event), and a row is taken only
while its tenant has fewer than ``outbox_tenant_concurrency`` rows in flight, so one tenant's slow
relay holds at most that many workers.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from core.clock import now
from core.models import OutboxEvent
from core.services import events
from core.types import Escalation
from hub import metrics
from hub.context import Hub
from hub.snapshots import event_snapshot

log = logging.getLogger("hub.outbox")
ESCALATING = (events.SLA_BREACHED, events.TICKET_ESCALATED)
RELIST_SECONDS = 1.0


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at one hour, with jitter so retries do not stampede."""
    base = min(5 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def lease(hub: Hub) -> timedelta:
    return timedelta(seconds=hub.settings.outbox_lease_seconds)


def candidates(hub: Hub, limit: int) -> list[int]:
    """Up to ``limit`` due rows, at most ``outbox_tenant_batch`` per tenant, tenants in turn
    (each tenant's oldest first). Nothing is held: ``take`` decides who gets each row."""
    at = now()
    turn = func.row_number().over(
        partition_by=OutboxEvent.tenant_id, order_by=(OutboxEvent.next_attempt_at, OutboxEvent.id)
    )
    due = (
        select(OutboxEvent.id, OutboxEvent.next_attempt_at, turn.label("turn"))
        .where(OutboxEvent.status == "pending", OutboxEvent.next_attempt_at <= at)
        .subquery()
    )
    stmt = (
        select(due.c.id)
        .where(due.c.turn <= hub.settings.outbox_tenant_batch)
        .order_by(due.c.turn, due.c.next_attempt_at, due.c.id)
        .limit(limit)
    )
    with hub.read_session() as s:
        return list(s.scalars(stmt))


def take(hub: Hub, event_id: int, token: str) -> bool:
    """Take one due row under a fresh lease for ``token``; False when it is not due, held by a
    live holder, or its tenant already has ``outbox_tenant_concurrency`` rows in flight."""
    at = now()
    other = aliased(OutboxEvent)
    in_flight = (
        select(func.count())
        .select_from(other)
        .where(
            other.tenant_id == OutboxEvent.tenant_id,
            other.status == "pending",
            other.lease_token.is_not(None),
            other.next_attempt_at > at,
        )
        .scalar_subquery()
    )
    stmt = (
        update(OutboxEvent)
        .where(
            OutboxEvent.id == event_id,
            OutboxEvent.status == "pending",
            OutboxEvent.next_attempt_at <= at,
            in_flight < hub.settings.outbox_tenant_concurrency,
        )
        .values(lease_token=token, next_attempt_at=at + lease(hub))
        .execution_options(synchronize_session=False)
    )
    with hub.session() as s:
        return bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]


class Holder:
    """One delivery's identity: its lease token, and the heartbeat that renews the lease of the
    row it is working on (with the plugins that already took it) every third of the lease."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.token = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._row: int | None = None
        self._done: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def holding(self, event_id: int | None, done: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._row, self._done = event_id, dict(done or {})
        if event_id is not None and self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="outbox-lease", daemon=True)
            self._thread.start()

    def progress(self, key: str) -> None:
        with self._lock:
            self._done[key] = True

    def renew(self) -> bool:
        """Push the held row's lease out again; False when it is no longer ours."""
        with self._lock:
            row, done = self._row, dict(self._done)
        if row is None:
            return True
        stmt = (
            update(OutboxEvent)
            .where(
                OutboxEvent.id == row,
                OutboxEvent.lease_token == self.token,
                OutboxEvent.status == "pending",
            )
            .values(next_attempt_at=now() + lease(self.hub), done_plugins=done)
            .execution_options(synchronize_session=False)
        )
        with self.hub.session() as s:
            kept = bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]
        if not kept:
            log.warning("outbox %s: lease lost (taken over or settled elsewhere)", row)
        return kept

    def _beat(self) -> None:
        interval = self.hub.settings.outbox_lease_seconds / 3
        while not self._stop.wait(interval):
            try:
                self.renew()
            except Exception as exc:
                log.warning("outbox lease renewal failed: %s", exc)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def deliver_one(hub: Hub, event_id: int, holder: Holder) -> str:
    """Deliver one row ``holder`` has taken to the tenant's enabled plugins; returns its new
    status ("lost" when the lease is no longer the holder's: nothing is called or recorded)."""
    with hub.session() as s:
        row = s.get(OutboxEvent, event_id)
        if row is None or row.status != "pending":
            return "gone"
        if row.lease_token != holder.token:
            return "lost"
        event = event_snapshot(s, row, hub.ticket_url)
        done = dict(row.done_plugins or {})
        attempts = row.attempts
    holder.holding(event_id, done)
    started = time.perf_counter()
    status = "error"
    try:
        status = _deliver(hub, event_id, holder, event, done, attempts)
        return status
    finally:
        holder.holding(None)
        metrics.observe_delivery(
            event_id, event.tenant_id, event.type, status, time.perf_counter() - started
        )


def _deliver(
    hub: Hub, event_id: int, holder: Holder, event: Any, done: dict[str, Any], attempts: int
) -> str:
    relay = hub.hooks(event.tenant_id)
    errors: dict[str, str] = {}
    calls: list[tuple[str, dict[str, Any]]] = [("hub_notify", {"event": event, "hub": hub})]
    if event.type in ESCALATING and event.ticket is not None:
        escalation = Escalation(
            event_id=event.id,
            tenant_id=event.tenant_id,
            ticket=event.ticket,
            reason="sla_breach" if event.type == events.SLA_BREACHED else "manual",
            target=event.payload.get("target"),
            details=dict(event.payload),
        )
        calls.append(("hub_escalate", {"escalation": escalation, "hub": hub}))
    results: list[tuple[str, Any]] = []
    for hook_name, kwargs in calls:
        prefix = f"{hook_name}:"
        taken = [key[len(prefix) :] for key, ok in done.items() if ok and key.startswith(prefix)]
        for plugin, result, exc in relay.each(hook_name, kwargs, skip=taken):
            key = f"{hook_name}:{plugin}"
            if exc is not None:
                log.warning("outbox %s: %s failed: %s", event_id, key, exc)
                errors[key] = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:500]
                continue
            done[key] = True
            holder.progress(key)
            if result is not None:
                results.append((plugin, result))
    with hub.session() as s:
        stmt = select(OutboxEvent).where(OutboxEvent.id == event_id)
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = s.scalars(stmt).one_or_none()
        if row is None or row.lease_token != holder.token or row.status != "pending":
            log.warning("outbox %s: lease lost before the outcome was recorded", event_id)
            return "lost"
        row.done_plugins = done
        row.attempts = attempts + 1
        row.lease_token = None
        if not errors:
            row.status, row.delivered_at, row.last_error = "delivered", now(), None
        else:
            row.last_error = "; ".join(f"{k}: {v}" for k, v in errors.items())
            if row.attempts >= hub.settings.outbox_max_attempts:
                row.status = "failed"
            else:
                row.next_attempt_at = now() + backoff(row.attempts)
        if event.ticket is not None:
            _record_escalations(s, row, results)
        return row.status


def _record_escalations(s: Any, row: OutboxEvent, results: list[tuple[str, Any]]) -> None:
    from core.permissions import system_actor

    for plugin, result in results:
        if getattr(result, "plugin", None) is None:
            continue
        events.audit(
            s,
            system_actor(row.tenant_id),
            action="Escalated",
            ticket_id=row.ticket_id,
            new=result.reference or result.message or plugin,
            details={"plugin": plugin, "url": result.url, "event_id": row.id},
        )


def drain(
    hub: Hub, *, limit: int | None = None, rounds: int = 100, deadline: float | None = None
) -> int:
    """Deliver what is due now (bounded by ``rounds`` batches and, if given, the monotonic
    ``deadline`` after which no further row is taken); returns how many rows were handled.

    A batch is listed again after ``RELIST_SECONDS``, so an event that became due meanwhile
    (another tenant's) waits for at most one delivery, not for the rest of a slow batch."""
    handled = 0
    holder = Holder(hub)
    try:
        for _ in range(rounds):
            ids = candidates(hub, limit or hub.settings.outbox_batch)
            listed, took = time.monotonic(), 0
            for event_id in ids:
                if deadline is not None and time.monotonic() >= deadline:
                    return handled
                if took and time.monotonic() - listed > RELIST_SECONDS:
                    break
                if not take(hub, event_id, holder.token):
                    continue
                took += 1
                deliver_one(hub, event_id, holder)
                handled += 1
            if not took:
                break
    finally:
        holder.close()
    return handled


def retry(session: Any, tenant_id: Any, event_id: int) -> bool:
    """Put a failed row back in the queue (admin action), in the caller's transaction."""
    row = session.get(OutboxEvent, event_id)
    if row is None or row.tenant_id != tenant_id:
        return False
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now()
    row.lease_token = None
    return True


def events_by_status(
    session: Any, tenant_id: uuid.UUID, status: str, limit: int
) -> list[OutboxEvent]:
    """The tenant's outbox events in one status, newest first (the admin's outbox page)."""
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.tenant_id == tenant_id, OutboxEvent.status == status)
            .order_by(OutboxEvent.id.desc())
            .limit(limit)
        )
    )
