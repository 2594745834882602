"""SLA by agent group: the queue's "At risk" SQL against each ticket's own clock, and its time.

Seeds one tenant with ``--tickets`` open tickets spread over four agent groups (and none), every
category and priority, their due moments over the next ten hours (40 % already answered). Then,
for (A) one general policy per priority and (B) those plus a policy per group, per category and
per group and category (36 in all), it checks that ``countdown.at_risk_clause`` (one SQL term
per policy) finds exactly the tickets whose own targets (``clock.targets_for``, the ticket
page's path) put them at risk, and times the count and the queue's first page of 50.

    .venv/bin/python bench/sla_groups.py                    # SQLite in a temp dir, 50,000
    .venv/bin/python bench/sla_groups.py --db postgres --tickets 200000

Prints figures; fails only when the SQL and the per-ticket clocks disagree.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import delete, func, insert, select, text  # noqa: E402

from core import lifecycle  # noqa: E402
from core.clock import FrozenClock, set_clock  # noqa: E402
from core.groups.models import AgentGroup  # noqa: E402
from core.models import SlaPolicy, Ticket  # noqa: E402
from core.services import identity  # noqa: E402
from core.sla import clock as sla_clock  # noqa: E402
from core.sla import countdown  # noqa: E402
from hub.context import Hub  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.settings import Settings  # noqa: E402

PG_ADMIN = os.environ.get("HUB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def seed(hub: Hub, n: int) -> tuple[uuid.UUID, list[int]]:
    with hub.session() as s:
        tenant = identity.create_tenant(s, slug="bench", name="Bench")
        user = identity.ensure_user(s, email="r@bench.example", password="bench-password-1")
        identity.ensure_member(s, tenant.id, user, "end_user")
        groups = []
        for i in range(4):
            group = AgentGroup(
                tenant_id=tenant.id, name=f"Tier {i + 1}", tier=i + 1, created_at=NOW
            )
            s.add(group)
            s.flush()
            groups.append(group.id)
        tenant_id, user_id = tenant.id, user.id
    rng = random.Random(7)
    with hub.engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for i in range(n):
            batch.append(
                {
                    "tenant_id": tenant_id,
                    "created_by": user_id,
                    "subject": f"case {i}",
                    "description": "d",
                    "category": rng.choice(lifecycle.CATEGORIES),
                    "priority": rng.choice(lifecycle.PRIORITIES),
                    "status": rng.choice(("New", "Open", "In Progress")),
                    "channel": "web",
                    "created_at": NOW - timedelta(hours=1),
                    "updated_at": NOW,
                    "sla_due_at": NOW + timedelta(minutes=rng.uniform(-60, 600)),
                    "first_response_at": NOW if rng.random() < 0.4 else None,
                    "sla_breached": False,
                    "group_id": rng.choice([None, *groups]),
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(Ticket), batch)
                batch = []
        if batch:
            conn.execute(insert(Ticket), batch)
        conn.execute(text("ANALYZE"))
    return tenant_id, groups


def policy_sets(groups: list[int]) -> list[tuple[str, list[dict[str, Any]]]]:
    general = [
        {"group_id": None, "category": None, "priority": p, "response_minutes": r}
        for p, r in zip(lifecycle.PRIORITIES, (1200, 600, 300, 120), strict=True)
    ]
    more = []
    for p in lifecycle.PRIORITIES:
        for k, g in enumerate(groups):
            more.append(
                {"group_id": g, "category": None, "priority": p, "response_minutes": 100 + 37 * k}
            )
        for k, c in enumerate(lifecycle.CATEGORIES[:2]):
            more.append(
                {"group_id": None, "category": c, "priority": p, "response_minutes": 500 + 50 * k}
            )
            more.append(
                {
                    "group_id": groups[k],
                    "category": c,
                    "priority": p,
                    "response_minutes": 60 + 20 * k,
                }
            )
    return [
        ("A: general policies only", general),
        (f"B: {len(general) + len(more)} policies (group, category, both)", general + more),
    ]


def use(hub: Hub, tenant_id: uuid.UUID, specs: list[dict[str, Any]]) -> None:
    with hub.engine.begin() as conn:
        conn.execute(delete(SlaPolicy).where(SlaPolicy.tenant_id == tenant_id))
        conn.execute(
            insert(SlaPolicy),
            [
                {
                    **spec,
                    "resolution_minutes": spec["response_minutes"] * 4,
                    "tenant_id": tenant_id,
                    "is_active": True,
                    "calendar": None,
                    "warning_percent": 80,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for spec in specs
            ],
        )
    sla_clock._policies.invalidate(tenant_id)


def measure(hub: Hub, tenant_id: uuid.UUID, runs: int) -> tuple[int, bool, float, float]:
    with hub.read_session() as s:
        stmt = select(Ticket.id).where(
            Ticket.tenant_id == tenant_id,
            Ticket.status.in_(lifecycle.OPEN_STATUSES),
            countdown.at_risk_clause(s, tenant_id),
        )
        by_sql = set(s.scalars(stmt))
        share = countdown.at_risk_percent(s, tenant_id) / 100
        by_clock = set()
        for ticket in s.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id)):
            found = sla_clock.targets_for(s, ticket)
            minutes = (
                found.resolution_minutes if ticket.first_response_at else found.response_minutes
            )
            if ticket.sla_due_at is None:
                continue
            left = (ticket.sla_due_at - NOW).total_seconds() / 60  # 24x7 calendars
            if 0 < left < minutes * share:
                by_clock.add(ticket.id)
        counts, pages = [], []
        for _ in range(runs):
            started = time.perf_counter()
            s.scalar(select(func.count()).select_from(stmt.subquery()))
            counts.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            list(s.scalars(stmt.order_by(Ticket.sla_due_at).limit(50)))
            pages.append((time.perf_counter() - started) * 1000)
    return len(by_sql), by_sql == by_clock, statistics.median(counts), statistics.median(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    set_clock(FrozenClock(NOW))
    tmp = Path(tempfile.mkdtemp(prefix="sla-groups-bench-"))
    admin = None
    name = f"hub_bench_sla_groups_{uuid.uuid4().hex[:6]}"
    if args.db == "postgres":
        import psycopg

        admin = psycopg.connect(PG_ADMIN, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    hub = None
    agree = True
    try:
        upgrade(url)
        hub = Hub(
            Settings(
                database_url=url,
                data_dir=tmp,
                secret_key="bench-secret-key-0123456789",
                _env_file=None,  # type: ignore[call-arg]
            )
        )
        tenant_id, groups = seed(hub, args.tickets)
        print(f"{args.db}, {args.tickets} open tickets, load average {os.getloadavg()[0]:.2f}")
        for label, specs in policy_sets(groups):
            use(hub, tenant_id, specs)
            found, same, count_ms, page_ms = measure(hub, tenant_id, args.runs)
            agree = agree and same
            print(
                f"  {label}: {found} at risk, SQL == per-ticket clocks: {same}; "
                f"count median {count_ms:.1f} ms, first 50 by due median {page_ms:.1f} ms"
            )
    finally:
        if hub is not None:
            hub.engine.dispose()
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    if not agree:
        sys.exit("the at-risk SQL and the per-ticket clocks disagree")


if __name__ == "__main__":
    main()
