"""The Celery app: outbox delivery and every plugin's periodic task, run from beat.

Built in a factory around a hub. The embedded default broker is kombu's SQLAlchemy transport on
a SQLite file (no server); ``HUB_BROKER_URL`` selects Redis or RabbitMQ.

Isolation of work: delivery, automation and intake-side work go to separate queues (``QUEUES``,
routed by task name), so a worker can be given to each and one kind cannot hold the others; every
task kind has a soft and a hard time limit (``TIME_LIMITS``). The threads pool Celery ships ignores
time limits, so the hub's workers run ``TimeLimitedThreadPool``: at the soft limit the task's
thread gets ``SoftTimeLimitExceeded`` raised in it (at its next Python instruction: blocking
socket calls are bounded by their own timeouts), at the hard limit ``TimeLimitExceeded``.
Delivery also stops taking rows itself before its soft limit.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.concurrency.thread import TaskPool as ThreadTaskPool
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from kombu import Queue

from core.types import PeriodicTask
from hub import metrics, outbox, tracing
from hub.context import Hub

log = logging.getLogger("hub.worker")
DELIVER = "hub.deliver_outbox"
PERIODIC = "hub.periodic"  # automation-side periodic work (SLA sweep, time rules)
PERIODIC_INTAKE = "hub.periodic_intake"  # intake-side periodic work (IMAP polling)

DELIVERY, AUTOMATION, INTAKE = "delivery", "automation", "intake"
QUEUES = {DELIVERY: "hub.delivery", AUTOMATION: "hub.automation", INTAKE: "hub.intake"}
KIND_OF_TASK = {DELIVER: DELIVERY, PERIODIC: AUTOMATION, PERIODIC_INTAKE: INTAKE}
# (soft, hard) seconds per kind of work.
TIME_LIMITS: dict[str, tuple[float, float]] = {
    DELIVERY: (240.0, 300.0),
    AUTOMATION: (300.0, 360.0),
    INTAKE: (300.0, 360.0),
}
# Delivery stops taking rows this long before its soft limit, so it ends on its own.
DELIVERY_MARGIN = 30.0


def queue_names(kinds: str | None = None) -> list[str]:
    """The queues for a comma list of kinds or queue names (all of them by default)."""
    if not kinds:
        return list(QUEUES.values())
    out = []
    for item in (k.strip() for k in kinds.split(",")):
        if item in QUEUES:
            out.append(QUEUES[item])
        elif item in QUEUES.values():
            out.append(item)
        elif item:
            raise ValueError(f"unknown queue {item!r}: choose from {', '.join(QUEUES)}")
    if not out:
        raise ValueError("no queue given")
    return out


def periodic_tasks(hub: Hub) -> dict[str, PeriodicTask]:
    """Every plugin's periodic tasks by name (built-ins included)."""
    found: dict[str, PeriodicTask] = {}
    for tasks in hub.pm.hook.hub_periodic_tasks(hub=hub):
        for task in tasks or ():
            found[task.name] = task
    return found


def create_celery(
    hub: Hub,
    *,
    broker_url: str | None = None,
    time_limits: dict[str, tuple[float, float]] | None = None,
) -> Celery:
    """A Celery app whose tasks close over ``hub``."""
    app = Celery("hub", broker=broker_url or hub.settings.resolved_broker_url)
    tasks = periodic_tasks(hub)
    limits = {**TIME_LIMITS, **(time_limits or {})}
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_pool=f"{__name__}:TimeLimitedThreadPool",
        # A worker started without ``--queues`` consumes all of them.
        task_queues=[Queue(name, routing_key=name) for name in QUEUES.values()],
        task_default_queue=QUEUES[DELIVERY],
        task_routes={name: {"queue": QUEUES[kind]} for name, kind in KIND_OF_TASK.items()},
        beat_schedule_filename=str(hub.data_dir / "celerybeat-schedule"),
        beat_schedule={
            "outbox": {"task": DELIVER, "schedule": 5.0},
            **{
                f"periodic:{name}": {
                    "task": _periodic_task_name(task),
                    "schedule": task.seconds,
                    "args": (name,),
                }
                for name, task in tasks.items()
            },
        },
    )

    def limited(kind: str) -> dict[str, Any]:
        soft, hard = limits[kind]
        return {"soft_time_limit": soft, "time_limit": hard}

    @app.task(name=DELIVER, shared=False, **limited(DELIVERY))
    def deliver_outbox() -> int:
        """Deliver every due outbox row (idempotent: rows are taken by lease); stops taking
        rows ``DELIVERY_MARGIN`` before the soft limit."""
        soft = limits[DELIVERY][0]
        with metrics.track_task(DELIVER):
            return outbox.drain(
                hub, deadline=time.monotonic() + max(soft - DELIVERY_MARGIN, soft / 2)
            )

    def run_periodic(name: str) -> None:
        task = tasks.get(name)
        if task is None:
            log.warning("no periodic task %s", name)
            return
        with metrics.track_task(f"periodic:{name}"):
            task.run(hub)

    app.task(name=PERIODIC, shared=False, **limited(AUTOMATION))(run_periodic)
    app.task(name=PERIODIC_INTAKE, shared=False, **limited(INTAKE))(run_periodic)
    app.hub = hub
    # Off unless HUB_SENTRY_DSN / HUB_OTEL_ENDPOINT is set (hub.tracing).
    tracing.init_sentry(hub.settings)
    tracing.instrument_celery([hub.engine, hub.read_engine], hub.settings)
    return app


