"""Prometheus metrics, and the one structured log line that goes with each measured event.

Requests (by route template and status), inbound messages (by channel and outcome), outbox
deliveries, SLA sweeps and Celery tasks each get a counter or histogram here and a log line
(``hub.log_config``) from the same call, so the two never disagree. The outbox's depth, oldest
undelivered age and failed rows are read from the database when ``/metrics`` is scraped.

With several processes (``hub serve --workers``, worker hosts) set ``PROMETHEUS_MULTIPROC_DIR``
to an empty folder shared by the processes of one host: prometheus-client then keeps each
process's values in files there and a scrape of any process adds them up.

Labels are bounded: a route's template (``/api/v1/support/tickets/{ticket_id}/``), never its
path; a channel and an outcome name, never an address.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hub.log_config import get_logger

if TYPE_CHECKING:
    from hub.context import Hub

log = get_logger("hub.metrics")
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus-client writes each process's values there from the first metric on.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
access_log = get_logger("hub.access")

REQUESTS = Counter("hub_http_requests", "HTTP requests answered", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "hub_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
INTAKE = Counter("hub_intake_messages", "Inbound messages by outcome", ["channel", "outcome"])
DELIVERIES = Counter("hub_outbox_deliveries", "Outbox delivery attempts by result", ["status"])
DELIVERY_SECONDS = Histogram("hub_outbox_delivery_duration_seconds", "Time to deliver one event")
SWEEP_SECONDS = Histogram("hub_sla_sweep_duration_seconds", "Time of one SLA sweep")
SLA_EVENTS = Counter("hub_sla_events", "SLA warnings and breaches found by sweeps", ["kind"])
TASKS = Counter("hub_celery_tasks", "Celery tasks run, by task and state", ["task", "state"])
TASK_SECONDS = Histogram("hub_celery_task_duration_seconds", "Time of a Celery task", ["task"])


# ------------------------------------------------------------------ events with a log line


def observe_request(
    method: str,
    route: str,
    status: int,
    seconds: float,
    *,
    request_id: str,
    tenant: str | None,
    user: int | None,
) -> None:
    """The access line of one request, and its counters."""
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)
    access_log.info(
        "request",
        method=method,
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 2),
        request_id=request_id,
        tenant=tenant,
        user=user,
    )


def observe_intake(tenant_id: Any, channel: str, result: Any) -> None:
    """One inbound message: its outcome and threading reason (never its text)."""
    INTAKE.labels(channel, result.outcome).inc()
    log.info(
        "inbound message",
        channel=channel,
        tenant=str(tenant_id),
        outcome=result.outcome,
        reason=result.reason,
        ticket=result.ticket_id,
        comment=result.comment_id,
        skipped_attachments=len(result.skipped_attachments or ()),
    )


def observe_intake_error(tenant_id: Any, channel: str, exc: BaseException) -> None:
    INTAKE.labels(channel, "error").inc()
    log.warning(
        "inbound message failed", channel=channel, tenant=str(tenant_id), error=type(exc).__name__
    )


def observe_delivery(
    event_id: int, tenant_id: Any, event_type: str, status: str, seconds: float
) -> None:
    """One outbox delivery attempt and what became of the row."""
    DELIVERIES.labels(status).inc()
    DELIVERY_SECONDS.observe(seconds)
    log.info(
        "outbox delivery",
        event_id=event_id,
        tenant=str(tenant_id),
        event_type=event_type,
        status=status,
        duration_ms=round(seconds * 1000, 2),
    )


def observe_sweep(seconds: float, *, checked: int, warnings: int, breaches: int) -> None:
    SWEEP_SECONDS.observe(seconds)
    if warnings:
        SLA_EVENTS.labels("warning").inc(warnings)
    if breaches:
        SLA_EVENTS.labels("breach").inc(breaches)
    log.info(
        "sla sweep",
        checked=checked,
        warnings=warnings,
        breaches=breaches,
        duration_ms=round(seconds * 1000, 2),
    )


@contextmanager
def track_task(name: str) -> Iterator[None]:
    """Count and log one Celery task run (success, failure, with its duration)."""
    started = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        seconds = time.perf_counter() - started
        TASKS.labels(name, "failure").inc()
        TASK_SECONDS.labels(name).observe(seconds)
        log.warning(
            "task",
            task=name,
            state="failure",
            error=type(exc).__name__,
            duration_ms=round(seconds * 1000, 2),
        )
        raise
    seconds = time.perf_counter() - started
    TASKS.labels(name, "success").inc()
    TASK_SECONDS.labels(name).observe(seconds)
    log.info("task", task=name, state="success", duration_ms=round(seconds * 1000, 2))


# ------------------------------------------------------------------ read at scrape time


class OutboxCollector(Collector):
    """Outbox depth, oldest undelivered age and failed rows, read from the database."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from core.models import OutboxEvent

        depth = GaugeMetricFamily("hub_outbox_pending", "Outbox events not yet delivered")
        oldest = GaugeMetricFamily(
            "hub_outbox_oldest_pending_age_seconds", "Age of the oldest undelivered event"
        )
        failed = GaugeMetricFamily("hub_outbox_failed", "Outbox events that gave up")
        try:
            with self.hub.read_session() as s:
                pending, first = s.execute(
                    select(func.count(), func.min(OutboxEvent.created_at)).where(
                        OutboxEvent.status == "pending"
                    )
                ).one()
                failures = s.scalar(select(func.count()).where(OutboxEvent.status == "failed"))
        except Exception as exc:  # the database is down: /readyz says so; omit these
            log.warning("outbox metrics unavailable", error=type(exc).__name__)
            return
        depth.add_metric([], float(pending or 0))
        age = 0.0
        if first is not None:
            first = first if first.tzinfo else first.replace(tzinfo=UTC)
            age = max(0.0, (datetime.now(UTC) - first).total_seconds())
        oldest.add_metric([], age)
        failed.add_metric([], float(failures or 0))
        yield depth
        yield oldest
        yield failed


def process_metrics() -> bytes:
    """The counters of this process, or of every process of the host in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY)


def scrape(hub: Hub) -> tuple[bytes, str]:
    """The exposition text: the processes' counters and the outbox read from the database."""
    return process_metrics() + generate_latest(_outbox_registry(hub)), CONTENT_TYPE_LATEST


def serve_port(host: str, port: int, hub: Hub | None = None) -> Any:
    """Serve the metrics on a port of their own (a thread of this process): the processes'
    counters (all of the host's in multiprocess mode) and, given a hub, the outbox gauges.
    Returns the server (``shutdown()`` stops it)."""
    from prometheus_client import REGISTRY, start_http_server

    base: Any = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    registry = _Both(base, *([_outbox_registry(hub)] if hub is not None else []))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    log.info("metrics port", host=host, port=port)
    return server


class _Both(Collector):
    """Two registries scraped as one."""

    def __init__(self, *registries: Any) -> None:
        self.registries = registries

    def collect(self) -> Iterator[Any]:
        for registry in self.registries:
            yield from registry.collect()


def _outbox_registry(hub: Hub) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(OutboxCollector(hub))
    return registry


def token_ok(expected: str, authorization: str) -> bool:
    """Whether ``Authorization: Bearer <token>`` carries the metrics token."""
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )
