"""Every recorded Slack payload shape is either taken by a listener or acknowledged with a logged,
documented reason (plugins/slack/README.md, "Payloads the hub ignores"): none is dropped
silently. Every Events API event type the plugin listens to has a recorded fixture."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from plugins.slack.payloads import HANDLED_EVENTS, content_key
from tests.plugins.slack.conftest import FIXTURES

RECORDED = sorted(
    str(p.relative_to(FIXTURES))
    for folder in ("events", "interactive")
    for p in (FIXTURES / folder).glob("*.json")
    if p.name != "url_verification.json"  # answered before any tenant: test_protocol
) + ["commands/slash_command.form-urlencoded.txt"]
# The reason each ignored shape is answered with; the others are taken by a listener.
IGNORED = {
    "events/event_callback.member_joined_channel.json": (
        "member_joined_channel events are not used by the hub"
    ),
    "events/event_callback.reaction_added.json": "reaction_added events are not used by the hub",
    "events/event_callback.message.bot_message.json": (
        "messages from bots never become tickets or comments"
    ),
    "events/event_callback.message.classic_bot_message.json": (
        "message subtype bot_message: messages from bots never become tickets or comments"
    ),
    "events/event_callback.message.message_changed.json": (
        "message subtype message_changed: an edit in Slack is not applied to the ticket's comment"
    ),
    "events/event_callback.message.message_deleted.json": (
        "message subtype message_deleted: a deletion in Slack does not delete the ticket's comment"
    ),
    "interactive/block_actions.json": "block_actions on buttons that are not the hub's",
    "interactive/block_suggestion.json": (
        "block_suggestion: the hub's blocks have no external select menus to fill"
    ),
    "interactive/message_action.json": (
        "message_action test-shortcut is not one of the hub's shortcuts"
    ),
    "interactive/shortcut.global.json": "shortcut test-shortcut is not one of the hub's shortcuts",
    "interactive/view_closed.json": (
        "view_closed: a modal closed without submitting leaves nothing to store"
    ),
    "interactive/view_submission.json": "view_submission view-id is not the hub's modal",
    "commands/slash_command.form-urlencoded.txt": "command /hello-world is not one of the hub's",
}

# Recorded as an Enterprise Grid org install sends them, without a workspace: no tenant is
# found, answered 404 with the reason (test_protocol sends them with the team's id).
NO_WORKSPACE = {
    "events/event_callback.app_uninstalled.json",
    "events/event_callback.tokens_revoked.json",
}


def test_each_handled_event_has_a_fixture() -> None:
    seen = {
        json.loads(p.read_text())["event"]["type"]
        for p in (FIXTURES / "events").glob("event_callback.*.json")
    }
    assert set(HANDLED_EVENTS) <= seen


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_payload_is_handled_or_ignored_with_its_reason(
    name: str, world, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    raw = Path(FIXTURES / name).read_text()
    with caplog.at_level(logging.INFO, logger="plugins.slack"):
        if name.startswith("interactive/"):
            r = world.interactive(json.loads(raw))
        else:
            r = world.send(raw, form=name.endswith(".txt"))
        world.wait()
    if name in NO_WORKSPACE:
        assert r.status_code == 404
        assert r.json()["detail"] == "no tenant has Slack enabled for this workspace"
        return
    assert r.status_code == 200, r.text
    if name in IGNORED:
        assert r.headers.get("x-hub-ignored") == IGNORED[name]
        assert any(IGNORED[name] in rec.getMessage() for rec in caplog.records)
    else:
        assert "x-hub-ignored" not in r.headers


def test_a_payload_without_its_ids_is_deduplicated_by_its_content(world) -> None:  # type: ignore[no-untyped-def]
    body = json.loads((FIXTURES / "events" / "event_callback.message.im.json").read_text())
    body.pop("event_id")
    body["event"].pop("ts")
    body["event"].pop("event_ts", None)
    body["event"]["text"] = "The VPN is down again"
    for _ in range(2):
        assert world.send(body).status_code == 200
        world.wait()
    tickets = [t for t in world.tickets() if "VPN is down again" in t["description"]]
    assert len(tickets) == 1
    assert content_key(body["event"]).startswith("sha256:")
