"""Live updates benchmark: 1,000 event streams on one ``hub serve`` process against PostgreSQL.

Opens N server-sent-event streams (``GET /events``, all in one signed-in agent's
session), makes 100 changes through the API (new tickets), and prints the p50 and p99 from the
change (its request sent) to its event at every stream, and the database's transactions per
second (``pg_stat_database.xact_commit + xact_rollback`` deltas) with the streams open and idle,
and during the changes, with 10 and with 1,000 streams.

Floors (issue 20): p99 < 1 s with 1,000 streams; queries per second with 1,000 streams no more
than with 10 (plus the changes). Prints figures; never fails on a timing.

    PG=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/live.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import tempfile
import time
from typing import Any

import httpx

from bench import common
from bench.common import drop_database, fresh_database, percentile

PASSWORD = "correct horse battery staple"


def setup(url: str) -> tuple[str, str]:
    from core.services import identity
    from hub.context import build_hub
    from hub.migrate import upgrade
    from hub.settings import Settings

    upgrade(url)
    hub = build_hub(Settings(database_url=url, data_dir=tempfile.mkdtemp()))
    with hub.session() as s:
        tenant = identity.create_tenant(s, slug="bench", name="Bench")
        agent = identity.ensure_user(s, email="agent@bench.example", password=PASSWORD)
        identity.ensure_member(s, tenant.id, agent, "agent")
        token = identity.create_token(s, tenant.id, agent)
    hub.engine.dispose()
    return token, "agent@bench.example"


def transactions(url: str) -> int:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def rate(url: str, seconds: float) -> float:
    """Transactions per second on the bench database over ``seconds`` (this reading's own two
    connections' transactions taken off)."""
    # Idle backends flush their counters up to 10 s late: let the streams' opening settle.
    time.sleep(12.0)
    before = transactions(url)
    time.sleep(seconds)
    time.sleep(1.0)
    after = transactions(url)
    return max(0, after - before - 1) / seconds


class Streams:
    """N raw-socket SSE clients (asyncio streams): far cheaper per event than an HTTP library,
    so that the figures are the server's, not the bench client's."""

    def __init__(self, base: str, cookies: dict[str, str], n: int) -> None:
        self.host, _, port = base.removeprefix("http://").partition(":")
        self.port = int(port)
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.n = n
        self.seen: dict[int, list[float]] = {}  # ticket id -> arrival times (one per stream)
        self.ready = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def one(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(
            f"GET /events HTTP/1.1\r\nHost: {self.host}\r\nCookie: {self.cookie}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        last_t = -1
        pending = b""
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                at = time.perf_counter()
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not line.startswith(b"data:"):
                        continue
                    t = int(json.loads(line[5:])["t"])
                    if last_t < 0:
                        self.ready += 1  # the stream's first state: it is open and listening
                    elif t > last_t:
                        for tid in range(last_t + 1, t + 1):
                            self.seen.setdefault(tid, []).append(at)
                    last_t = max(last_t, t)
        finally:
            writer.close()

    async def start(self) -> None:
        for i in range(self.n):
            self.tasks.append(asyncio.create_task(self.one()))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        while self.ready < self.n:
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)


async def scenario(base: str, url: str, token: str, email: str, n: int, changes: int) -> dict:
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as api:
        signed = await api.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD, "tenant": "bench"}
        )
        assert signed.status_code == 200, signed.text
        cookies = dict(signed.cookies)
    streams = Streams(base, cookies, n)
    opened = time.perf_counter()
    await streams.start()
    ramp = time.perf_counter() - opened
    idle = await asyncio.to_thread(rate, url, 10.0)
    sent: dict[int, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    before = await asyncio.to_thread(transactions, url)
    began = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        for i in range(changes):
            t0 = time.perf_counter()
            created = await api.post(
                "/api/v1/support/tickets/",
                headers=headers,
                json={"subject": f"Live bench {i}", "description": "A change."},
            )
            assert created.status_code == 201, created.text
            sent[int(created.json()["id"])] = t0
            await asyncio.sleep(0.1)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and any(
        len(streams.seen.get(tid, [])) < n for tid in sent
    ):
        await asyncio.sleep(0.1)
    window = time.perf_counter() - began
    await asyncio.sleep(1.0)
    during = (await asyncio.to_thread(transactions, url) - before) / window
    for task in streams.tasks:
        task.cancel()
    await asyncio.gather(*streams.tasks, return_exceptions=True)
    latencies = [at - sent[tid] for tid in sent for at in streams.seen.get(tid, [])]
    missing = len(sent) * n - len(latencies)
    return {
        "streams": n,
        "ramp_s": ramp,
        "idle_qps": idle,
        "changes_qps": during,
        "changes_per_s": changes / window,
        "p50_ms": percentile(latencies, 50) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 99) * 1000 if latencies else float("nan"),
        "missing": missing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, nargs="*", default=[10, 1000])
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    admin = os.environ.get("PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    for n in args.streams:
        url = fresh_database(admin, "hub_bench_live")
        try:
            token, email = setup(url)
            try:
                with common.server(url) as base:
                    report(asyncio.run(scenario(base, url, token, email, n, args.changes)))
            except subprocess.TimeoutExpired as exc:  # figures printed already
                print(f"(hub serve was slow to stop: {exc})", flush=True)
        finally:
            drop_database(url, admin)


def report(r: dict[str, Any]) -> None:
    print(
        f"{r['streams']:>5} streams: change->event p50 {r['p50_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms ({r['missing']} missed); db transactions/s idle "
        f"{r['idle_qps']:.2f}, during changes {r['changes_qps']:.1f} "
        f"({r['changes_per_s']:.1f} changes/s); streams opened in {r['ramp_s']:.1f} s; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
