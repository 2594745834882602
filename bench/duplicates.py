"""Likely-duplicate benchmark: the scorer's precision and recall on the labelled pairs of
tests/fixtures/duplicates/ (each half: tuned on ``tune``, reported on both), and the cost of the
check per new ticket on SQLite and PostgreSQL.

The cost: a tenant with ``--tickets`` tickets (default 100,000) of ``--requesters`` requesters
(default 2,000; texts from the corpus, most open, created over the last 30 days), then
``--checks`` new tickets of random requesters, each written and committed, then checked by
``core.duplicates.service.check_ticket`` (what the outbox's ``ticket.created`` runs after the
commit) in a transaction of its own: milliseconds and statements per check.

    .venv/bin/python bench/duplicates.py                  # corpus, then SQLite and PostgreSQL
    .venv/bin/python bench/duplicates.py --db sqlite --tickets 20000
    .venv/bin/python bench/duplicates.py --corpus-only

Prints figures; never fails on a timing.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import event, insert  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.common import drop_database, fresh_database  # noqa: E402
from core import clock  # noqa: E402
from core.duplicates import evaluation  # noqa: E402
from core.duplicates.service import check_ticket  # noqa: E402
from core.models import DuplicateFlag, Tenant, Ticket, User  # noqa: E402
from core.permissions import Actor  # noqa: E402
from core.services.tickets import create_ticket  # noqa: E402
from hub.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from hub.migrate import upgrade  # noqa: E402

CORPUS = _HERE.parent / "tests" / "fixtures" / "duplicates" / "pairs.jsonl"
PG_ADMIN = os.environ.get("HUB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STATUSES = ("New", "Open", "In Progress", "Pending", "Resolved", "Closed")


def corpus() -> list[dict[str, Any]]:
    pairs = evaluation.load(CORPUS)
    scores = evaluation.evaluate(pairs)
    print(f"labelled pairs: {len(pairs)} ({sum(p['duplicate'] for p in pairs)} duplicates)")
    for split in ("tune", "test", "all"):
        s = scores[split]
        print(
            f"  {split:4}: {s.pairs:3} pairs  precision {s.precision:.3f}  recall {s.recall:.3f}"
            f"  (true {s.true_pos}, false positives {s.false_pos}, missed {s.false_neg})"
        )
    return pairs


class Counter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, *args: Any) -> None:
        self.count += 1


def seed(
    engine: Engine, texts: list[dict[str, str]], n: int, requesters: int
) -> tuple[Any, list[int]]:
    tenant_id = uuid.uuid4()
    rng = random.Random(7)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(Tenant.__table__),
            [
                {
                    "id": tenant_id,
                    "slug": "bench",
                    "name": "Bench",
                    "settings": {},
                    "created_at": NOW,
                }
            ],
        )
        users = [
            {
                "email": f"r{i}@bench.example",
                "full_name": f"R {i}",
                "is_active": True,
                "email_failing": False,
                "date_joined": NOW,
            }
            for i in range(requesters)
        ]
        conn.execute(insert(User.__table__), users)
        user_ids = [
            r[0]
            for r in conn.execute(User.__table__.select().with_only_columns(User.__table__.c.id))
        ]
        batch: list[dict[str, Any]] = []
        for i in range(n):
            text = texts[i % len(texts)]
            at = NOW - timedelta(seconds=rng.randrange(30 * 86400))
            batch.append(
                {
                    "tenant_id": tenant_id,
                    "created_by": user_ids[i % len(user_ids)],
                    "subject": text["subject"],
                    "description": text["body"],
                    "category": "Other",
                    "priority": "Medium",
                    "status": STATUSES[i % len(STATUSES)],
                    "created_at": at,
                    "updated_at": at,
                    "channel": "api",
                    "sla_breached": False,
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(Ticket.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(Ticket.__table__), batch)
    print(
        f"  seeded {n:,} tickets of {requesters:,} requesters in {time.perf_counter() - t0:.1f} s"
    )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE support_tickets")
    return tenant_id, user_ids


def run(url: str, texts: list[dict[str, str]], n: int, requesters: int, checks: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    tenant_id, user_ids = seed(engine, texts, n, requesters)
    factory = make_sessionmaker(engine)
    counter = Counter(engine)
    rng = random.Random(11)
    clock.set_clock(lambda: NOW)
    check_ms, queries, create_ms = [], [], []
    for k in range(checks + 5):
        user = rng.choice(user_ids)
        text = texts[rng.randrange(len(texts))]
        actor = Actor(tenant_id=tenant_id, user_id=user, role="end_user")
        t0 = time.perf_counter()
        with session_scope(factory) as s:
            ticket = create_ticket(
                s, actor, subject=text["subject"], description=text["body"], category="Other"
            )
        t1 = time.perf_counter()
        before = counter.count
        with session_scope(factory) as s:
            check_ticket(s, s.get(Ticket, ticket.id))  # as the outbox task loads it
        t2 = time.perf_counter()
        if k >= 5:  # warm-up
            create_ms.append((t1 - t0) * 1000)
            check_ms.append((t2 - t1) * 1000)
            queries.append(counter.count - before)
    clock.set_clock(None)
    with engine.connect() as conn:
        flags = conn.execute(DuplicateFlag.__table__.select()).fetchall()
    check_ms.sort()
    print(
        f"  check per new ticket ({engine.dialect.name}, {n:,} tickets): median "
        f"{statistics.median(check_ms):.2f} ms  p99 {check_ms[int(len(check_ms) * 0.99) - 1]:.2f} ms"
        f"  statements {statistics.median(queries):.0f} (incl. loading the ticket)"
        f"  vs writing the ticket itself: median {statistics.median(create_ms):.2f} ms"
    )
    print(f"  flags written: {len(flags)} for {checks} new tickets")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requesters", type=int, default=2_000)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--corpus-only", action="store_true")
    args = parser.parse_args()
    pairs = corpus()
    if args.corpus_only:
        return
    texts = [p[side] for p in pairs for side in ("a", "b")]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(machine load average {load:.1f} on {os.cpu_count()} CPUs)")
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        url = fresh_database(None if db == "sqlite" else PG_ADMIN, "bench_dupes")
        try:
            run(url, texts, args.tickets, args.requesters, args.checks)
        finally:
            drop_database(url, PG_ADMIN if db == "postgres" else None)


if __name__ == "__main__":
    main()
