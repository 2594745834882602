"""Outbox delivery: at least once, retried with backoff per plugin, parked as failed, retryable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core import clock
from core.models import OutboxEvent
from hub import outbox
from tests.hub.conftest import as_client as _as

T = "/api/v1/support/tickets/"
NEW = {"subject": "Help", "description": "Please.", "category": "Other"}


def _rows(hub, tenant_id, event_type: str = "ticket.created"):  # type: ignore[no-untyped-def]
    """The tenant's outbox rows of one type (automation may add others for the same ticket)."""
    with hub.session() as s:
        return s.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.tenant_id == tenant_id, OutboxEvent.event_type == event_type)
            .order_by(OutboxEvent.id)
        ).all()


def _created(recorder):  # type: ignore[no-untyped-def]
    return [e for e in recorder.of("hub_notify") if e.type == "ticket.created"]


def test_event_written_with_the_change_and_delivered_once(rhub, rclient, recorder, org) -> None:  # type: ignore[no-untyped-def]
    _as(org.admin, rclient).post("/api/v1/admin/plugins/recorder/enable/")
    tid = _as(org.end_user, rclient).post(T, json=NEW).json()["id"]
    rows = _rows(rhub, org.tenant[0])
    assert [(r.event_type, r.ticket_id, r.status) for r in rows] == [
        ("ticket.created", tid, "pending")
    ]
    outbox.drain(rhub)
    outbox.drain(rhub)
    assert [e.ticket.id for e in _created(recorder)] == [tid]
    delivered = [e.id for e in recorder.of("hub_notify")]
    assert len(delivered) == len(set(delivered))
    event = _created(recorder)[0]
    assert event.type == "ticket.created" and event.ticket.requester.email == org.end_user.email
    assert _rows(rhub, org.tenant[0])[0].status == "delivered"


def test_failure_backs_off_then_succeeds(rhub, rclient, recorder, org) -> None:  # type: ignore[no-untyped-def]
    frozen = clock.FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    clock.set_clock(frozen)
    _as(org.admin, rclient).post("/api/v1/admin/plugins/recorder/enable/")
    recorder.fail_notify = 2
    _as(org.end_user, rclient).post(T, json=NEW)
    outbox.drain(rhub)
    row = _rows(rhub, org.tenant[0])[0]
    assert row.status == "pending" and row.attempts == 1 and "channel down" in row.last_error
    assert row.next_attempt_at > frozen.at
    outbox.drain(rhub)  # not due yet: nothing happens
    assert _rows(rhub, org.tenant[0])[0].attempts == 1
    frozen.advance(seconds=7)
    outbox.drain(rhub)
    assert _rows(rhub, org.tenant[0])[0].attempts == 2
    frozen.advance(seconds=15)
    outbox.drain(rhub)
    row = _rows(rhub, org.tenant[0])[0]
    assert row.status == "delivered" and row.attempts == 3
    assert len(_created(recorder)) == 1


def test_parked_as_failed_after_max_attempts_and_retryable(rhub, rclient, recorder, org) -> None:  # type: ignore[no-untyped-def]
    frozen = clock.FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    clock.set_clock(frozen)
    admin = _as(org.admin, rclient)
    admin.post("/api/v1/admin/plugins/recorder/enable/")
    recorder.fail_notify = 100
    _as(org.end_user, rclient).post(T, json=NEW)
    for _ in range(rhub.settings.outbox_max_attempts):
        outbox.drain(rhub)
        frozen.advance(hours=2)
    failed = [
        e
        for e in admin.get("/api/v1/admin/outbox/", params={"status": "failed"}).json()
        if e["event_type"] == "ticket.created"
    ]
    assert len(failed) == 1 and failed[0]["attempts"] == rhub.settings.outbox_max_attempts
    assert "channel down" in failed[0]["last_error"]
    recorder.fail_notify = 0
    assert admin.post(f"/api/v1/admin/outbox/{failed[0]['id']}/retry/").status_code == 200
    outbox.drain(rhub)
    assert len(_created(recorder)) == 1
    assert _rows(rhub, org.tenant[0])[0].status == "delivered"
    assert _as(org.agent, rclient).get("/api/v1/admin/outbox/").status_code == 403


def test_backoff_grows_and_is_capped() -> None:
    delays = [outbox.backoff(n).total_seconds() for n in range(1, 15)]
    assert delays[0] < delays[3] < delays[6]
    assert max(delays) <= 3600 * 1.2
    assert timedelta(seconds=4) <= outbox.backoff(1) <= timedelta(seconds=6)
