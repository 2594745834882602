"""Every activity type the Teams plugin handles has a recorded Bot Framework fixture."""

from __future__ import annotations

import json

from plugins.teams.payloads import HANDLED_EVENTS
from tests.plugins.teams.conftest import FIXTURES


def test_each_handled_event_has_a_fixture() -> None:
    seen = {json.loads(p.read_text())["type"] for p in (FIXTURES / "bot_framework").glob("*.json")}
    assert set(HANDLED_EVENTS) <= seen


def test_every_handled_activity_type_has_its_handler() -> None:
    from plugins.teams.intake import HANDLERS

    assert set(HANDLERS) == set(HANDLED_EVENTS)
