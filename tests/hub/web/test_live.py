"""Live updates pushed on the live bus: a change made through the API reaches every open stream
of the people who may see it, without polling (on SQLite in-process, on PostgreSQL through
LISTEN/NOTIFY), and a stream's cost does not grow with the number of streams."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text

from hub.live_bus import bus_of
from tests.hub.web.conftest import sign_in
from tests.hub.web.live_streams import Stream, cookies_of, wait
from tests.services import free_port, port_open

TICKETS = "/api/v1/support/tickets/"
ROOT = Path(__file__).resolve().parents[3]


def _ticket(member, subject: str = "Printer on fire") -> int:  # type: ignore[no-untyped-def]
    response = member.client.post(
        TICKETS, headers=member.headers, json={"subject": subject, "description": "Smoke."}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _comment(member, tid: int, text: str, internal: bool = False) -> int:  # type: ignore[no-untyped-def]
    response = member.client.post(
        f"{TICKETS}{tid}/comment/",
        headers=member.headers,
        json={"comment": text, "is_internal": internal},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _open(live_server, web_app, member, query: str = "") -> Stream:  # type: ignore[no-untyped-def]
    stream = Stream(live_server, cookies_of(sign_in(web_app, member.email)), query)
    assert wait(lambda: len(stream.states()) >= 1), stream.lines
    return stream


def test_a_change_through_the_api_reaches_the_streams_of_two_agents(  # type: ignore[no-untyped-def]
    live_server, web_app, web_org
) -> None:
    agent, admin = web_org["agent"], web_org["admin"]
    first, second = _open(live_server, web_app, agent), _open(live_server, web_app, admin)
    try:
        before = first.last()
        tid = _ticket(web_org["end_user"])
        for stream in (first, second):
            assert wait(lambda s=stream: s.last().get("t") == tid), stream.events  # type: ignore[misc]
        assert first.last()["u"] > before["u"]
        cid = _comment(agent, tid, "On it.")
        for stream in (first, second):
            assert wait(lambda s=stream: s.last().get("c") == cid), stream.events  # type: ignore[misc]
    finally:
        first.close()
        second.close()


def test_streams_see_only_what_their_person_may_see(  # type: ignore[no-untyped-def]
    live_server, web_app, web_org, make_member
) -> None:
    requester, agent = web_org["end_user"], web_org["agent"]
    tenant = (requester.tenant_id, requester.tenant_slug)
    other = make_member(tenant, "end_user", password="correct horse battery staple")
    mine = _open(live_server, web_app, requester)
    theirs = _open(live_server, web_app, other)
    staff = _open(live_server, web_app, agent)
    try:
        tid = _ticket(requester)
        assert wait(lambda: mine.last().get("t") == tid)
        note = _comment(agent, tid, "Internal: the customer is on the old plan.", internal=True)
        assert wait(lambda: staff.last().get("c") == note)
        reply = _comment(agent, tid, "We are looking into it.")
        assert wait(lambda: mine.last().get("c") == reply)
        assert wait(lambda: staff.last().get("c") == reply)
        # The requester's stream never carried the internal note; the other end user's stream
        # carried nothing of this ticket at all.
        assert all(s.get("c") != note for s in mine.states())
        assert [s["t"] for s in theirs.states()] == [theirs.states()[0]["t"]]
        assert len(theirs.states()) == 1, theirs.events
        # A notification for the agent (a mention) moves only the agent's unread count.
        name = agent.email.split("@")[0]
        _comment(web_org["admin"], tid, f"@{name} please look", internal=True)
        from hub import outbox

        outbox.drain(web_app.state.hub)
        assert wait(lambda: staff.last().get("n", 0) >= 1), staff.events
        # The requester hears of the public reply only (their own unread count, as stored).
        assert wait(lambda: staff.last()["n"] == _unread(web_app, agent))
        assert wait(lambda: mine.last()["n"] == _unread(web_app, requester))
        assert len(theirs.states()) == 1 and theirs.last()["n"] == 0, theirs.events
    finally:
        for stream in (mine, theirs, staff):
            stream.close()


def _unread(web_app, member) -> int:  # type: ignore[no-untyped-def]
    from core.permissions import Actor
    from hub.web.live import unread_count

    actor = Actor(tenant_id=member.tenant_id, user_id=member.user_id, role=member.role)
    return unread_count(web_app.state.hub, actor)


def _count_queries(hub):  # type: ignore[no-untyped-def]
    counted: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        counted.append(statement)

    engines = {id(e): e for e in (hub.engine, hub.read_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_execute)
    return counted, lambda: [event.remove(e, "before_cursor_execute", on_execute) for e in engines]


def test_n_streams_cost_no_more_queries_than_one(live_server, web_app, web_org) -> None:  # type: ignore[no-untyped-def]
    """Open streams make no queries while nothing changes, and a change costs the same
    queries (the change's own) whether one stream or five are open."""
    agent = web_org["agent"]
    hub = web_app.state.hub

    def cost(streams: int) -> tuple[int, int]:
        opened = [_open(live_server, web_app, agent) for _ in range(streams)]
        try:
            counted, stop = _count_queries(hub)
            try:
                time.sleep(2.5)  # idle: a polling stream would query here
                idle = len(counted)
                tid = _ticket(web_org["end_user"])
                assert all(wait(lambda s=s: s.last().get("t") == tid) for s in opened)  # type: ignore[misc]
                time.sleep(0.3)
                return idle, len(counted) - idle
            finally:
                stop()
        finally:
            for stream in opened:
                stream.close()

    idle_one, change_one = cost(1)
    idle_five, change_five = cost(5)
    assert idle_one == idle_five == 0
    assert change_five <= change_one, (change_one, change_five)


def _postgres(hub) -> None:  # type: ignore[no-untyped-def]
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs HUB_TEST_DATABASE=postgres")


def _ticket_elsewhere(member) -> int:  # type: ignore[no-untyped-def]
    response = member.client.post(
        "/api/v1/support/tickets/",
        headers=member.headers,
        json={"subject": "Seen elsewhere", "description": "Made in another process."},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_killed_listener_reconnects_and_events_resume(  # type: ignore[no-untyped-def]
    hub, live_server, web_app, web_org
) -> None:
    _postgres(hub)
    stream = Stream(live_server, cookies_of(sign_in(web_app, web_org["agent"].email)))
    try:
        assert wait(lambda: len(stream.states()) >= 1)
        bus = bus_of(web_app.state.hub)
        pid = bus.backend_pid  # type: ignore[attr-defined]
        assert pid
        with hub.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        assert wait(lambda: bus.backend_pid not in (None, pid) and bus.wait_ready(0), 15)  # type: ignore[attr-defined]
        tid = _ticket_elsewhere(web_org["end_user"])
        assert wait(lambda: stream.last().get("t") == tid), stream.events
    finally:
        stream.close()


def test_a_change_in_one_process_reaches_a_stream_of_another(  # type: ignore[no-untyped-def]
    hub, settings, web_app, web_org, tmp_path
) -> None:
    _postgres(hub)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_SECRET_KEY": settings.secret_key,
        "HUB_DATA_DIR": str(tmp_path),
        "HUB_BASE_URL": settings.base_url,
    }
    other = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from hub.cli import app; app()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],  # fmt: skip
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stream = None
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port):
            assert other.poll() is None, other.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "hub serve did not start"
            time.sleep(0.1)
        cookies = cookies_of(sign_in(web_app, web_org["agent"].email))
        stream = Stream(f"http://127.0.0.1:{port}", cookies)
        assert wait(lambda: len(stream.states()) >= 1, 20), stream.lines
        tid = _ticket_elsewhere(web_org["end_user"])  # through this process's API
        assert wait(lambda: stream.last().get("t") == tid), stream.events
    finally:
        if stream is not None:
            stream.close()
        other.terminate()
        try:
            other.wait(timeout=15)
        except subprocess.TimeoutExpired:
            other.kill()
            raise


CHANGE_ELSEWHERE = """
import sys
from fastapi.testclient import TestClient
from hub.app import create_app
from hub.context import build_hub

client = TestClient(create_app(build_hub()))
response = client.post(
    "/api/v1/support/tickets/",
    headers={"Authorization": "Bearer " + sys.argv[1]},
    json={"subject": "From a worker", "description": "Another process on SQLite."},
)
print(response.json()["id"])
"""


def test_on_sqlite_a_change_in_another_process_reaches_the_stream(  # type: ignore[no-untyped-def]
    hub, settings, live_server, web_app, web_org
) -> None:
    if hub.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite path (PostgreSQL: LISTEN/NOTIFY, tested above)")
    stream = _open(live_server, web_app, web_org["agent"])
    try:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HUB_DATABASE_URL": settings.database_url,
            "HUB_SECRET_KEY": settings.secret_key,
            "HUB_DATA_DIR": str(settings.data_dir),
        }
        done = subprocess.run(
            [sys.executable, "-c", CHANGE_ELSEWHERE, web_org["end_user"].token],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        tid = int(done.stdout.strip().splitlines()[-1])
        assert wait(lambda: stream.last().get("t") == tid), stream.events
    finally:
        stream.close()
