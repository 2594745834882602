"""Outbox delivery and periodic tasks through a real Celery worker.

The broker is HUB_TEST_BROKER (CI runs these on the local Redis) or, by default, the embedded
SQLAlchemy-on-SQLite transport that ``make run`` uses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from hub.worker import DELIVER, PERIODIC, Kicker, create_celery
from tests.hub.conftest import as_client as _as
from tests.hub.conftest import wait_for

pytestmark = pytest.mark.celery
T = "/api/v1/support/tickets/"
NEW = {"subject": "Help", "description": "Please.", "category": "Other"}


@pytest.fixture
def worker_app(rhub, broker_url) -> Iterator[object]:  # type: ignore[no-untyped-def]
    app = create_celery(rhub, broker_url=broker_url)
    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20
    ):
        yield app


def test_worker_delivers_outbox_after_a_kick(worker_app, rhub, rclient, recorder, org) -> None:  # type: ignore[no-untyped-def]
    rhub.set_kicker(Kicker(worker_app, interval=0.05))
    try:
        _as(org.admin, rclient).post("/api/v1/admin/plugins/recorder/enable/")
        tid = _as(org.end_user, rclient).post(T, json=NEW).json()["id"]
        assert wait_for(lambda: any(e.ticket.id == tid for e in recorder.of("hub_notify")))
        # Kicked again and again: still delivered exactly once.
        for _ in range(3):
            worker_app.send_task(DELIVER)
        time.sleep(0.5)
        delivered = [e.id for e in recorder.of("hub_notify")]
        assert len(delivered) == len(set(delivered))
        created = [e for e in recorder.of("hub_notify") if e.type == "ticket.created"]
        assert [e.ticket.id for e in created] == [tid]
    finally:
        rhub.set_kicker(lambda: None)


def test_worker_runs_periodic_tasks_by_name(worker_app, recorder) -> None:  # type: ignore[no-untyped-def]
    worker_app.send_task(PERIODIC, args=("recorder.tick",))
    assert wait_for(lambda: len(recorder.of("tick")) >= 1)


def test_beat_schedule_lists_every_periodic_task(worker_app) -> None:  # type: ignore[no-untyped-def]
    schedule = worker_app.conf.beat_schedule
    assert schedule["outbox"]["task"] == DELIVER
    assert schedule["periodic:recorder.tick"]["args"] == ("recorder.tick",)
    assert worker_app.conf.task_acks_late is True
