"""Reports benchmark: every standard report over 90 days and over two years, and the exports.

Seeds one tenant with tickets spread over two years, three comments each, and their report
rollups (``report_ticket_facts`` and ``report_moves``, written the way the listener would, by
COPY on PostgreSQL and executemany on SQLite, then the per-day sums of the facts by
``summaries.refill``), then times each standard report in process
(p50 and p99, and the statements it ran), the ticket CSV and XLSX exports (rows per second and
the peak RSS growth of a fresh process that only exports), and the dashboard PDF.

    .venv/bin/python bench/reports.py --db postgres                  # 1,000,000 tickets
    .venv/bin/python bench/reports.py --db sqlite                    # 100,000 tickets
    .venv/bin/python bench/reports.py --db postgres --tickets 100000 --runs 10

Floors (PostgreSQL, 1,000,000 tickets): each report p50 under 100 ms; CSV export of all tickets
at 50,000 rows/s or more with RSS growth under 100 MB; XLSX at 10,000 rows/s or more; the
dashboard PDF in under 3 s. Prints figures; never fails on a timing.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import event, insert, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.common import drop_database, fresh_database  # noqa: E402
from core import clock  # noqa: E402
from core.models import Comment, ReportFact, ReportMove, Tenant, Ticket, User  # noqa: E402
from core.permissions import MANAGER, Actor  # noqa: E402
from hub.db import make_engine, make_sessionmaker  # noqa: E402
from hub.migrate import upgrade  # noqa: E402

PG_ADMIN = os.environ.get("HUB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
AGENTS = 20
CATEGORIES = ("Access", "Billing", "Technical Issue", "Other", "Onboarding", "Security")
PRIORITIES = ("Low", "Medium", "High", "Critical")
CHANNELS = ("email", "web", "slack", "teams", "chat", "api")
TARGETS = {"Low": (1440, 10080), "Medium": (480, 4320), "High": (240, 1440), "Critical": (60, 240)}
REPORTS = ("volume", "first-response", "resolution", "sla", "agents", "trends", "satisfaction")


# The per-day sums, as the listener's upserts leave them.
DAILY = (
    "INSERT INTO report_daily (tenant_id, day, kind, actor_id, count, backlog) "
    "SELECT tenant_id, day, kind, coalesce(actor_id, 0), count(*), sum(backlog) "
    "FROM report_moves GROUP BY tenant_id, day, kind, coalesce(actor_id, 0)"
)


def _week(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _rows(n: int, tenant: uuid.UUID, requester: int, agents: list[int]) -> Iterator[dict[str, Any]]:
    """One ticket and what hangs off it: its fact, its moves, its three comments."""
    t0 = NOW - SPAN
    step = SPAN / n
    for i in range(1, n + 1):
        created = t0 + step * i
        agent = agents[i % len(agents)] if i % 10 else None
        priority = PRIORITIES[i % 4]
        status = ("Resolved", "Closed", "Open", "Resolved", "Pending", "Closed", "New")[i % 7]
        done = status in ("Resolved", "Closed")
        fr = (i * 37) % 2880 + 1.0
        res = (i * 91) % 20000 + fr if done else None
        resolved = created + timedelta(minutes=res) if res is not None else None
        day = created.date()
        rday = resolved.date() if resolved else None
        ticket = {
            "id": i,
            "tenant_id": tenant,
            "created_by": requester,
            "assigned_to": agent,
            "subject": f"Ticket {i}",
            "description": "seeded",
            "category": CATEGORIES[i % len(CATEGORIES)],
            "priority": priority,
            "status": status,
            "channel": CHANNELS[i % len(CHANNELS)],
            "created_at": created,
            "updated_at": resolved or created,
            "first_response_at": created + timedelta(minutes=fr),
            "resolved_at": resolved if status == "Resolved" else None,
            "closed_at": resolved if status == "Closed" else None,
            "satisfaction_rating": (i % 5) + 1 if done and i % 3 == 0 else None,
            "feedback": f"feedback {i}" if done and i % 30 == 0 else None,
            "sla_breached": i % 11 == 0,
        }
        fact = {
            "ticket_id": i,
            "tenant_id": tenant,
            "requester": requester,
            "agent": agent,
            "category": ticket["category"],
            "priority": priority,
            "channel": ticket["channel"],
            "status": status,
            "merged": False,
            "policy_id": None,
            "created_at": created,
            "created_day": day,
            "created_week": _week(day),
            "created_month": day.replace(day=1),
            "resolved_day": rday,
            "resolved_week": _week(rday) if rday else None,
            "resolved_month": rday.replace(day=1) if rday else None,
            "first_response_minutes": fr,
            "first_response_business": fr * 0.6,
            "resolution_minutes": res,
            "resolution_business": res * 0.5 if res is not None else None,
            "response_target": TARGETS[priority][0],
            "resolution_target": TARGETS[priority][1],
            "reopen_count": 1 if i % 17 == 0 else 0,
            "rating": ticket["satisfaction_rating"],
            "has_feedback": ticket["feedback"] is not None,
            "last_status": status,
            "stopped_since": resolved,
            "stopped_business": 0.0,
        }
        moves = [(i, day, "created", None, 1)]
        if rday is not None:
            moves.append((i, rday, "resolved" if status == "Resolved" else "closed", None, -1))
        comments = []
        for k in range(3):
            at = created + timedelta(minutes=fr * (k + 1))
            writer = agent or agents[0] if k != 1 else requester
            comments.append((i, writer, at))
            if writer != requester:
                moves.append((i, at.date(), "reply", writer, 0))
        yield {"ticket": ticket, "fact": fact, "moves": moves, "comments": comments}


def _people(engine: Engine) -> tuple[uuid.UUID, int, list[int]]:
    tenant = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            insert(Tenant.__table__),
            [{"id": tenant, "slug": "bench", "name": "Bench", "settings": {}, "created_at": NOW}],
        )
        ids = []
        for k in range(AGENTS + 1):
            ids.append(
                conn.execute(
                    insert(User.__table__)
                    .values(
                        email=f"u{k}@bench.example",
                        full_name=f"User {k}",
                        is_active=True,
                        email_failing=False,
                        date_joined=NOW,
                    )
                    .returning(User.__table__.c.id)
                ).scalar_one()
            )
    return tenant, ids[0], ids[1:]


TICKET_COLS = list(next(_rows(1, uuid.uuid4(), 1, [2]))["ticket"])
FACT_COLS = list(next(_rows(1, uuid.uuid4(), 1, [2]))["fact"])


def seed(engine: Engine, url: str, n: int) -> tuple[uuid.UUID, int]:
    tenant, requester, agents = _people(engine)
    t0 = time.perf_counter()
    if engine.dialect.name == "postgresql":
        _seed_pg(url, n, tenant, requester, agents)
    else:
        _seed_sqlite(engine, n, tenant, requester, agents)
    # The per-day sums of the facts, as the listener leaves them (``summaries.refill``).
    from core.reports import summaries

    with make_sessionmaker(engine)() as s:
        summaries.refill(s)
        s.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for model, _keys, _sums in summaries.TABLES.values():
            verb = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
            conn.execute(text(f"{verb} {model.__tablename__}"))
    print(
        f"seeded {n:,} tickets, {3 * n:,} comments and their rollups in "
        f"{time.perf_counter() - t0:.0f} s ({engine.dialect.name})"
    )
    return tenant, agents[0]


def _seed_pg(url: str, n: int, tenant: uuid.UUID, requester: int, agents: list[int]) -> None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for table, cols, key in (
            ("support_tickets", TICKET_COLS, "ticket"),
            ("report_ticket_facts", FACT_COLS, "fact"),
        ):
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in _rows(n, tenant, requester, agents):
                    copy.write_row([row[key][c] for c in cols])
        with cur.copy(
            "COPY report_moves (tenant_id, ticket_id, day, kind, actor_id, backlog) FROM STDIN"
        ) as copy:
            for row in _rows(n, tenant, requester, agents):
                for m in row["moves"]:
                    copy.write_row((tenant, *m))
        with cur.copy(
            "COPY support_comments (ticket_id, user_id, comment, is_internal, created_at, "
            "tenant_id, channel, unverified_sender) FROM STDIN"
        ) as copy:
            for row in _rows(n, tenant, requester, agents):
                for tid, user, at in row["comments"]:
                    copy.write_row((tid, user, "seeded reply", False, at, tenant, "api", False))
        cur.execute("SELECT setval(pg_get_serial_sequence('support_tickets', 'id'), %s)", (n,))
        cur.execute(DAILY)
        conn.commit()
        conn.autocommit = True
        for table in (
            "support_tickets",
            "report_ticket_facts",
            "report_moves",
            "report_daily",
            "support_comments",
        ):
            conn.execute(f"VACUUM ANALYZE {table}")


def _seed_sqlite(
    engine: Engine, n: int, tenant: uuid.UUID, requester: int, agents: list[int]
) -> None:
    batch: dict[str, list[Any]] = {"ticket": [], "fact": [], "moves": [], "comments": []}

    def flush(conn: Any) -> None:
        conn.execute(insert(Ticket.__table__), batch["ticket"])
        conn.execute(insert(ReportFact.__table__), batch["fact"])
        conn.execute(insert(ReportMove.__table__), batch["moves"])
        conn.execute(insert(Comment.__table__), batch["comments"])
        for v in batch.values():
            v.clear()

    with engine.begin() as conn:
        for row in _rows(n, tenant, requester, agents):
            batch["ticket"].append(row["ticket"])
            batch["fact"].append(row["fact"])
            batch["moves"] += [
                dict(zip(("ticket_id", "day", "kind", "actor_id", "backlog"), m, strict=True))
                | {"tenant_id": tenant}
                for m in row["moves"]
            ]
            batch["comments"] += [
                {
                    "ticket_id": t,
                    "user_id": u,
                    "comment": "seeded reply",
                    "is_internal": False,
                    "created_at": at,
                    "tenant_id": tenant,
                    "channel": "api",
                    "unverified_sender": False,
                }
                for t, u, at in row["comments"]
            ]
            if len(batch["ticket"]) >= 5000:
                flush(conn)
        if batch["ticket"]:
            flush(conn)
        conn.execute(text(DAILY))
        conn.execute(text("ANALYZE"))


class Counter:
    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)


def _pct(values: list[float], p: float) -> float:
    xs = sorted(values)
    return xs[min(len(xs) - 1, max(0, -(-int(p * len(xs) * 100) // 100) - 1))]


def time_reports(engine: Engine, tenant: uuid.UUID, runs: int) -> dict[str, Any]:
    from core.reports import catalog

    clock.set_clock(lambda: NOW)
    actor = Actor(tenant_id=tenant, user_id=None, role=MANAGER, name="bench")
    factory = make_sessionmaker(engine)
    counter = Counter(engine)
    end = NOW.date() + timedelta(days=1)
    ranges = {
        "90 days": {"start": (end - timedelta(days=90)).isoformat(), "end": end.isoformat()},
        "2 years": {
            "start": (end - timedelta(days=731)).isoformat(),
            "end": end.isoformat(),
            "interval": "month",
        },
    }
    out: dict[str, Any] = {}
    for label, params in ranges.items():
        for name in REPORTS:
            q = dict(params)
            if name not in ("volume", "trends", "satisfaction"):
                q.pop("interval", None)
            times = []
            for k in range(runs + 1):
                with factory() as s:
                    before = len(counter.statements)
                    t0 = time.perf_counter()
                    catalog.run(s, actor, name, q)
                    ms = (time.perf_counter() - t0) * 1000
                    ran = len(counter.statements) - before
                    s.rollback()
                if k:  # the first run warms caches
                    times.append(ms)
            out[f"{name} / {label}"] = {
                "p50": _pct(times, 0.5),
                "p99": _pct(times, 0.99),
                "statements": ran,
            }
            print(
                f"{name:15} {label:8} p50 {_pct(times, 0.5):8.1f} ms  p99 "
                f"{_pct(times, 0.99):8.1f} ms  statements {ran}"
            )
    return out


def export_child(url: str, tenant: str, fmt: str, limit: int) -> None:
    """In a fresh process: export tickets, print rows/s and the peak RSS growth (JSON)."""
    from core.reports.tickets import HEADERS, ticket_rows
    from core.services.tickets import TicketFilter
    from hub import exports

    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    actor = Actor(tenant_id=uuid.UUID(tenant), user_id=None, role=MANAGER, name="bench")
    with factory() as s:  # warm: imports, pool, first page
        next(ticket_rows(s, actor, TicketFilter(), chunk=1))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = 0
    size = 0
    t0 = time.perf_counter()
    with factory() as s:

        def counted() -> Iterator[tuple[Any, ...]]:
            nonlocal rows
            for row in ticket_rows(s, actor, TicketFilter()):
                rows += 1
                yield row
                if limit and rows >= limit:
                    return

        table = exports.Table("Tickets", list(HEADERS), counted())
        for chunk in exports.stream(fmt, [["Tickets"]], [table]):
            size += len(chunk)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"rows": rows, "seconds": seconds, "bytes": size, "rss_growth_mb": (peak - base) / 1024}
        )
    )


def time_export(url: str, tenant: uuid.UUID, fmt: str, limit: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--export-child", url, str(tenant), fmt, str(limit)],
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    rate = got["rows"] / got["seconds"]
    print(
        f"{fmt} export: {got['rows']:,} rows in {got['seconds']:.1f} s = {rate:,.0f} rows/s, "
        f"{got['bytes'] / 1e6:.0f} MB, peak RSS growth {got['rss_growth_mb']:.1f} MB"
    )
    return {**got, "rows_per_s": rate}


def time_pdf(engine: Engine, tenant: uuid.UUID) -> float:
    from core.reports import catalog
    from hub.report_pdf import report_pdf

    clock.set_clock(lambda: NOW)
    actor = Actor(tenant_id=tenant, user_id=None, role=MANAGER, name="bench")
    end = NOW.date() + timedelta(days=1)
    q = {"start": (end - timedelta(days=30)).isoformat(), "end": end.isoformat()}
    with make_sessionmaker(engine)() as s:
        t0 = time.perf_counter()
        data = [
            catalog.run(s, actor, "volume", q),
            catalog.run(s, actor, "trends", q),
            catalog.run(s, actor, "first-response", q),
            catalog.run(s, actor, "sla", q),
        ]
        pdf = report_pdf(data, title="Dashboard")
        seconds = time.perf_counter() - t0
    print(
        f"dashboard PDF (volume, trends, first response, SLA; 30 days): {seconds:.2f} s, "
        f"{len(pdf) / 1024:.0f} KB"
    )
    return seconds


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--export-child":
        export_child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--xlsx-rows", type=int, default=200_000, help="rows of the XLSX export timing (0: all)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    n = args.tickets or (1_000_000 if args.db == "postgres" else 100_000)
    url = fresh_database(PG_ADMIN if args.db == "postgres" else None, "hub_bench_reports")
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        upgrade(url)
        engine = make_engine(url)
        tenant, _ = seed(engine, url, n)
        load = os.getloadavg()[0]
        print(f"machine load average {load:.1f} on {os.cpu_count()} CPUs")
        time_reports(engine, tenant, args.runs)
        time_export(url, tenant, "csv", 0)
        time_export(url, tenant, "xlsx", args.xlsx_rows)
        time_pdf(engine, tenant)
        engine.dispose()
    finally:
        if not args.keep:
            drop_database(url.replace("postgresql+psycopg://", "postgresql://"), PG_ADMIN)


if __name__ == "__main__":
    main()
