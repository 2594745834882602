"""Every Events API event type the Slack plugin listens to has a recorded fixture."""

from __future__ import annotations

import json

from plugins.slack.payloads import HANDLED_EVENTS
from tests.plugins.slack.conftest import FIXTURES


def test_each_handled_event_has_a_fixture() -> None:
    seen = {
        json.loads(p.read_text())["event"]["type"]
        for p in (FIXTURES / "events").glob("event_callback.*.json")
    }
    assert set(HANDLED_EVENTS) <= seen