def _periodic_task_name(task: PeriodicTask) -> str:
    return PERIODIC_INTAKE if task.kind == INTAKE else PERIODIC


class TimeLimitedThreadPool(ThreadTaskPool):
    """Celery's threads pool, with the soft and hard time limits it otherwise ignores.

    A job's thread gets ``SoftTimeLimitExceeded`` (then ``TimeLimitExceeded``) raised in it when
    its limit passes, only while it still runs that job."""

    def on_apply(
        self,
        target: Callable[..., Any],
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        callback: Callable[..., Any] | None = None,
        accept_callback: Callable[..., Any] | None = None,
        **options: Any,
    ) -> Any:
        soft, hard = options.get("soft_timeout"), options.get("timeout")
        if not soft and not hard:
            return super().on_apply(target, args, kwargs, callback, accept_callback)
        job = _Job(soft, hard)
        return super().on_apply(job.wrap(target), args, kwargs, callback, accept_callback)


class _Job:
    def __init__(self, soft: float | None, hard: float | None) -> None:
        self.soft, self.hard = soft, hard
        self.lock = threading.Lock()
        self.thread_id: int | None = None
        self.timers: list[threading.Timer] = []

    def wrap(self, target: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.thread_id = threading.get_ident()
                for seconds, exc in (
                    (self.soft, SoftTimeLimitExceeded),
                    (self.hard, TimeLimitExceeded),
                ):
                    if seconds:
                        timer = threading.Timer(seconds, self._expire, (exc, seconds))
                        timer.daemon = True
                        timer.start()
                        self.timers.append(timer)
            try:
                return target(*args, **kwargs)
            finally:
                with self.lock:
                    self.thread_id = None
                    for timer in self.timers:
                        timer.cancel()

        return run

    def _expire(self, exc: type[BaseException], seconds: float) -> None:
        with self.lock:
            if self.thread_id is None:
                return
            log.warning(
                "task over its %s of %.0f s: raising it in its thread", exc.__name__, seconds
            )
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self.thread_id), ctypes.py_object(exc)
            )


class Kicker:
    """Debounced "deliver soon": at most one Celery message per ``interval`` however many
    requests commit events, sent from a background thread so requests never wait on the broker."""

    def __init__(self, app: Celery, interval: float = 0.2) -> None:
        self._app = app
        self._interval = interval
        self._wanted = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hub-kicker", daemon=True)
        self._thread.start()

    def __call__(self) -> None:
        self._wanted.set()

    def _loop(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                self._app.send_task(DELIVER)
            except Exception as exc:
                log.warning("could not reach the broker to kick delivery: %s", exc)
            threading.Event().wait(self._interval)


def worker_argv(
    *, beat: bool, concurrency: int = 2, loglevel: str = "INFO", queues: str | None = None
) -> list[str]:
    """Arguments of ``celery worker``: every hub queue unless ``queues`` names some (kinds
    ``delivery``, ``automation``, ``intake`` or queue names, comma-separated)."""
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--concurrency={concurrency}",
        f"--queues={','.join(queue_names(queues))}",
    ]
    if beat:
        argv.append("--beat")
    return argv


def run_worker(hub: Hub, *, beat: bool, **kwargs: Any) -> None:
    """Run a worker (and beat) in the foreground."""
    app = create_celery(hub)
    app.worker_main(worker_argv(beat=beat, **kwargs))
