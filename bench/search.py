"""Search benchmark: full-text search over every message, combined with a status filter.

Seeds one tenant with tickets and three comments each (COPY on PostgreSQL, executemany on
SQLite), the words drawn from a 20,000-word vocabulary with a Zipf distribution (a few words
everywhere, most rare), builds the index the way migration ``0040_search`` backfills it, then
times ``list_tickets`` (the API's and the queue's code path, newest first, 50 a page) for
single-word, two-word, phrase and prefix queries, each with a status filter: p50 and p99. Then
the write cost of the index: a comment added and committed with the index kept, and with its
upkeep switched off.

    .venv/bin/python bench/search.py --db postgres                  # 1,000,000 tickets
    .venv/bin/python bench/search.py --db sqlite                    # 100,000 tickets
    .venv/bin/python bench/search.py --db postgres --tickets 100000

Floor (PostgreSQL, 1,000,000 tickets, 3,000,000 comments): p50 under 50 ms for each kind.
Prints figures; never fails on a timing.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.common import drop_database, fresh_database, percentile  # noqa: E402
from core.models import Comment, Membership, Tenant, Ticket, User  # noqa: E402
from core.permissions import AGENT, Actor  # noqa: E402
from hub.db import make_engine, make_sessionmaker  # noqa: E402
from hub.migrate import upgrade  # noqa: E402

PG_ADMIN = os.environ.get("HUB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STATUSES = ("New", "Open", "In Progress", "Pending", "Resolved", "Closed")
VOCABULARY = 20_000
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]


def vocabulary(rng: random.Random) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        words["".join(rng.choices(SYLLABLES, k=rng.choice((2, 3, 3, 4))))] = None
    return list(words)


class Words:
    """Zipf-distributed words (rank r drawn with weight 1/r)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(random.Random(1))  # the same vocabulary whatever the seed
        self.cum = list(itertools.accumulate(1 / (r + 1) for r in range(len(self.words))))

    def text(self, n: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cum, k=n))


def _rows(n: int, tenant: uuid.UUID, requester: int, agent: int) -> Iterator[dict[str, Any]]:
    words = Words()
    t0 = NOW - timedelta(days=730)
    step = timedelta(days=730) / n
    for i in range(1, n + 1):
        created = t0 + step * i
        status = STATUSES[i % len(STATUSES)]
        ticket = {
            "id": i,
            "tenant_id": tenant,
            "created_by": requester,
            "assigned_to": agent if i % 3 else None,
            "subject": words.text(6).capitalize(),
            "description": words.text(30),
            "category": "Other",
            "priority": "Medium",
            "status": status,
            "created_at": created,
            "updated_at": created,
            "channel": "email",
            "sla_breached": False,
        }
        comments = [
            (
                i,
                agent if k != 1 else requester,
                words.text(20),
                k == 2,
                created + timedelta(hours=k),
            )
            for k in range(3)
        ]
        yield {"ticket": ticket, "comments": comments}


TICKET_COLS = list(next(_rows(1, uuid.uuid4(), 1, 2))["ticket"])
COMMENT_COLS = ("ticket_id", "user_id", "comment", "is_internal", "created_at")


def _people(engine: Engine) -> tuple[uuid.UUID, int, int]:
    tenant = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            insert(Tenant.__table__),
            [{"id": tenant, "slug": "bench", "name": "Bench", "settings": {}, "created_at": NOW}],
        )
        ids = []
        for k, role in enumerate(("end_user", AGENT)):
            uid = conn.execute(
                insert(User.__table__)
                .values(
                    email=f"u{k}@bench.example",
                    full_name=f"Person {k}",
                    is_active=True,
                    email_failing=False,
                    date_joined=NOW,
                )
                .returning(User.__table__.c.id)
            ).scalar_one()
            conn.execute(
                insert(Membership.__table__).values(
                    tenant_id=tenant, user_id=uid, role=role, created_at=NOW
                )
            )
            ids.append(uid)
    return tenant, ids[0], ids[1]


