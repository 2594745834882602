"""A signed PagerDuty event is applied only while fresh: an old ``occurred_at`` is refused (400,
logged) even under a new event id, as is one far in the future or without a time."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta

from core.clock import now
from tests.plugins.pagerduty.conftest import URL, WEBHOOK_SECRET, body_with, notes_on, paged_ticket


def _signed(doc) -> tuple[bytes, dict[str, str]]:  # type: ignore[no-untyped-def]
    raw = json.dumps(doc).encode()
    sig = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-PagerDuty-Signature": f"v1={sig}"}


def _event(occurred_at: str | None, event_id: str):  # type: ignore[no-untyped-def]
    doc = body_with("incident.acknowledged.signed_valid.json")
    doc["event"]["id"] = event_id
    if occurred_at is None:
        del doc["event"]["occurred_at"]
    else:
        doc["event"]["occurred_at"] = occurred_at
    return _signed(doc)


def test_stale_or_timeless_events_are_refused(hub, pd_org, fake_pd, client, caplog) -> None:  # type: ignore[no-untyped-def]
    ticket_id = paged_ticket(hub, pd_org, fake_pd)
    old = (now() - timedelta(minutes=6)).isoformat()
    future = (now() + timedelta(minutes=6)).isoformat()
    with caplog.at_level(logging.WARNING, logger="plugins.pagerduty"):
        body, headers = _event(old, "01NEWID-OLD")
        r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert "too old" in r.json()["detail"]
    assert any("refused" in rec.getMessage() for rec in caplog.records)
    for when, event_id in (
        (future, "01NEWID-FUTURE"),
        (None, "01NEWID-NONE"),
        ("yesterday", "01NEWID-BAD"),
        ("2026-01-01T00:00:00", "01NEWID-NAIVE"),
    ):
        body, headers = _event(when, event_id)
        assert client.post(URL, content=body, headers=headers).status_code == 400, when
    assert notes_on(pd_org, ticket_id) == []
    # A fresh one is noted.
    body, headers = _event((now() - timedelta(seconds=30)).isoformat(), "01NEWID-FRESH")
    r = client.post(URL, content=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"status": "noted"}, r.text
    assert len(notes_on(pd_org, ticket_id)) == 1
