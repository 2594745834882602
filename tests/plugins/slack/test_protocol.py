"""The request URL's protocol: signatures, tenants, acknowledgement, retries, bots, uninstall."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core import clock
from tests.plugins.slack.conftest import EVENTS_URL, TEAM, SlackWorld, fixture


def _post_signed(world: SlackWorld, name: str):  # type: ignore[no-untyped-def]
    req = fixture(f"signed_requests/{name}")
    return world.client.post(EVENTS_URL, content=req["body"].encode(), headers=req["headers"])


def test_signed_fixtures_valid_tampered_stale_and_retried(world: SlackWorld) -> None:
    # The fixtures were signed at 1700000000 with their own (fake) secret.
    clock.set_clock(clock.FrozenClock(datetime.fromtimestamp(1700000000, UTC)))
    first = _post_signed(world, "01_app_mention_valid.json")
    assert first.status_code == 200, first.text
    world.wait()
    tickets = world.tickets()
    assert len(tickets) == 1
    assert tickets[0]["subject"] == "Hi there!"  # the bot's own mention is dropped
    replies = world.fake.posts_to("C111")
    assert len(replies) == 1
    assert replies[0].params["thread_ts"] == "1595926230.009600"
    assert f"#{tickets[0]['id']}" in replies[0].text()

    retried = _post_signed(world, "02_app_mention_retry_http_timeout.json")
    assert retried.status_code == 200
    world.wait()
    assert len(world.tickets()) == 1
    assert len(world.fake.posts_to("C111")) == 1

    for name in ("03_bad_signature.json", "04_stale_timestamp.json"):
        r = _post_signed(world, name)
        assert r.status_code == 401, name
        assert r.json()["detail"] == "invalid Slack signature"

    # A slash command and a button we do not own are still acknowledged (no retries).
    assert _post_signed(world, "05_slash_command_valid.json").status_code == 200
    assert _post_signed(world, "06_block_actions_form_payload.json").status_code == 200
    world.wait()
    assert len(world.tickets()) == 1


def test_current_timestamp_window(world: SlackWorld) -> None:
    body = fixture("events/event_callback.reaction_added.json")
    now = int(clock.now().timestamp())
    assert world.send(body, timestamp=now - 290).status_code == 200
    assert world.send(body, timestamp=now - 305).status_code == 401
    assert world.send(body, timestamp=now + 305).status_code == 401
    assert world.send(body, secret="another-tenants-secret").status_code == 401


def test_unknown_and_disabled_workspace_is_404(world: SlackWorld) -> None:
    body = fixture("events/event_callback.app_mention.json")
    other = {**body, "team_id": "T999"}
    assert world.send(other).status_code == 404
    assert world.send(body).status_code == 200
    world.wait()
    r = world.org.admin.post("/api/v1/admin/plugins/slack/disable/")
    assert r.status_code == 200
    r = world.send({**body, "event_id": "Ev-after-disable"})
    assert r.status_code == 404
    assert "detail" in r.json()


def test_url_verification_answers_the_challenge(world: SlackWorld) -> None:
    body = fixture("events/url_verification.json")
    r = world.send(body)
    assert r.status_code == 200
    assert r.json() == {"challenge": body["challenge"]}
    assert world.send(body, secret="wrong").status_code == 401


def test_bot_messages_never_open_tickets(world: SlackWorld) -> None:
    for name in (
        "event_callback.message.bot_message.json",
        "event_callback.message.classic_bot_message.json",
    ):
        body = fixture(f"events/{name}")
        body["event"]["channel"] = "D111"
        body["event"]["channel_type"] = "im"
        assert world.send(body).status_code == 200
    # Our own bot's message in a DM (as Slack echoes it back).
    own = fixture("events/event_callback.message.im.json")
    own["event"].update(user=world.fake.bot_user_id, text="Ticket #1 opened", bot_id="BBOT")
    own["event_id"] = "Ev-own"
    assert world.send(own).status_code == 200
    # Edits and deletions are not new messages either.
    for name in (
        "event_callback.message.message_changed.json",
        "event_callback.message.message_deleted.json",
    ):
        assert world.send(fixture(f"events/{name}")).status_code == 200
    world.wait()
    assert world.tickets() == []
    assert world.fake.of("chat.postMessage") == []
    assert world.fake.of("users.info") == []


def test_retry_whose_first_delivery_failed_is_processed(world: SlackWorld) -> None:
    body = fixture("events/event_callback.app_mention.json")
    world.fake.fail["users.info"] = 1  # the first processing dies before anything is stored
    assert world.send(body).status_code == 200
    world.wait()
    assert world.tickets() == []
    assert world.send(body, retry=1).status_code == 200
    world.wait()
    assert len(world.tickets()) == 1
    assert world.send(body, retry=2).status_code == 200
    world.wait()
    assert len(world.tickets()) == 1


def test_app_uninstalled_disables_the_plugin(world: SlackWorld) -> None:
    body = fixture("events/event_callback.app_uninstalled.json")
    body["team_id"] = TEAM  # Slack sends the workspace id; the bolt fixture left it out
    assert world.send(body).status_code == 200
    world.wait()
    plugins = world.org.admin.get("/api/v1/admin/plugins/").json()
    assert next(p for p in plugins if p["name"] == "slack")["enabled"] is False
    assert world.send(fixture("events/event_callback.app_mention.json")).status_code == 404


def test_tokens_revoked_for_the_bot_disables_the_plugin(world: SlackWorld) -> None:
    body = fixture("events/event_callback.tokens_revoked.json")
    body["team_id"] = TEAM
    user_only = json.loads(json.dumps(body))
    user_only["event"]["tokens"] = {"oauth": ["W111"]}
    assert world.send(user_only).status_code == 200
    world.wait()
    assert world.send(fixture("events/event_callback.reaction_added.json")).status_code == 200
    assert world.send(body).status_code == 200
    world.wait()
    assert world.send(fixture("events/event_callback.reaction_added.json")).status_code == 404


def test_secrets_are_never_returned(world: SlackWorld) -> None:
    plugins = world.org.admin.get("/api/v1/admin/plugins/")
    slack = next(p for p in plugins.json() if p["name"] == "slack")
    assert sorted(slack["secrets_set"]) == ["bot_token", "signing_secret"]
    assert "xoxb-fake-token" not in plugins.text
    assert "NOT-REAL" not in plugins.text
    assert slack["settings"]["team_id"] == TEAM


def test_acknowledged_before_the_work_runs(world: SlackWorld) -> None:
    import threading

    from plugins.slack.worker import WORKER

    gate = threading.Event()
    world.fake.gates["users.info"] = gate  # Slack's API "hangs" until the test lets it go
    try:
        r = world.send(fixture("events/event_callback.app_mention.json"))
        # The 200 came back while the work is still waiting on Slack's API.
        assert r.status_code == 200
        assert WORKER.pending >= 1
        assert world.tickets() == []
    finally:
        gate.set()
    world.wait()
    assert len(world.tickets()) == 1


def test_unreadable_body_is_400(world: SlackWorld) -> None:
    r = world.send("not json at all", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["detail"]


def test_a_second_tenant_cannot_claim_a_workspace(world: SlackWorld, other_org) -> None:  # type: ignore[no-untyped-def]
    from tests.plugins.slack.conftest import SECRET, TEAM

    body = fixture("events/event_callback.app_mention.json")
    assert world.send(body).status_code == 200
    world.wait()
    r = other_org.admin.patch(
        "/api/v1/admin/plugins/slack/",
        json={"settings": {"team_id": TEAM, "bot_token": "xoxb-other", "signing_secret": SECRET}},
    )
    assert r.status_code == 409, r.text
    assert "another tenant" in r.json()["detail"]
    assert other_org.admin.post("/api/v1/admin/plugins/slack/enable/").status_code == 200
    # The workspace's events still reach its tenant, and only it.
    assert world.send({**body, "event_id": "Ev-2"}).status_code == 200
    world.wait()
    assert len(world.tickets()) == 2
    assert other_org.agent.get("/api/v1/support/tickets/").json()["results"] == []


def test_a_new_signing_secret_applies_to_the_next_request(world: SlackWorld) -> None:
    body = fixture("events/event_callback.reaction_added.json")
    assert world.send(body).status_code == 200
    r = world.org.admin.patch(
        "/api/v1/admin/plugins/slack/", json={"settings": {"signing_secret": "rotated-secret"}}
    )
    assert r.status_code == 200, r.text
    assert world.send(body).status_code == 401
    assert world.send(body, secret="rotated-secret").status_code == 200
