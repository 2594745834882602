"""Messages per second through the email plugin's SMTP server, end to end.

500 generated messages by default, half of them new conversations and half replies (threaded by
In-Reply-To onto the tickets the first half opened); one SMTP session per message, several
sessions at once. A message counts once the server answered 250, which it does only after the
ticket or comment is committed. Afterwards the database is checked to hold exactly that.

    .venv/bin/python bench/email.py                    # SQLite in a temp dir
    .venv/bin/python bench/email.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.email --baseline         # the same, run as a module

With a PostgreSQL URL a fresh database is created on that server and dropped afterwards.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# standard library's ``email`` package: take the folder out, and put the project root in.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import re  # noqa: E402
import smtplib  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from email.message import EmailMessage  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from core.models import Comment, InboundKey, Ticket  # noqa: E402
from core.permissions import system_actor  # noqa: E402
from core.services import identity  # noqa: E402
from core.services import plugins as plugin_service  # noqa: E402
from hub.context import Hub  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.settings import Settings  # noqa: E402
from plugins.email.smtp_server import IntakeController  # noqa: E402

BODY = ("Hello support,\n\nour VPN client stopped connecting this morning after the update. "
        "The log says the certificate could not be verified.\n\n") * 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def message(n: int, sender: str, to: str, reply_to_id: str | None) -> tuple[str, bytes]:
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <{sender}>"
    msg["To"] = to
    msg["Subject"] = ("Re: " if reply_to_id else "") + f"VPN problem {n}"
    mid = f"bench-{n}-{uuid.uuid4().hex}@customer.test"
    msg["Message-ID"] = f"<{mid}>"
    if reply_to_id:
        msg["In-Reply-To"] = f"<{reply_to_id}>"
        msg["References"] = f"<{reply_to_id}>"
    msg.set_content(BODY + (f"\nOn Monday you wrote:\n> earlier text {n}\n" if reply_to_id
                            else ""))
    return mid, re.sub(rb"\r?\n", b"\r\n", msg.as_bytes())


def send_one(port: int, sender: str, to: str, raw: bytes) -> bool:
    """One SMTP session for one message; True when the server answered 250 (committed)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            client.sendmail(sender, [to], raw)  # raises unless the DATA reply is 250
        return True
    except smtplib.SMTPException as exc:
        print("not accepted:", exc, file=sys.stderr)
        return False


def run_phase(port: int, jobs: list[tuple[str, str, bytes]], concurrency: int) -> tuple[int, float]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        ok = sum(pool.map(lambda j: send_one(port, *j), jobs))
    return ok, time.perf_counter() - start


def fresh_postgres(url: str) -> tuple[str, str, str]:
    import psycopg

    name = f"hub_bench_email_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name, url, name


def drop_postgres(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="DB threads per server process")
    parser.add_argument("--baseline", action="store_true",
                        help="also time a do-nothing aiosmtpd server with the same clients")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="SMTP server processes sharing the port")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-email-"))
    drop: tuple[str, str] | None = None
    url = args.database_url or f"sqlite:///{tmp / 'hub.sqlite3'}"
    if url.startswith("postgresql"):
        url, admin, name = fresh_postgres(url)
        drop = (admin, name)
    try:
        if args.baseline:
            baseline(args)
        bench(url, tmp, args)
    finally:
        if drop:
            drop_postgres(*drop)


def make_hub(url: str, tmp: Path, pool: int = 10) -> Hub:
    return Hub(Settings(database_url=url, data_dir=tmp, secret_key="bench-secret-key-0123456789",
                        db_pool_size=pool, _env_file=None))  # type: ignore[call-arg]


def server_process(url: str, tmp: str, port: int, workers: int, ready: Any, stop: Any) -> None:
    """One SMTP server process with its own hub; several share the port (SO_REUSEPORT)."""
    hub = make_hub(url, Path(tmp), pool=workers)
    controller = IntakeController(hub, "127.0.0.1", port, workers=workers, reuse_port=True)
    controller.start()
    ready.release()
    stop.wait()
    controller.stop()
    hub.engine.dispose()


class NullHandler:
    """The do-nothing handler of the issue's scale figure: 250 without storing anything."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def baseline(args: argparse.Namespace) -> None:
    """The same clients against a do-nothing aiosmtpd server: the machine's ceiling right now."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(NullHandler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        jobs = [(f"c{n}@customer.test", "support@bench.test",
                 message(n, f"c{n}@customer.test", "support@bench.test", None)[1])
                for n in range(args.messages)]
        ok, seconds = run_phase(port, jobs, args.concurrency)
    finally:
        controller.stop()
    print(f"baseline (do-nothing aiosmtpd handler, same clients): {ok} in {seconds:.2f}s = "
          f"{ok / seconds:.0f} msg/s")


def bench(url: str, tmp: Path, args: argparse.Namespace) -> None:
    upgrade(url)
    hub = make_hub(url, tmp)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    address = "support@bench.test"
    with hub.session() as s:
        tenant = identity.create_tenant(s, slug="bench", name="Bench")
        actor = system_actor(tenant.id)
        plugin_service.set_enabled(s, actor, "email", True)
        plugin_service.configure(s, actor, "email", settings={"addresses": [address]},
                                 secrets={}, keyring=hub.keyring)
        tenant_id = tenant.id
    port = free_port()
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Semaphore(0), ctx.Event()
    procs = [ctx.Process(target=server_process, args=(url, str(tmp), port, args.workers, ready,
                                                      stop)) for _ in range(args.processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    try:
        half = args.messages // 2
        firsts = [(f"customer{n % 50}@customer.test", n) for n in range(half)]
        originals = [(sender, *message(n, sender, address, None)) for sender, n in firsts]
        jobs1 = [(sender, address, raw) for sender, _, raw in originals]
        replies = [(sender, address, message(half + i, sender, address, mid)[1])
                   for i, (sender, mid, _) in enumerate(originals)]
        ok1, t1 = run_phase(port, jobs1, args.concurrency)
        ok2, t2 = run_phase(port, replies, args.concurrency)
    finally:
        stop.set()
        for proc in procs:
            proc.join()
    with hub.session() as s:
        keys = s.scalar(select(func.count()).select_from(InboundKey).where(
            InboundKey.tenant_id == tenant_id))
        tickets = s.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.tenant_id == tenant_id))
        comments = s.scalar(select(func.count()).select_from(Comment).where(
            Comment.tenant_id == tenant_id))
    dialect = hub.engine.dialect.name
    total, seconds = ok1 + ok2, t1 + t2
    print(f"database: {dialect}; sessions at once: {args.concurrency}; server processes: "
          f"{args.processes} x {args.workers} DB threads; load average before: {load}")
    print(f"new conversations: {ok1}/{len(jobs1)} in {t1:.2f}s = {ok1 / t1:.0f} msg/s")
    print(f"replies:           {ok2}/{len(replies)} in {t2:.2f}s = {ok2 / t2:.0f} msg/s")
    print(f"total:             {total} in {seconds:.2f}s = {total / seconds:.0f} msg/s "
          "(one SMTP session per message, counted at 250 = committed)")
    print(f"check: {keys} inbound keys, {tickets} tickets, {comments} comments in the database")
    hub.engine.dispose()


if __name__ == "__main__":
    main()
