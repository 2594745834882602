"""The Celery app: outbox delivery and every plugin's periodic task, run from beat.

Built in a factory around a hub. The embedded default broker is kombu's SQLAlchemy transport on
a SQLite file (no server); ``HUB_BROKER_URL`` selects Redis or RabbitMQ.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery

from core.types import PeriodicTask
from hub import outbox
from hub.context import Hub

log = logging.getLogger("hub.worker")
DELIVER = "hub.deliver_outbox"
PERIODIC = "hub.periodic"


def periodic_tasks(hub: Hub) -> dict[str, PeriodicTask]:
    """Every plugin's periodic tasks by name (built-ins included)."""
    found: dict[str, PeriodicTask] = {}
    for tasks in hub.pm.hook.hub_periodic_tasks(hub=hub):
        for task in tasks or ():
            found[task.name] = task
    return found


def create_celery(hub: Hub, *, broker_url: str | None = None) -> Celery:
    """A Celery app whose tasks close over ``hub``."""
    app = Celery("hub", broker=broker_url or hub.settings.resolved_broker_url)
    tasks = periodic_tasks(hub)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule_filename=str(hub.data_dir / "celerybeat-schedule"),
        beat_schedule={
            "outbox": {"task": DELIVER, "schedule": 5.0},
            **{f"periodic:{name}": {"task": PERIODIC, "schedule": task.seconds, "args": (name,)}
               for name, task in tasks.items()},
        },
    )

    @app.task(name=DELIVER, shared=False)
    def deliver_outbox() -> int:
        """Deliver every due outbox row (idempotent: rows are claimed by lease)."""
        return outbox.drain(hub)

    @app.task(name=PERIODIC, shared=False)
    def run_periodic(name: str) -> None:
        """Run one plugin's periodic task by name."""
        task = tasks.get(name)
        if task is None:
            log.warning("no periodic task %s", name)
            return
        task.run(hub)

    app.hub = hub  # type: ignore[attr-defined]
    return app


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
            except Exception as exc:  # noqa: BLE001 - beat's 5 s sweep still delivers
                log.warning("could not reach the broker to kick delivery: %s", exc)
            threading.Event().wait(self._interval)


def worker_argv(*, beat: bool, concurrency: int = 2, loglevel: str = "INFO") -> list[str]:
    argv = ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", "--pool=threads"]
    if beat:
        argv.append("--beat")
    return argv


def run_worker(hub: Hub, *, beat: bool, **kwargs: Any) -> None:
    """Run a worker (and beat) in the foreground."""
    app = create_celery(hub)
    app.worker_main(worker_argv(beat=beat, **kwargs))
