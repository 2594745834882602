"""Every event type the PagerDuty plugin handles has a recorded, validly signed fixture."""

from __future__ import annotations

import json

from plugins.pagerduty.payloads import HANDLED_EVENTS
from tests.plugins.pagerduty.fake_pagerduty import FIXTURES


def test_each_handled_event_has_a_fixture() -> None:
    seen = {
        json.loads(json.loads(p.read_text())["raw_body"])["event"]["event_type"]
        for p in (FIXTURES / "webhooks_v3").glob("*.signed_valid.json")
    }
    assert set(HANDLED_EVENTS) <= seen
