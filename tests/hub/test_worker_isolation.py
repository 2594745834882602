"""Isolation of work in the Celery app (security issue #13, item 3): delivery, automation and
intake-side work on separate queues, consumed all by default; soft and hard time limits per kind,
enforced by the hub's threads pool through a real worker."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import SoftTimeLimitExceeded
from typer.testing import CliRunner

from core.api import HubContext, PeriodicTask, hookimpl
from hub.builtins import plugins as builtin_plugins
from hub.cli import app as cli
from hub.context import Hub
from hub.plugins import make_plugin_manager
from hub.worker import (
    DELIVER,
    PERIODIC,
    PERIODIC_INTAKE,
    QUEUES,
    TIME_LIMITS,
    TimeLimitedThreadPool,
    create_celery,
    queue_names,
    worker_argv,
)
from tests.hub.conftest import wait_for


def _queue(app: Any, task: str) -> str:
    return str(app.amqp.router.route({}, task)["queue"].name)


def test_each_kind_of_work_has_its_queue(rhub, broker_url) -> None:  # type: ignore[no-untyped-def]
    app = create_celery(rhub, broker_url=broker_url)
    assert _queue(app, DELIVER) == "hub.delivery"
    assert _queue(app, PERIODIC) == "hub.automation"
    assert _queue(app, PERIODIC_INTAKE) == "hub.intake"
    schedule = app.conf.beat_schedule
    assert schedule["periodic:email.imap_poll"]["task"] == PERIODIC_INTAKE  # polling is intake
    assert schedule["periodic:sla.sweep"]["task"] == PERIODIC
    # A worker started without --queues consumes every one of them.
    assert {q.name for q in app.conf.task_queues} == set(QUEUES.values())


def test_every_task_kind_has_soft_and_hard_limits(rhub, broker_url) -> None:  # type: ignore[no-untyped-def]
    app = create_celery(rhub, broker_url=broker_url)
    for name, kind in (
        (DELIVER, "delivery"),
        (PERIODIC, "automation"),
        (PERIODIC_INTAKE, "intake"),
    ):
        task = app.tasks[name]
        assert (task.soft_time_limit, task.time_limit) == TIME_LIMITS[kind]
        assert 0 < task.soft_time_limit < task.time_limit
    assert app.conf.worker_pool.endswith(":TimeLimitedThreadPool")


def test_worker_consumes_all_queues_by_default_or_those_named() -> None:
    assert "--queues=hub.delivery,hub.automation,hub.intake" in worker_argv(beat=False)
    assert "--queues=hub.delivery" in worker_argv(beat=True, queues="delivery")
    assert queue_names("intake, hub.automation") == ["hub.intake", "hub.automation"]
    with pytest.raises(ValueError, match="unknown queue 'mail'"):
        queue_names("mail")


def test_cli_refuses_an_unknown_queue() -> None:
    result = CliRunner().invoke(cli, ["worker", "--queues", "delivery,bogus"])
    assert result.exit_code == 2 and "unknown queue 'bogus'" in result.output
    assert "hub.intake" in CliRunner().invoke(cli, ["worker", "--help"]).output


class Spinner:
    """A periodic task that never ends on its own."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped: list[str] = []

    @hookimpl
    def hub_periodic_tasks(self, hub: HubContext) -> list[PeriodicTask]:
        return [PeriodicTask(name="test.spin", seconds=3600, run=self.spin)]

    def spin(self, hub: HubContext) -> None:
        self.started.set()
        try:
            while True:
                time.sleep(0.01)
        except SoftTimeLimitExceeded:
            self.stopped.append("soft")
            raise


@pytest.mark.celery
def test_a_runaway_task_is_stopped_at_its_soft_limit(hub: Hub, broker_url) -> None:  # type: ignore[no-untyped-def]
    spinner = Spinner()
    h = Hub(
        hub.settings,
        pm=make_plugin_manager(extra=[*builtin_plugins(), ("spin", spinner)]),
        engine=hub.engine,
    )
    app = create_celery(h, broker_url=broker_url, time_limits={"automation": (0.5, 5.0)})
    with start_worker(
        app,
        pool=TimeLimitedThreadPool,
        concurrency=2,
        perform_ping_check=False,
        shutdown_timeout=20,
    ):
        app.send_task(PERIODIC, args=("test.spin",))
        assert spinner.started.wait(60)
        assert wait_for(lambda: spinner.stopped == ["soft"], timeout=10)
