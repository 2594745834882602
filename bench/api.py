"""API benchmark: tickets created per second over HTTP, and list latency at scale.

    python -m bench.api                                   # SQLite, 100,000 tickets
    python -m bench.api --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.api --tickets 1000000 --database-url postgresql://...

Runs a real ``hub serve`` process and a separate client; prints figures, never fails on timing.
"""

from __future__ import annotations

import argparse
import time

import httpx
from sqlalchemy import event

from bench import http_client
from bench.common import drop_database, fresh_database, percentile, seed_tickets, server

NEW = {
    "subject": "Benchmark ticket",
    "description": "Created by bench/api.py",
    "category": "Technical Issue",
    "priority": "High",
}


def setup(url: str) -> tuple[str, object, int, int]:
    from core.services import identity
    from hub.context import build_hub
    from hub.migrate import upgrade
    from hub.settings import Settings

    upgrade(url)
    hub = build_hub(Settings(database_url=url, data_dir=__import__("tempfile").mkdtemp()))
    with hub.session() as s:
        tenant = identity.create_tenant(s, slug="bench", name="Bench")
        agent = identity.ensure_user(s, email="agent@bench.example")
        identity.ensure_member(s, tenant.id, agent, "agent")
        user = identity.ensure_user(s, email="user@bench.example")
        identity.ensure_member(s, tenant.id, user, "end_user")
        token = identity.create_token(s, tenant.id, agent)
        return token, tenant.id, user.id, agent.id


def creates(base: str, token: str, total: int, clients: int) -> float:
    """Tickets created per second by ``clients`` HTTP clients at once (``bench.http_client``:
    one keep-alive connection each, the next request sent when the last was answered)."""
    request = http_client.request_bytes(
        base, "POST", "/api/v1/support/tickets/", NEW, {"Authorization": f"Bearer {token}"}
    )
    return http_client.rate(base, request, total, clients, expect=201)


def baseline(clients: int = 16, seconds: int = 5) -> str:
    """A bare FastAPI POST (``bench/bare_app.py``, one process) under wrk: the machine's ceiling
    for any Python web service, to read the hub's figures against."""
    import shutil
    import subprocess
    import sys

    from bench.common import ROOT, free_port

    if shutil.which("wrk") is None:
        return "wrk not installed (apt-get install wrk)"
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/docs", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        rate, note = creates_wrk(base, "", clients, seconds, path="/tickets/")
        return f"{rate:.0f} requests/s ({note}, {clients} connections, one process)"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def creates_wrk(
    base: str, token: str, clients: int, seconds: int = 10, path: str = "/api/v1/support/tickets/"
) -> tuple[float, str]:
    """Concurrent creates driven by wrk (C, so the client does not eat the server's CPU)."""
    import json
    import re
    import shutil
    import subprocess
    import tempfile

    if shutil.which("wrk") is None:
        return 0.0, "wrk not installed (apt-get install wrk)"
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(
        f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(NEW))}\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )
    script.close()
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(clients),
            "-d",
            f"{seconds}s",
            "-s",
            script.name,
            f"{base}{path}",
        ],
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, f"{errors.group(1)} non-2xx" if errors else "all 201"


def list_latency(
    base: str, token: str, rounds: int, params: dict[str, object]
) -> tuple[float, float]:
    times = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        cursor = None
        for _ in range(rounds):
            q = dict(params, **({"cursor": cursor} if cursor else {}))
            t = time.perf_counter()
            r = c.get("/api/v1/support/tickets/", params=q)
            times.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
            cursor = r.json()["next_cursor"]
    return percentile(times, 50), percentile(times, 99)


def queries_per_list(url: str, token: str) -> list[int]:
    """Statements per list request, in-process, at two page sizes (must be equal)."""
    from fastapi.testclient import TestClient

    from hub.app import create_app
    from hub.context import build_hub
    from hub.settings import Settings

    hub = build_hub(Settings(database_url=url, data_dir=__import__("tempfile").mkdtemp()))
    counts = []
    with TestClient(create_app(hub)) as client:
        client.get(
            "/api/v1/support/tickets/",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {token}"},
        )  # warm up
        for limit in (10, 100):
            seen: list[str] = []

            def listener(*args: object, seen: list[str] = seen) -> None:
                seen.append(str(args[2]))

            for engine in {hub.engine, hub.read_engine}:
                event.listen(engine, "before_cursor_execute", listener)
            client.get(
                "/api/v1/support/tickets/",
                params={"limit": limit},
                headers={"Authorization": f"Bearer {token}"},
            )
            for engine in {hub.engine, hub.read_engine}:
                event.remove(engine, "before_cursor_execute", listener)
            counts.append(len(seen))
    return counts


