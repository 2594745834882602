"""Web console benchmark: server time of each page with 100,000 tickets in one tenant.

Seeds one tenant with 100,000 tickets (1,000 requesters, 20,000 comments) by Core bulk inserts,
signs in through the form and times each page in-process (ASGI, no network), with its query count.

    .venv/bin/python bench/web_pages.py                      # SQLite in a temp dir
    .venv/bin/python bench/web_pages.py --db postgres        # a scratch PostgreSQL database
    .venv/bin/python bench/web_pages.py --tickets 20000 --runs 20

Target: every page under 100 ms server time. Prints figures; never fails on a timing.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The repository root replaces this script's folder on the path: bench/ holds modules (email.py)
# whose names would shadow the standard library's.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import event, insert, select, text  # noqa: E402

from core import lifecycle  # noqa: E402
from core.clock import FrozenClock, set_clock  # noqa: E402
from core.models import Comment, Membership, Ticket, User  # noqa: E402
from core.services import identity  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.context import Hub  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.settings import Settings  # noqa: E402
from hub.web.models import SavedView  # noqa: E402

PG_ADMIN = os.environ.get("HUB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WORDS = ("printer", "vpn", "laptop", "password", "invoice", "badge", "email", "wifi")


def seed(hub: Hub, n: int) -> dict[str, Any]:
    """One tenant, its staff, 1,000 requesters, ``n`` tickets and n/5 comments."""
    with hub.session() as s:
        tenant = identity.create_tenant(s, slug="bench", name="Bench Corp")
        staff = {}
        for role in ("agent", "admin", "manager"):
            user = identity.ensure_user(s, email=f"{role}@bench.example", password=PASSWORD)
            identity.ensure_member(s, tenant.id, user, role)
            staff[role] = user.id
        requester = identity.ensure_user(s, email="user@bench.example", password=PASSWORD)
        identity.ensure_member(s, tenant.id, requester, "end_user")
        tenant_id = tenant.id
    with hub.engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "email": f"r{i}@bench.example",
                    "full_name": f"Req {i}",
                    "is_active": True,
                    "email_failing": False,
                    "date_joined": NOW,
                }
                for i in range(1000)
            ],
        )
        ids = [
            r[0] for r in conn.execute(select(User.id).where(User.email.like("r%@bench.example")))
        ]
        conn.execute(
            insert(Membership),
            [
                {
                    "tenant_id": tenant_id,
                    "user_id": u,
                    "role": "end_user",
                    "skills": {},
                    "available": True,
                    "created_at": NOW,
                }
                for u in ids
            ],
        )
        ids.append(requester.id)  # already a member: the signed-in requester owns ~100 tickets
        batch: list[dict[str, Any]] = []
        for i in range(n):
            at = NOW - timedelta(minutes=n - i)
            batch.append(
                {
                    "tenant_id": tenant_id,
                    "created_by": ids[i % len(ids)],
                    "assigned_to": staff["agent"] if i % 3 == 0 else None,
                    "subject": f"{WORDS[i % len(WORDS)]} problem number {i}",
                    "description": f"Details of case {i} about the {WORDS[(i * 7) % len(WORDS)]}.",
                    "category": lifecycle.CATEGORIES[i % len(lifecycle.CATEGORIES)],
                    "priority": lifecycle.PRIORITIES[i % 4],
                    "status": lifecycle.STATUSES[i % 7],
                    "channel": "web",
                    "created_at": at,
                    "updated_at": at,
                    "sla_due_at": at + timedelta(hours=8),
                    "sla_breached": i % 11 == 0,
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(Ticket), batch)
                batch = []
        if batch:
            conn.execute(insert(Ticket), batch)
        first = conn.scalar(select(Ticket.id).order_by(Ticket.id).limit(1))
        conn.execute(
            insert(Comment),
            [
                {
                    "ticket_id": first + (i * 5) % n,
                    "tenant_id": tenant_id,
                    "user_id": staff["agent"],
                    "comment": f"Reply {i}",
                    "is_internal": i % 4 == 0,
                    "channel": "web",
                    "created_at": NOW,
                }
                for i in range(n // 5)
            ],
        )
        last = conn.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))
        # The agent's saved views: the queue counts each of them (one query for all).
        conn.execute(
            insert(SavedView),
            [
                {
                    "tenant_id": tenant_id,
                    "user_id": staff["agent"],
                    "name": name,
                    "query": query,
                    "created_at": NOW,
                }
                for name, query in (
                    ("Mine", "assignee=me"),
                    ("Open critical", "status=Open&priority=Critical"),
                    ("Unassigned", "assignee=none"),
                    ("At risk", "breached=risk"),
                    ("Printers", "q=printer"),
                )
            ],
        )
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    return {"tenant_id": tenant_id, "first": first, "last": last}


def sign_in(app: Any, email: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:200]
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # The seeded tickets' SLA targets run around NOW: countdowns and "at risk" have work to do.
    set_clock(FrozenClock(NOW))
    tmp = Path(tempfile.mkdtemp(prefix="web-bench-"))
    admin = None
    if args.db == "postgres":
        import psycopg

        name = f"hub_bench_web_{uuid.uuid4().hex[:6]}"
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    try:
        upgrade(url)
        hub = Hub(
            Settings(
                database_url=url,
                data_dir=tmp,
                secret_key="bench-secret-key-0123456789",
                _env_file=None,
            )
        )  # type: ignore[call-arg]
        started = time.perf_counter()
        ids = seed(hub, args.tickets)
        print(
            f"seeded {args.tickets} tickets on {args.db} in {time.perf_counter() - started:.1f} s"
        )
        app = create_app(hub)
        agent, manager = sign_in(app, "agent@bench.example"), sign_in(app, "manager@bench.example")
        user, admin_c = sign_in(app, "user@bench.example"), sign_in(app, "admin@bench.example")
        page2 = re.search(r'cursor=([\w-]+)"', agent.get("/queue").text)
        pages = [
            (agent, "/queue"),
            (agent, "/queue?status=Open"),
            (agent, "/queue?breached=risk"),
            (agent, "/queue?priority=Critical&breached=yes&assignee=me"),
            (agent, "/queue?sort=sla_due_at"),
            (agent, "/queue?sort=-updated_at&category=Billing"),
            (agent, f"/queue?cursor={page2.group(1) if page2 else ''}"),
            (agent, "/queue?q=printer"),
            (agent, f"/tickets/{ids['first']}"),
            (agent, f"/tickets/{ids['last']}"),
            (manager, "/dashboard?days=all"),
            (user, "/tickets"),
            (user, "/tickets?status=open&q=vpn"),
            (admin_c, "/admin/plugins"),
            (admin_c, "/admin/members"),
            (agent, "/notifications"),
        ]
        engines = {id(e): e for e in (hub.engine, hub.read_engine)}.values()
        count = [0]

        def on(*_: Any) -> None:
            count[0] += 1

        for engine in engines:
            event.listen(engine, "before_cursor_execute", on)
        # min is the best estimate of the page's own cost on a shared, busy machine
        print(f"{'page':58} {'min ms':>7} {'median ms':>9} {'p95 ms':>7} {'queries':>7}")
        for client, url_ in pages:
            times = []
            for _ in range(args.runs):
                count[0] = 0
                t0 = time.perf_counter()
                response = client.get(url_)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (url_, response.status_code)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(
                f"{url_[:58]:58} {times[0]:7.1f} {statistics.median(times):9.1f} {p95:7.1f} "
                f"{count[0]:7d}"
            )
    finally:
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