def seed(engine: Engine, url: str, n: int) -> tuple[uuid.UUID, int]:
    tenant, requester, agent = _people(engine)
    t0 = time.perf_counter()
    if engine.dialect.name == "postgresql":
        _seed_pg(url, n, tenant, requester, agent)
    else:
        _seed_sqlite(engine, n, tenant, requester, agent)
    seeded = time.perf_counter() - t0
    t1 = time.perf_counter()
    _index(engine, url)
    print(
        f"seeded {n:,} tickets and {3 * n:,} comments in {seeded:.0f} s, indexed them in "
        f"{time.perf_counter() - t1:.0f} s ({engine.dialect.name})",
        flush=True,
    )
    return tenant, agent


def _seed_pg(url: str, n: int, tenant: uuid.UUID, requester: int, agent: int) -> None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with (
            cur.copy(f"COPY support_tickets ({', '.join(TICKET_COLS)}) FROM STDIN") as tickets,
        ):
            for row in _rows(n, tenant, requester, agent):
                tickets.write_row([row["ticket"][c] for c in TICKET_COLS])
        with cur.copy(
            "COPY support_comments (ticket_id, user_id, comment, is_internal, created_at, "
            "tenant_id, channel, unverified_sender) FROM STDIN"
        ) as copy:
            for row in _rows(n, tenant, requester, agent):
                for c in row["comments"]:
                    copy.write_row((*c, tenant, "api", False))
        cur.execute("SELECT setval(pg_get_serial_sequence('support_tickets', 'id'), %s)", (n,))
        conn.commit()


def _seed_sqlite(engine: Engine, n: int, tenant: uuid.UUID, requester: int, agent: int) -> None:
    tickets: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for row in _rows(n, tenant, requester, agent):
            tickets.append(row["ticket"])
            comments += [
                dict(zip(COMMENT_COLS, c, strict=True))
                | {"tenant_id": tenant, "channel": "api", "unverified_sender": False}
                for c in row["comments"]
            ]
            if len(tickets) >= 5000:
                conn.execute(insert(Ticket.__table__), tickets)
                conn.execute(insert(Comment.__table__), comments)
                tickets.clear()
                comments.clear()
        if tickets:
            conn.execute(insert(Ticket.__table__), tickets)
            conn.execute(insert(Comment.__table__), comments)


def _index(engine: Engine, url: str) -> None:
    """Build search_entries as migration 0040_search's backfill does (the GIN index dropped
    first and made again after, as a bulk load would)."""
    import importlib

    migration = importlib.import_module("hub.migrations.versions.0040_search")
    postgres = engine.dialect.name == "postgresql"
    statements = migration.backfill_statements(
        "CAST('hub_english' AS regconfig)" if postgres else "'hub_english'"
    )
    with engine.begin() as conn:
        if postgres:
            conn.execute(text("DROP INDEX IF EXISTS ix_search_entries_tsv"))
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for statement in statements:
            conn.execute(text(statement))
        if postgres:
            conn.execute(
                text("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")
            )
    if postgres:
        import psycopg

        with psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as conn:
            for table in ("support_tickets", "support_comments", "search_entries"):
                conn.execute(f"VACUUM ANALYZE {table}")
    else:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
            conn.execute(text("ANALYZE"))


def queries(kind: str, count: int, rng: random.Random) -> list[str]:
    words = Words(seed=11)
    top = words.words[:3000]  # words common enough to be asked for, rare enough to narrow
    out: list[str] = []
    for _ in range(count):
        if kind == "one word":
            out.append(rng.choice(top))
        elif kind == "two words":
            out.append(" ".join(rng.sample(top, 2)))
        elif kind == "phrase":
            out.append('"' + words.text(2) + '"')
        else:
            out.append(rng.choice(top)[:4] + "*")
    return out


