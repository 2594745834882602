"""Socket Mode: a tenant without a public URL connects out; envelopes become tickets."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest

from plugins.slack.service import service_for
from plugins.slack.socket_mode import SocketModeRunner
from tests.plugins.slack.conftest import REQUESTER_SLACK, SlackWorld, fixture
from tests.plugins.slack.fake_slack import FakeSocketMode


@pytest.fixture
def socket_server(world: SlackWorld) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode(fixture("socket_mode/socket_mode_hello_message.json"))
    world.fake.socket_url = server.url
    yield server
    server.stop()


def _ack(server: FakeSocketMode, envelope_id: str) -> dict:
    while True:
        try:
            ack = server.acks.get(timeout=10)
        except queue.Empty:
            raise AssertionError(f"no acknowledgement of {envelope_id}") from None
        if ack.get("envelope_id") == envelope_id:
            return ack


def test_socket_mode_envelope_opens_a_ticket(
    world: SlackWorld, socket_server: FakeSocketMode
) -> None:
    r = world.org.admin.patch(
        "/api/v1/admin/plugins/slack/",
        json={"settings": {"socket_mode": True, "app_token": "xapp-1-fake"}},
    )
    assert r.status_code == 200, r.text
    assert "xapp-1-fake" not in r.text
    runner = SocketModeRunner(service_for(world.hub), interval=3600)
    runner.start()
    try:
        assert socket_server.connected.wait(10)
        opened = world.fake.of("apps.connections.open")
        assert opened and opened[0].token == "xapp-1-fake"
        envelope = fixture("socket_mode/envelope_1_events_api_event_callback.json")
        event = envelope["payload"]["event"]
        # The fixture's users are U111 (bot) and U222; ours are W111 (bot) and W222.
        event.update(user=REQUESTER_SLACK, text="<@W111> Laptop will not boot")
        socket_server.outbox.put(envelope)
        _ack(socket_server, envelope["envelope_id"])
        # Redelivered (Slack's retry_attempt 1): still one ticket.
        socket_server.outbox.put({**envelope, "envelope_id": "again", "retry_attempt": 1})
        _ack(socket_server, "again")
        # An event nobody listens to is acknowledged too, so Slack does not redeliver it.
        other = fixture("events/event_callback.reaction_added.json")
        socket_server.outbox.put(
            {
                "envelope_id": "reaction",
                "type": "events_api",
                "payload": other,
                "accepts_response_payload": False,
            }
        )
        _ack(socket_server, "reaction")
        world.wait()
        tickets = world.tickets()
        assert [t["subject"] for t in tickets] == ["Laptop will not boot"]
        replies = [
            c for c in world.fake.posts_to("C111") if c.params.get("thread_ts") == event["ts"]
        ]
        assert len(replies) == 1
    finally:
        runner.stop()
    assert not runner.connected(world.org.admin.tenant_id)


def test_socket_mode_follows_the_settings(world: SlackWorld, socket_server: FakeSocketMode) -> None:
    runner = SocketModeRunner(service_for(world.hub), interval=3600)
    runner.start()
    try:
        assert world.fake.of("apps.connections.open") == []  # not asked for
        world.org.admin.patch(
            "/api/v1/admin/plugins/slack/",
            json={"settings": {"socket_mode": True, "app_token": "xapp-1-fake"}},
        )
        runner.sync()
        assert socket_server.connected.wait(10)
        assert runner.connected(world.org.admin.tenant_id)
        world.org.admin.post("/api/v1/admin/plugins/slack/disable/")
        runner.sync()
        assert not runner.connected(world.org.admin.tenant_id)
    finally:
        runner.stop()
