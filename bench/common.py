"""Shared benchmark helpers: a migrated database, a seeded tenant, a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(url: str | None, name: str) -> str:
    """A new empty database: a temp SQLite file, or a new PostgreSQL database on the server."""
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{tempfile.mkdtemp(prefix='hub-bench-')}/{name}.sqlite3"
    import psycopg

    base, _, _ = url.rpartition("/")
    db = f"{name}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    return f"{base}/{db}"


def drop_database(url: str, admin_url: str | None) -> None:
    if url.startswith("sqlite") or not admin_url:
        return
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')


def seed_tickets(
    url: str, tenant_id: uuid.UUID, user_id: int, n: int, agent_id: int | None = None
) -> float:
    """Insert n tickets fast (COPY on PostgreSQL, executemany on SQLite); returns seconds."""
    start = time.perf_counter()
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    statuses = ("New", "Open", "In Progress", "Pending", "Resolved", "Closed")
    priorities = ("Low", "Medium", "High", "Critical")
    categories = ("Access", "Billing", "Technical Issue", "Other")

    def rows() -> Iterator[tuple]:
        for i in range(n):
            at = t0 + timedelta(seconds=i * 30)
            yield (
                str(tenant_id),
                user_id,
                agent_id if i % 3 == 0 else None,
                f"Seeded ticket {i}",
                "seeded body",
                categories[i % 4],
                priorities[i % 4],
                statuses[i % 6],
                at.isoformat(),
                at.isoformat(),
                "api",
                i % 11 == 0,
            )

    cols = (
        "tenant_id, created_by, assigned_to, subject, description, category, priority, "
        "status, created_at, updated_at, channel, sla_breached"
    )
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url) as conn, conn.cursor() as cur:
            with cur.copy(f"COPY support_tickets ({cols}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            conn.commit()
            cur.execute("ANALYZE support_tickets")
            conn.commit()
    else:
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.executemany(
            f"INSERT INTO support_tickets ({cols}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                (
                    r[0].replace("-", ""),
                    *r[1:8],
                    r[8].replace("T", " "),
                    r[9].replace("T", " "),
                    *r[10:],
                )
                for r in rows()
            ),
        )
        conn.commit()
        conn.execute("ANALYZE")
        conn.close()
    return time.perf_counter() - start


@contextmanager
def server(
    url: str,
    *,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    prelude: str = "",
) -> Iterator[str]:
    """``hub serve`` in a subprocess; yields its base URL. ``prelude``: Python run in the server
    process before the CLI (one worker only: uvicorn's other workers are fresh interpreters)."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="hub-bench-data-")
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_DATA_DIR": data,
        "HUB_BROKER_URL": f"sqla+sqlite:///{data}/broker.sqlite3",
        # Load tests send far more than a person's 600 calls a minute on one token: the limiter
        # still counts every call (its cost is measured), it just never refuses one here.
        "HUB_API_RATE_LIMIT": "100000000/minute",
        "HUB_API_RATE_LIMIT_ANONYMOUS": "100000000/minute",
        **(extra_env or {}),
    }
    # The server's log goes to a file: a pipe nobody reads fills up (64 KiB) and blocks the
    # server mid-write (1,000 streams closing log 1,000 lines at shutdown).
    log = open(Path(data) / "serve.log", "w+b")  # closed in the finally below
    proc = subprocess.Popen(
        [
            sys.executable,
            *(
                ["-c", f"{prelude}\nfrom hub.cli import app\napp()"]
                if prelude
                else ["-m", "hub.cli"]
            ),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            log.seek(0)
            raise RuntimeError("server did not start: " + log.read().decode()[-2000:])
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        finally:
            log.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