def time_queries(engine: Engine, tenant: uuid.UUID, agent: int, runs: int) -> dict[str, Any]:
    from core.services.tickets import TicketFilter, list_tickets, search_matches

    actor = Actor(tenant_id=tenant, user_id=agent, role=AGENT, name="bench")
    factory = make_sessionmaker(engine)
    rng = random.Random(3)
    out: dict[str, Any] = {}
    for kind in ("one word", "two words", "phrase", "prefix"):
        times, found, with_snippets = [], [], []
        for q in queries(kind, runs, rng):
            status = [rng.choice(STATUSES)]
            with factory() as s:
                t0 = time.perf_counter()
                rows, _ = list_tickets(s, actor, TicketFilter(q=q, status=status), limit=50)
                times.append((time.perf_counter() - t0) * 1000)
                search_matches(s, actor, q, rows)
                with_snippets.append((time.perf_counter() - t0) * 1000)
                found.append(len(rows))
        out[kind] = {
            "p50": percentile(times, 50),
            "p99": percentile(times, 99),
            "p50_with_snippets": percentile(with_snippets, 50),
            "p99_with_snippets": percentile(with_snippets, 99),
            "mean_rows": sum(found) / len(found),
        }
        print(
            f"{kind:>9} + status: p50 {out[kind]['p50']:6.1f} ms  p99 {out[kind]['p99']:7.1f} ms"
            f"   with the page's snippets: p50 {out[kind]['p50_with_snippets']:6.1f} ms"
            f"  p99 {out[kind]['p99_with_snippets']:7.1f} ms   rows/page {out[kind]['mean_rows']:.0f}",
            flush=True,
        )
    return out


def time_writes(engine: Engine, tenant: uuid.UUID, agent: int, n: int) -> dict[str, float]:
    """A comment added and committed, with and without the index's upkeep (interleaved)."""
    from core.search import index
    from core.services.comments import add_comment

    actor = Actor(tenant_id=tenant, user_id=agent, role=AGENT, name="bench")
    factory = make_sessionmaker(engine)
    words = Words(seed=5)
    kept = index.save
    timings: dict[str, list[float]] = {"with index": [], "without index": []}
    rng = random.Random(9)
    for i in range(2 * n):
        mode = "with index" if i % 2 else "without index"
        index.save = kept if mode == "with index" else (lambda session: None)  # type: ignore[assignment]
        try:
            with factory() as s:
                ticket = s.get(Ticket, rng.randint(1, 1000))
                assert ticket is not None
                t0 = time.perf_counter()
                add_comment(s, actor, ticket, comment=words.text(20))
                s.commit()
                timings[mode].append((time.perf_counter() - t0) * 1000)
        finally:
            index.save = kept
    out = {mode: percentile(ts, 50) for mode, ts in timings.items()}
    print(
        f"comment added and committed, p50: {out['with index']:.2f} ms with the index, "
        f"{out['without index']:.2f} ms without: +{out['with index'] - out['without index']:.2f}"
        " ms per comment",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--runs", type=int, default=100, help="queries of each kind")
    parser.add_argument("--writes", type=int, default=200, help="comments timed per mode")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    n = args.tickets or (1_000_000 if args.db == "postgres" else 100_000)
    url = fresh_database(PG_ADMIN if args.db == "postgres" else None, "hub_bench_search")
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        upgrade(url)
        engine = make_engine(url)
        tenant, agent = seed(engine, url, n)
        with engine.connect() as conn:
            entries = conn.execute(select(text("count(*)")).select_from(text("search_entries")))
            print(f"{entries.scalar_one():,} index rows", flush=True)
        print(f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        time_queries(engine, tenant, agent, args.runs)
        time_writes(engine, tenant, agent, args.writes)
        engine.dispose()
    finally:
        if not args.keep:
            drop_database(url.replace("postgresql+psycopg://", "postgresql://"), PG_ADMIN)


if __name__ == "__main__":
    main()
