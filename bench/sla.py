"""SLA sweep benchmark: sweep time and queries with none due and with 1,000 due.

Seeds open tickets with their SLA clocks (1,000,000 on PostgreSQL by COPY; 100,000 on SQLite by
Core bulk inserts), then times ``core.sla.sweep.sweep`` including its commit.

    .venv/bin/python bench/sla.py --db postgres          # 1,000,000 tickets, a scratch database
    .venv/bin/python bench/sla.py --db sqlite            # 100,000 tickets in a temp file
    .venv/bin/python bench/sla.py --db postgres --tickets 200000 --due 1000 --runs 5

Floors (PostgreSQL, 1,000,000 tickets): under 10 ms with none due, under 500 ms with 1,000 due.
Prints figures; never fails on a timing.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where a sibling benchmark's name could
# shadow a standard module (bench/email.py): search the project root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import event, insert, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from core.models import SlaState, Tenant, Ticket, User  # noqa: E402
from core.sla import sweep as sla_sweep  # noqa: E402
from hub.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from hub.migrate import upgrade  # noqa: E402

PG_ADMIN = os.environ.get("HUB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TENANTS = 20
PRIORITIES = ("Low", "Medium", "High", "Critical")
TARGETS = {"Low": (1440, 10080), "Medium": (480, 4320), "High": (240, 1440), "Critical": (60, 240)}


class QueryCounter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, *args: Any) -> None:
        self.count += 1


def _ticket_rows(n: int, tenants: list[uuid.UUID], user_id: int) -> Iterator[tuple[Any, ...]]:
    """(ticket, state) values: every clock due somewhere in the next 30 days."""
    for i in range(1, n + 1):
        tenant = tenants[i % len(tenants)]
        priority = PRIORITIES[i % 4]
        response, resolution = TARGETS[priority]
        # Created within the last few minutes, so no target is near yet.
        created = NOW - timedelta(seconds=i % 600)
        yield (i, tenant, user_id, priority, created, response, resolution)


def _times(created: datetime, response: int, resolution: int) -> dict[str, datetime]:
    return {
        "response_warn_at": created + timedelta(minutes=response * 0.8),
        "response_due_at": created + timedelta(minutes=response),
        "resolution_warn_at": created + timedelta(minutes=resolution * 0.8),
        "resolution_due_at": created + timedelta(minutes=resolution),
    }


def seed_postgres(url: str, n: int) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        tenants = [uuid.uuid4() for _ in range(TENANTS)]
        with conn.cursor() as cur:
            for i, tid in enumerate(tenants):
                cur.execute(
                    "INSERT INTO tenants (id, slug, name, settings, created_at) "
                    "VALUES (%s, %s, %s, '{}', %s)",
                    (tid, f"bench-{i}", f"Bench {i}", NOW),
                )
            cur.execute(
                "INSERT INTO auth_user (email, full_name, is_active, email_failing, "
                "date_joined) VALUES ('bench@example.com', 'Bench', true, false, %s) "
                "RETURNING id",
                (NOW,),
            )
            row = cur.fetchone()
            assert row is not None
            user_id = row[0]
            t0 = time.perf_counter()
            with cur.copy(
                "COPY support_tickets (id, tenant_id, created_by, subject, description, "
                "category, priority, status, sla_due_at, created_at, updated_at, "
                "channel, sla_breached) FROM STDIN"
            ) as copy:
                for i, tenant, _, priority, created, response, _ in _ticket_rows(
                    n, tenants, user_id
                ):
                    copy.write_row(
                        (
                            i,
                            tenant,
                            user_id,
                            f"Ticket {i}",
                            "seeded",
                            "Other",
                            priority,
                            "Open",
                            created + timedelta(minutes=response),
                            created,
                            created,
                            "api",
                            False,
                        )
                    )
            with cur.copy(
                "COPY support_sla_states (ticket_id, tenant_id, response_minutes, "
                "resolution_minutes, warning_percent, cycle, cycle_started_at, "
                "last_status, paused_seconds, response_warn_at, response_due_at, "
                "resolution_warn_at, resolution_due_at, next_check_at, updated_at) "
                "FROM STDIN"
            ) as copy:
                for i, tenant, _, _, created, response, resolution in _ticket_rows(
                    n, tenants, user_id
                ):
                    t = _times(created, response, resolution)
                    copy.write_row(
                        (
                            i,
                            tenant,
                            response,
                            resolution,
                            80,
                            1,
                            created,
                            "Open",
                            0.0,
                            t["response_warn_at"],
                            t["response_due_at"],
                            t["resolution_warn_at"],
                            t["resolution_due_at"],
                            t["response_warn_at"],
                            created,
                        )
                    )
            cur.execute("SELECT setval(pg_get_serial_sequence('support_tickets', 'id'), %s)", (n,))
        conn.commit()
        print(f"seeded {n:,} tickets and clocks by COPY in {time.perf_counter() - t0:.1f} s")
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE support_tickets")
        conn.execute("VACUUM ANALYZE support_sla_states")


def seed_sqlite(engine: Engine, n: int) -> None:
    tenants = [uuid.uuid4() for _ in range(TENANTS)]
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(Tenant.__table__),
            [
                {
                    "id": t,
                    "slug": f"bench-{i}",
                    "name": f"Bench {i}",
                    "settings": {},
                    "created_at": NOW,
                }
                for i, t in enumerate(tenants)
            ],
        )
        user_id = conn.execute(
            insert(User.__table__)
            .values(
                email="bench@example.com",
                full_name="Bench",
                is_active=True,
                email_failing=False,
                date_joined=NOW,
            )
            .returning(User.__table__.c.id)
        ).scalar_one()
        chunk: list[dict[str, Any]] = []
        states: list[dict[str, Any]] = []
        for i, tenant, _, priority, created, response, resolution in _ticket_rows(
            n, tenants, user_id
        ):
            chunk.append(
                {
                    "id": i,
                    "tenant_id": tenant,
                    "created_by": user_id,
                    "subject": f"Ticket {i}",
                    "description": "seeded",
                    "category": "Other",
                    "priority": priority,
                    "status": "Open",
                    "sla_due_at": created + timedelta(minutes=response),
                    "created_at": created,
                    "updated_at": created,
                    "channel": "api",
                    "sla_breached": False,
                }
            )
            states.append(
                {
                    "ticket_id": i,
                    "tenant_id": tenant,
                    "response_minutes": response,
                    "resolution_minutes": resolution,
                    "warning_percent": 80,
                    "cycle": 1,
                    "cycle_started_at": created,
                    "last_status": "Open",
                    "paused_seconds": 0.0,
                    **_times(created, response, resolution),
                    "next_check_at": _times(created, response, resolution)["response_warn_at"],
                    "updated_at": created,
                }
            )
            if len(chunk) >= 10_000:
                conn.execute(insert(Ticket.__table__), chunk)
                conn.execute(insert(SlaState.__table__), states)
                chunk, states = [], []
        if chunk:
            conn.execute(insert(Ticket.__table__), chunk)
            conn.execute(insert(SlaState.__table__), states)
        conn.execute(text("ANALYZE"))
    print(f"seeded {n:,} tickets and clocks by bulk insert in {time.perf_counter() - t0:.1f} s")


def make_due(engine: Engine, count: int, offset: int) -> None:
    """Put ``count`` tickets past their response target (not timed)."""
    past = NOW - timedelta(minutes=5)
    with engine.begin() as conn:
        conn.execute(
            SlaState.__table__.update()
            .where(
                SlaState.__table__.c.ticket_id > offset,
                SlaState.__table__.c.ticket_id <= offset + count,
            )
            .values(
                response_warn_at=past - timedelta(minutes=12),
                response_due_at=past,
                next_check_at=past - timedelta(minutes=12),
            )
        )


def timed_sweep(engine: Engine, counter: QueryCounter) -> tuple[float, int, sla_sweep.SweepResult]:
    factory = make_sessionmaker(engine)
    before = counter.count
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        result = sla_sweep.sweep(s, at=NOW)
    return (time.perf_counter() - t0) * 1000, counter.count - before, result


def run(url: str, n: int, due: int, runs: int, fresh: bool, seed: Any, offset: int = 0) -> None:
    engine = make_engine(url)
    if fresh:
        upgrade(url)
        seed(n)
    counter = QueryCounter(engine)
    timed_sweep(engine, counter)  # warm the pool and statement caches
    idle = [timed_sweep(engine, counter) for _ in range(max(runs, 30))]
    ms = sorted(r[0] for r in idle)
    print(
        f"none due : median {statistics.median(ms):7.2f} ms  min {ms[0]:7.2f} ms  "
        f"p90 {ms[int(len(ms) * 0.9)]:7.2f} ms  queries/sweep {idle[0][1]} "
        f"(statements the driver ran, BEGIN/COMMIT not counted)  checked {idle[0][2].checked}"
    )
    with engine.connect() as conn:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"           (machine load average {load:.1f} on {os.cpu_count()} CPUs; "
            f"{conn.dialect.name})"
        )
    busy = []
    for k in range(runs):
        make_due(engine, due, offset=offset + k * due)
        busy.append(timed_sweep(engine, counter))
    ms = [r[0] for r in busy]
    last = busy[-1][2]
    print(
        f"{due:,} due: median {statistics.median(ms):7.2f} ms  min {min(ms):7.2f} ms  "
        f"max {max(ms):7.2f} ms  queries/sweep {busy[0][1]}  "
        f"breaches {len(last.breaches)} warnings {len(last.warnings)}"
    )
    with engine.connect() as conn:
        logs = conn.execute(text("SELECT count(*) FROM support_sla_logs")).scalar_one()
        events = conn.execute(text("SELECT count(*) FROM outbox_events")).scalar_one()
    print(f"written: {logs:,} log rows, {events:,} outbox events over {runs} busy sweeps")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--reuse", metavar="DATABASE", help="a database kept by --keep: skip seeding (PostgreSQL)"
    )
    parser.add_argument(
        "--offset",
        type=int,
        default=0,
        help="first ticket id to make due (use fresh ids with --reuse)",
    )
    args = parser.parse_args()
    if args.db == "postgres" and args.reuse:
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{args.reuse}"
        print(f"PostgreSQL, reusing {args.reuse}")
        run(url, 0, args.due, args.runs, False, None, offset=args.offset)
    elif args.db == "postgres":
        import psycopg

        n = args.tickets or 1_000_000
        name = f"hub_bench_sla_{os.getpid()}"
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        try:
            print(f"PostgreSQL, {n:,} open tickets")
            run(url, n, args.due, args.runs, True, lambda k: seed_postgres(url, k))
        finally:
            if not args.keep:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    else:
        n = args.tickets or 100_000
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            print(f"SQLite, {n:,} open tickets")
            engine = make_engine(url)
            run(url, n, args.due, args.runs, True, lambda k: seed_sqlite(engine, k))


if __name__ == "__main__":
    main()
