"""Outbox delivery: claim due rows, call the hooks outside any transaction, record the outcome.

At least once: a row is claimed by pushing its ``next_attempt_at`` past a lease, so a worker that
dies mid-delivery leaves it to be taken again. Each plugin that took an event is remembered in
``done_plugins``, so a retry calls only the plugins that failed.
"""

from __future__ import annotations

import logging
import random
import traceback
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from core.clock import now
from core.models import OutboxEvent
from core.services import events
from core.types import Escalation
from hub.context import Hub
from hub.snapshots import event_snapshot

log = logging.getLogger("hub.outbox")
LEASE = timedelta(minutes=2)
ESCALATING = (events.SLA_BREACHED, events.TICKET_ESCALATED)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at one hour, with jitter so retries do not stampede."""
    base = min(5 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def claim(hub: Hub, limit: int) -> list[int]:
    """Take up to ``limit`` due rows for this worker."""
    at = now()
    with hub.session() as s:
        stmt = (select(OutboxEvent.id).where(OutboxEvent.status == "pending",
                                             OutboxEvent.next_attempt_at <= at)
                .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id).limit(limit))
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(s.scalars(stmt))
        if ids:
            s.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids))
                      .values(next_attempt_at=at + LEASE))
    return ids


def _impls(relay: Any, hook_name: str) -> list[Any]:
    return list(getattr(relay, hook_name).get_hookimpls())


def deliver_one(hub: Hub, event_id: int) -> str:
    """Deliver one claimed row to the tenant's enabled plugins; returns its new status."""
    with hub.session() as s:
        row = s.get(OutboxEvent, event_id)
        if row is None or row.status != "pending":
            return "gone"
        event = event_snapshot(s, row, hub.ticket_url)
        done = dict(row.done_plugins or {})
        attempts = row.attempts
    relay = hub.hooks(event.tenant_id)
    errors: dict[str, str] = {}
    calls: list[tuple[str, Any, dict[str, Any]]] = [
        ("hub_notify", impl, {"event": event, "hub": hub})
        for impl in _impls(relay, "hub_notify")]
    if event.type in ESCALATING and event.ticket is not None:
        escalation = Escalation(
            event_id=event.id, tenant_id=event.tenant_id, ticket=event.ticket,
            reason="sla_breach" if event.type == events.SLA_BREACHED else "manual",
            target=event.payload.get("target"), details=dict(event.payload))
        calls += [("hub_escalate", impl, {"escalation": escalation, "hub": hub})
                  for impl in _impls(relay, "hub_escalate")]
    results: list[tuple[str, Any]] = []
    for hook_name, impl, kwargs in calls:
        key = f"{hook_name}:{impl.plugin_name}"
        if done.get(key):
            continue
        try:
            args = {a: kwargs[a] for a in impl.argnames}
            result = impl.function(**args)
            done[key] = True
            if result is not None:
                results.append((impl.plugin_name, result))
        except Exception as exc:  # noqa: BLE001 - a plugin's failure is recorded, not raised
            log.warning("outbox %s: %s failed: %s", event_id, key, exc)
            errors[key] = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:500]
    with hub.session() as s:
        row = s.get(OutboxEvent, event_id)
        assert row is not None
        row.done_plugins = done
        row.attempts = attempts + 1
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
        events.audit(s, system_actor(row.tenant_id), action="Escalated", ticket_id=row.ticket_id,
                     new=result.reference or result.message or plugin,
                     details={"plugin": plugin, "url": result.url, "event_id": row.id})


def drain(hub: Hub, *, limit: int | None = None, rounds: int = 20) -> int:
    """Deliver everything due now (bounded); returns how many rows were handled."""
    handled = 0
    for _ in range(rounds):
        ids = claim(hub, limit or hub.settings.outbox_batch)
        if not ids:
            break
        for event_id in ids:
            deliver_one(hub, event_id)
            handled += 1
    return handled


def retry(session: Any, tenant_id: Any, event_id: int) -> bool:
    """Put a failed row back in the queue (admin action), in the caller's transaction."""
    row = session.get(OutboxEvent, event_id)
    if row is None or row.tenant_id != tenant_id:
        return False
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now()
    return True
