"""The live bus on Redis pub/sub, the transport a deployment gets when its Celery broker is Redis:
a change committed through the API reaches the streams of every process's bus, a rolled-back
change reaches none, and a listener whose connection is killed comes back and tells its streams
to resync (facts may have been missed while it was away). Needs the Redis on 127.0.0.1:6379 (CI
starts it); another address with HUB_TEST_REDIS."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from core.permissions import Actor
from core.services import tickets as ticket_service
from hub.app import create_app
from hub.context import Hub
from hub.live_bus import LiveBus, RedisBus, bus_of
from tests.services import port_open, require

REDIS = os.environ.get("HUB_TEST_REDIS", "redis://127.0.0.1:6379/14")
TICKETS = "/api/v1/support/tickets/"


@pytest.fixture
def redis_hub(hub: Hub, settings) -> Hub:
    host_port = REDIS.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    require(port_open(host, int(port or 6379)), f"Redis not reachable at {host_port}")
    changed = type(settings)(**{**settings.model_dump(), "broker_url": REDIS}, _env_file=None)
    return Hub(changed, engine=hub.engine)


async def _collect(
    buses: list[LiveBus],
    actor: Actor,
    act: Callable[[], Any],
    done: Callable[[list[dict[str, Any]]], bool],
    seconds: float = 10.0,
) -> list[list[dict[str, Any]]]:
    """Subscribe one stream on each bus, run ``act`` in a thread, and gather each stream's facts
    until ``done`` holds for every stream or ``seconds`` pass."""
    subs = [bus.subscribe(actor, None) for bus in buses]
    got: list[list[dict[str, Any]]] = [[] for _ in subs]
    try:
        await asyncio.to_thread(act)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not all(done(g) for g in got):
            for sub, facts in zip(subs, got, strict=True):
                while not sub.queue.empty():
                    facts.append(sub.queue.get_nowait())
            await asyncio.sleep(0.02)
    finally:
        for bus, sub in zip(buses, subs, strict=True):
            bus.unsubscribe(sub)
    return got


def _ready(bus: LiveBus) -> LiveBus:
    bus.start()
    assert bus.wait_ready(10), f"{bus.kind} listener did not start"
    return bus


def _tickets(facts: list[dict[str, Any]]) -> set[int]:
    return {int(f["ticket"]) for f in facts if f.get("k") == "t"}


def test_a_committed_change_reaches_every_process_and_a_rolled_back_one_none(
    redis_hub, make_tenant, make_member
) -> None:
    here = _ready(bus_of(redis_hub))
    assert here.kind == "redis"
    there = _ready(RedisBus(REDIS))  # another process's listener on the same Redis
    agent = make_member(make_tenant(), "agent")
    actor = Actor(tenant_id=agent.tenant_id, user_id=agent.user_id, role="agent")
    api = TestClient(create_app(redis_hub))
    created: list[int] = []

    def create() -> None:
        response = api.post(
            TICKETS,
            headers=agent.headers,
            json={"subject": "Printer on fire", "description": "Smoke."},
        )
        assert response.status_code == 201, response.text
        created.append(int(response.json()["id"]))

    try:
        got = asyncio.run(
            _collect(
                [here, there], actor, create, lambda f: bool(created) and created[0] in _tickets(f)
            )
        )
        assert all(created[0] in _tickets(facts) for facts in got), got

        def abandoned() -> None:
            with redis_hub.session() as s:
                ticket_service.create_ticket(
                    s,
                    actor,
                    subject="Never committed",
                    description="Rolled back.",
                    category="Other",
                )
                s.rollback()

        got = asyncio.run(_collect([here, there], actor, abandoned, lambda f: False, seconds=1.5))
        assert got == [[], []]  # a rolled-back change is never published
    finally:
        there.stop()  # type: ignore[attr-defined]
        api.close()


def test_a_killed_listener_reconnects_and_its_streams_resync(
    redis_hub, make_tenant, make_member
) -> None:
    bus = _ready(RedisBus(REDIS))
    agent = make_member(make_tenant(), "agent")
    actor = Actor(tenant_id=agent.tenant_id, user_id=agent.user_id, role="agent")
    admin = redis.Redis.from_url(REDIS)
    name = f"hub-live-{os.getpid()}"

    def kill() -> None:
        clients: list[dict[str, Any]] = list(admin.client_list())  # type: ignore[arg-type]
        ours = [c for c in clients if c.get("name") == name and c.get("sub") == "1"]
        assert ours, clients
        for c in ours:
            admin.client_kill_filter(_id=c["id"])

    try:
        got = asyncio.run(
            _collect([bus], actor, kill, lambda f: any(x.get("k") == "r" for x in f), 20)
        )
        assert any(f.get("k") == "r" for f in got[0]), got  # told to resync after the reconnect
        assert bus.reconnects >= 1  # type: ignore[attr-defined]
        fact = {"k": "t", "tenant": str(agent.tenant_id), "ticket": 424242, "req": agent.user_id}
        got = asyncio.run(
            _collect([bus], actor, lambda: bus.publish([fact]), lambda f: 424242 in _tickets(f))
        )
        assert 424242 in _tickets(got[0])  # and it hears the channel again
    finally:
        bus.stop()  # type: ignore[attr-defined]
        admin.close()