# Run in the server before the CLI: the search index's upkeep (core.search.index.save, called
# before each commit) does nothing, as if the index did not exist.
# Both modes import the module first, so that the two servers start the same way.
WITH_SEARCH_INDEX = "import core.search.index as index"
NO_SEARCH_INDEX = WITH_SEARCH_INDEX + "\nindex.save = lambda session: None"


def index_entries(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM search_entries")).scalar() or 0)
    finally:
        engine.dispose()


def search_index_cost(args: argparse.Namespace) -> None:
    """Ticket creation over HTTP with and without the search index's upkeep, same database and
    machine, alternated (with, without, with, without) so that load drifts hit both."""
    url = fresh_database(args.database_url, "hub_bench_api")
    try:
        token, tenant_id, user_id, agent_id = setup(url)
        seconds = seed_tickets(url, tenant_id, user_id, args.tickets, agent_id)
        print(f"database: {url.split('@')[-1]}  seeded {args.tickets:,} tickets in {seconds:.1f} s")
        rates: dict[str, list[tuple[float, float]]] = {"with index": [], "without index": []}
        modes = [("with index", WITH_SEARCH_INDEX), ("without index", NO_SEARCH_INDEX)]
        for order in (modes, modes[::-1]):  # each mode once first, once second
            for mode, prelude in order:
                entries = index_entries(url)
                with server(url, workers=1, prelude=prelude) as base:
                    creates(base, token, 100, 1)  # warm up
                    seq = creates(base, token, min(500, args.creates), 1)
                    conc = creates(base, token, args.creates, args.clients)
                rates[mode].append((seq, conc))
                print(
                    f"{mode:<14} {seq:6.0f} tickets/s sequential, {conc:6.0f} tickets/s with "
                    f"{args.clients} clients (one API process; index rows written "
                    f"{index_entries(url) - entries:,}; load average "
                    f"{__import__('os').getloadavg()[0]:.1f})",
                    flush=True,
                )
        for i, kind in enumerate(("sequential", f"{args.clients} clients")):
            with_ = sum(r[i] for r in rates["with index"]) / 2
            without = sum(r[i] for r in rates["without index"]) / 2
            print(
                f"{kind}: {with_:.0f} vs {without:.0f} tickets/s: creation "
                f"{(without / with_ - 1) * 100:+.1f}% slower with the index (floor: at most 20%)"
            )
    finally:
        drop_database(url, args.database_url)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--database-url", default="", help="PostgreSQL admin URL; empty = SQLite")
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--creates", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2, help="API processes")
    ap.add_argument(
        "--baseline",
        action="store_true",
        help="first time a bare FastAPI POST with wrk, to calibrate the machine",
    )
    ap.add_argument(
        "--search-index-cost",
        action="store_true",
        help="only the creation rates, with the search index kept and with its upkeep switched "
        "off in the server (one API process, alternated twice): the index's write cost",
    )
    args = ap.parse_args()
    if args.search_index_cost:
        search_index_cost(args)
        return
    if args.baseline:
        print(f"baseline: bare FastAPI POST, no database: {baseline()}")
    url = fresh_database(args.database_url, "hub_bench_api")
    try:
        token, tenant_id, user_id, agent_id = setup(url)
        seconds = seed_tickets(url, tenant_id, user_id, args.tickets, agent_id)
        print(f"database: {url.split('@')[-1]}  seeded {args.tickets:,} tickets in {seconds:.1f} s")
        with server(url, workers=args.workers) as base:
            seq = creates(base, token, min(500, args.creates), 1)
            conc = creates(base, token, args.creates, args.clients)
            print(
                f"create over HTTP (asyncio client): {seq:.0f} tickets/s sequential, "
                f"{conc:.0f} tickets/s with {args.clients} concurrent clients "
                f"({args.workers} API processes)"
            )
            rate, note = creates_wrk(base, token, args.clients)
            print(
                f"create over HTTP (wrk, {args.clients} connections, 10 s): "
                f"{rate:.0f} tickets/s ({note})"
            )
            for label, params in (
                ("list newest", {"limit": 50}),
                ("list status=Open", {"limit": 50, "status": "Open"}),
                (
                    "list assigned+priority",
                    {"limit": 50, "priority": "High", "assigned_to": "none"},
                ),
                ("list sla_breached", {"limit": 50, "sla_breached": "true"}),
            ):
                p50, p99 = list_latency(base, token, 200, params)
                print(f"{label:<24} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
        counts = queries_per_list(url, token)
        print(f"queries per list request: {counts[0]} at limit=10, {counts[1]} at limit=100")
    finally:
        drop_database(url, args.database_url)


if __name__ == "__main__":
    main()
