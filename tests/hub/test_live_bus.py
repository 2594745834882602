"""The live bus: who may see which fact, presence expiring, and payloads under PostgreSQL's
NOTIFY limit (the streams themselves: tests/hub/web/test_live.py)."""

from __future__ import annotations

import json
import uuid

from core.permissions import Actor
from hub.live_bus import MAX_PAYLOAD, Presence, Subscription, chunks

TENANT = uuid.uuid4()


def _sub(role: str, user: int, ticket: int | None = None) -> Subscription:
    return Subscription(Actor(tenant_id=TENANT, user_id=user, role=role), ticket, loop=None)  # type: ignore[arg-type]


def test_the_filter_reads_only_the_fact() -> None:
    agent, requester, other = _sub("agent", 1, ticket=9), _sub("end_user", 2), _sub("end_user", 3)
    public = {"k": "c", "tenant": str(TENANT), "ticket": 9, "req": 2, "internal": False}
    internal = {**public, "internal": True}
    assert agent.wants(public) and requester.wants(public) and not other.wants(public)
    assert agent.wants(internal) and not requester.wants(internal)
    mine = {"k": "n", "tenant": str(TENANT), "user": 2}
    assert requester.wants(mine) and not agent.wants(mine) and not other.wants(mine)
    presence = {"k": "p", "tenant": str(TENANT), "ticket": 9, "user": 5, "name": "Sam"}
    assert agent.wants(presence)
    assert not _sub("agent", 1, ticket=8).wants(presence)
    assert not requester.wants(presence)  # end users never see staff presence
    assert not _sub("end_user", 2, ticket=9).wants(presence)


def test_presence_expires_and_typing_lapses(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = [100.0]
    monkeypatch.setattr("hub.live_bus.time.monotonic", lambda: clock[0])
    seen = Presence()
    seen.hear({"tenant": "t", "ticket": 1, "user": 5, "name": "Sam", "typing": True})
    seen.hear({"tenant": "t", "ticket": 1, "user": 6, "name": "Kim"})
    assert seen.snapshot("t", 1, me=6) == {"viewing": ["Sam"], "typing": ["Sam"]}
    clock[0] += 9
    assert seen.snapshot("t", 1, me=None) == {"viewing": ["Kim", "Sam"], "typing": []}
    seen.hear({"tenant": "t", "ticket": 1, "user": 6, "leave": True})
    clock[0] += 60
    assert seen.snapshot("t", 1, me=None) == {"viewing": [], "typing": []}


def test_payloads_stay_under_the_notify_limit() -> None:
    facts = [{"k": "t", "tenant": str(TENANT), "ticket": n, "req": n} for n in range(500)]
    parts = chunks(facts)
    assert len(parts) > 1 and all(len(p.encode()) < MAX_PAYLOAD for p in parts)
    assert [f for p in parts for f in json.loads(p)] == facts


def test_a_requester_the_session_did_not_hold_is_read_once_before_commit(  # type: ignore[no-untyped-def]
    hub, make_tenant, make_member
) -> None:
    from core.permissions import system_actor
    from core.services import events
    from core.services.live import PENDING
    from hub.live_bus import READY, bus_of

    requester = make_member(make_tenant(), "end_user")
    created = requester.client.post(
        "/api/v1/support/tickets/",
        headers=requester.headers,
        json={"subject": "Whose is it?", "description": "Not loaded in the session."},
    )
    tid = created.json()["id"]
    bus = bus_of(hub)
    with hub.session() as s:
        actor = system_actor(requester.tenant_id)
        # An event no listener loads the ticket for (an update is timed and counted, which loads it).
        events.emit(s, actor, events.TICKET_ESCALATED, tenant_id=actor.tenant_id, ticket_id=tid)
        assert s.info[PENDING][0]["req"] is None  # the ticket was never loaded here
        if bus.kind == "local":
            bus.before_commit(s)
            assert [f["req"] for f in s.info[READY]] == [requester.user_id]
