"""Every activity type the Teams plugin handles has a recorded Bot Framework fixture."""

from __future__ import annotations

import json
import logging

import pytest

from plugins.teams.payloads import HANDLED_EVENTS
from tests.plugins.teams.conftest import APP_ID, FIXTURES


def test_each_handled_event_has_a_fixture() -> None:
    seen = {json.loads(p.read_text())["type"] for p in (FIXTURES / "bot_framework").glob("*.json")}
    assert set(HANDLED_EVENTS) <= seen


def test_every_handled_activity_type_has_its_handler() -> None:
    from plugins.teams.intake import HANDLERS

    assert set(HANDLERS) == set(HANDLED_EVENTS)


RECORDED = sorted(p.stem for p in (FIXTURES / "bot_framework").glob("*.json"))
# What each recorded activity does: it is taken (a ticket, an invoke answer, an installation
# noted) or it is ignored with a logged reason.
IGNORED = {
    "message.from_bot_itself": "sent by a bot",
    # A bot's card, recorded without an id: named by the hash of its content.
    "message.adaptive_card_attachment": "activity sha256:",
}


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_activity_is_handled_or_ignored_with_a_logged_reason(
    name: str, world, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="plugins.teams"):
        # Recorded for other bots: addressed to this tenant's bot, as test_flow does.
        act = world.activity(name, recipient={"id": f"28:{APP_ID}", "name": "Helpdesk"})
        r = world.send(act)
    assert r.status_code == 200, r.text
    ignored = [rec.getMessage() for rec in caplog.records if "ignored" in rec.getMessage()]
    if name in IGNORED:
        assert any(IGNORED[name] in message for message in ignored), ignored
    else:
        assert not ignored, ignored


def test_an_activity_type_the_plugin_does_not_use_is_logged(world, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="plugins.teams"):
        r = world.send(world.activity("message.personal_chat", type="typing"))
    assert r.status_code == 200
    assert any("'typing' is not handled" in rec.getMessage() for rec in caplog.records)
