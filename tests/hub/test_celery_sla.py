"""The SLA sweep and time automation as beat runs them: through a real Celery worker.

Broker: HUB_TEST_BROKER (CI: the local Redis) or the embedded SQLAlchemy-on-SQLite transport.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import func, select

from core.clock import FrozenClock, set_clock
from core.models import SlaLog
from hub.context import Hub
from hub.worker import DELIVER, PERIODIC, create_celery
from tests.conftest import TenantSet
from tests.hub.conftest import wait_for

pytestmark = pytest.mark.celery


def test_sla_sweep_beat_task_on_a_real_worker(hub: Hub, org: TenantSet, broker_url: str) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    set_clock(clock)
    r = org.end_user.post(
        "/api/v1/support/tickets/",
        json={
            "subject": "Down",
            "description": "all of it",
            "category": "Technical Issue",
            "priority": "Critical",
        },
    )
    tid = r.json()["id"]
    clock.advance(minutes=61)
    app = create_celery(hub, broker_url=broker_url)
    schedule = app.conf.beat_schedule
    assert schedule["periodic:sla.sweep"]["schedule"] == 60
    assert "periodic:automation.time" in schedule

    def breaches() -> int:
        with hub.session() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(SlaLog)
                    .where(SlaLog.ticket_id == tid, SlaLog.event == "SLA_BREACH")
                )
                or 0
            )

    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20
    ):
        for _ in range(2):  # two overlapping runs: still one breach
            app.send_task(PERIODIC, args=("sla.sweep",))
        assert wait_for(lambda: breaches() == 1)
        app.send_task(DELIVER)
        assert wait_for(
            lambda: any(
                n["ticket_id"] == tid for n in org.admin.get("/api/v1/notifications/").json()
            )
        )
    assert breaches() == 1
