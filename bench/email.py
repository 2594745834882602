"""Messages per second through the email plugin's SMTP server, end to end.

500 generated messages by default, half of them new conversations and half replies (threaded by
In-Reply-To onto the tickets the first half opened); one SMTP session per message, several
sessions at once. A message counts once the server answered 250, which it does only after the
ticket or comment is committed. Afterwards the database is checked to hold exactly that.

    .venv/bin/python bench/email.py                    # SQLite in a temp dir
    .venv/bin/python bench/email.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.email --baseline         # the same, run as a module

With a PostgreSQL URL a fresh database is created on that server and dropped afterwards.

The client is an asyncio SMTP client in this process (one connection per message, every reply
code checked), so that it costs the machine less than the server it measures. Besides messages
per second it prints the CPU milliseconds per message of the server processes, of the client and
of PostgreSQL's backends for the benchmark database (from /proc): steadier figures than
throughput while other work shares the machine. ``--baseline`` first runs the same client
against do-nothing aiosmtpd servers.

The servers are the plugin's ``IntakeController`` in ``--processes`` processes sharing the port,
which is what ``hub smtp --processes N`` runs (one per CPU by default here; ``hub smtp`` and
``hub run`` run one).
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
import asyncio  # noqa: E402
import multiprocessing  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from email.message import EmailMessage  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from core.models import Comment, InboundKey, Ticket  # noqa: E402
from core.permissions import system_actor  # noqa: E402
from core.services import channel_keys, identity  # noqa: E402
from core.services import plugins as plugin_service  # noqa: E402
from hub.context import Hub  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.settings import Settings  # noqa: E402
from plugins.email.smtp_server import IntakeController  # noqa: E402
from tests.plugins.email.fake_dns import run_dns  # noqa: E402

BODY = (
    "Hello support,\n\nour VPN client stopped connecting this morning after the update. "
    "The log says the certificate could not be verified.\n\n"
) * 8
TICKS = os.sysconf("SC_CLK_TCK")


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
    msg.set_content(BODY + (f"\nOn Monday you wrote:\n> earlier text {n}\n" if reply_to_id else ""))
    return mid, re.sub(rb"\r?\n", b"\r\n", msg.as_bytes())


# ---------------------------------------------------------------- the client


class Refused(Exception):
    """The server answered a command with an unexpected code."""


async def _reply(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One SMTP reply (multi-line replies read to their last line)."""
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise Refused("connection closed by the server")
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3]), b"".join(lines)


async def _expect(reader: asyncio.StreamReader, code: int, what: str) -> bytes:
    got, text = await _reply(reader)
    if got != code:
        raise Refused(f"{what}: {text.decode(errors='replace').strip()}")
    return text


def dot_stuffed(raw: bytes) -> bytes:
    """The DATA payload: CRLF line ends, leading dots doubled, ended by ``CRLF.CRLF``."""
    data = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


async def send_one(port: int, sender: str, to: str, payload: bytes) -> bool:
    """One SMTP session for one message (EHLO, MAIL, RCPT, DATA, QUIT), every reply checked;
    True when DATA was answered 250, which the server sends only after the commit."""
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await _expect(reader, 220, "greeting")
        writer.write(b"EHLO bench.client\r\n")
        await _expect(reader, 250, "EHLO")
        writer.write(f"MAIL FROM:<{sender}>\r\n".encode())
        await _expect(reader, 250, "MAIL")
        writer.write(f"RCPT TO:<{to}>\r\n".encode())
        await _expect(reader, 250, "RCPT")
        writer.write(b"DATA\r\n")
        await _expect(reader, 354, "DATA")
        writer.write(payload)
        await _expect(reader, 250, "end of DATA")
        writer.write(b"QUIT\r\n")
        await _expect(reader, 221, "QUIT")
        return True
    except (Refused, OSError) as exc:
        print("not accepted:", exc, file=sys.stderr)
        return False
    finally:
        if writer is not None:
            writer.close()


async def _run_all(port: int, jobs: list[tuple[str, str, bytes]], concurrency: int) -> int:
    queue = iter(jobs)
    ok = 0

    async def worker() -> None:
        nonlocal ok
        for sender, to, payload in queue:
            accepted = await send_one(port, sender, to, payload)  # not `ok += await ...`:
            ok += accepted  # that reads ok before the await and loses the others' counts

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok


# ---------------------------------------------------------------- CPU accounting


def proc_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) a process has used so far; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICKS, sum(values[:8]) / TICKS


@dataclass
class Phase:
    ok: int
    seconds: float
    server_cpu: float
    client_cpu: float
    db_cpu: float | None
    machine_busy: float

    def line(self, name: str, total: int) -> str:
        ms = 1000 / max(self.ok, 1)
        db = f", postgres {self.db_cpu * ms:.2f}" if self.db_cpu is not None else ""
        return (
            f"{name:<18} {self.ok}/{total} in {self.seconds:.2f}s = "
            f"{self.ok / self.seconds:.0f} msg/s; CPU ms per message: server "
            f"{self.server_cpu * ms:.2f}, client {self.client_cpu * ms:.2f}{db}; machine "
            f"{self.machine_busy * 100:.0f}% busy"
        )


class Meter:
    """CPU used during a phase by the server processes, this client and the database."""

    def __init__(self, server_pids: list[int], db_pids: Any = None) -> None:
        self.server_pids = server_pids
        self.db_pids = db_pids  # a callable giving the PostgreSQL backends of the bench database

    def run(self, port: int, jobs: list[tuple[str, str, bytes]], concurrency: int) -> Phase:
        db = self.db_pids() if self.db_pids else []
        server0 = sum(proc_cpu(p) for p in self.server_pids)
        db0 = {p: proc_cpu(p) for p in db}
        busy0, total0 = machine_busy()
        client0, start = time.process_time(), time.perf_counter()
        ok = asyncio.run(_run_all(port, jobs, concurrency))
        seconds = time.perf_counter() - start
        client = time.process_time() - client0
        busy1, total1 = machine_busy()
        server = sum(proc_cpu(p) for p in self.server_pids) - server0
        db_cpu = None
        if self.db_pids:
            db_cpu = sum(proc_cpu(p) - db0.get(p, 0.0) for p in self.db_pids())
        return Phase(
            ok, seconds, server, client, db_cpu, (busy1 - busy0) / max(total1 - total0, 1e-9)
        )


# ---------------------------------------------------------------- databases and servers


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


def postgres_backends(admin_url: str, name: str) -> Any:
    """A callable listing the server pids of the connections to the bench database (they run on
    this machine: their CPU is read from /proc)."""
    import psycopg

    def pids() -> list[int]:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            return [
                int(p)
                for (p,) in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
                )
            ]

    return pids


def make_hub(url: str, tmp: Path, pool: int = 10) -> Hub:
    return Hub(
        Settings(
            database_url=url,
            data_dir=tmp,
            secret_key="bench-secret-key-0123456789",
            db_pool_size=pool,
            _env_file=None,
        )
    )  # type: ignore[call-arg]


class NullHandler:
    """The do-nothing handler of the issue's scale figure: 250 without storing anything."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def server_process(url: str, tmp: str, port: int, workers: int, ready: Any, stop: Any) -> None:
    """One SMTP server process; several share the port (SO_REUSEPORT). An empty ``url`` serves
    the do-nothing handler."""
    from aiosmtpd.controller import Controller

    hub = make_hub(url, Path(tmp), pool=workers) if url else None
    if hub is None:
        controller: Controller = NullController(NullHandler(), hostname="127.0.0.1", port=port)
    else:
        controller = IntakeController(hub, "127.0.0.1", port, workers=workers, reuse_port=True)
    controller.start()
    ready.release()
    stop.wait()
    controller.stop()
    if hub is not None:
        batcher = controller.intake.batcher  # type: ignore[attr-defined]
        print(
            f"  server process {os.getpid()}: {batcher.items} messages in {batcher.batches} "
            f"batches ({batcher.items / max(batcher.batches, 1):.1f} per commit)",
            flush=True,
        )
        hub.engine.dispose()


def _null_controller() -> Any:
    from aiosmtpd.controller import Controller

    class _Null(Controller):
        def _create_server(self) -> Any:
            return self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=self.port, reuse_port=True
            )

        def _trigger_server(self) -> None:
            for _ in range(100):
                super()._trigger_server()
                if self._factory_invoked.is_set():
                    return

    return _Null


NullController = _null_controller()


def start_servers(
    url: str, tmp: Path, port: int, args: argparse.Namespace
) -> tuple[list[Any], Any]:
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Semaphore(0), ctx.Event()
    procs = [
        ctx.Process(target=server_process, args=(url, str(tmp), port, args.workers, ready, stop))
        for _ in range(args.processes)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    return procs, stop


def stop_servers(procs: list[Any], stop: Any) -> None:
    stop.set()
    for proc in procs:
        proc.join()


# ---------------------------------------------------------------- the runs


def baseline(tmp: Path, args: argparse.Namespace) -> None:
    """The same client against do-nothing aiosmtpd servers: the machine's ceiling right now."""
    port = free_port()
    procs, stop = start_servers("", tmp, port, args)
    try:
        raws = [
            (
                f"c{n}@customer.test",
                "support@bench.test",
                message(n, f"c{n}@customer.test", "support@bench.test", None)[1],
            )
            for n in range(args.messages)
        ]
        jobs = [(sender, to, dot_stuffed(raw)) for sender, to, raw in raws]
        phase = Meter([p.pid for p in procs]).run(port, jobs, args.concurrency)
        sequential = smtplib_rate(port, raws)
    finally:
        stop_servers(procs, stop)
    print(
        phase.line("baseline:", len(jobs)) + f" (do-nothing aiosmtpd handler, "
        f"{args.processes} processes, same client)"
    )
    print(
        f"baseline:          {sequential:.0f} msg/s from smtplib, one message after the other "
        f"with a connection each (to compare machines)"
    )


def smtplib_rate(port: int, jobs: list[tuple[str, str, bytes]]) -> float:
    """Messages per second sent by the standard library's client, one at a time, one connection
    each, to the same do-nothing servers: a second yardstick for the machine."""
    import smtplib

    start = time.perf_counter()
    for sender, to, raw in jobs:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail(sender, [to], raw)
    return len(jobs) / (time.perf_counter() - start)


def bench(url: str, tmp: Path, args: argparse.Namespace, backends: Any) -> None:
    upgrade(url)
    hub = make_hub(url, tmp)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    address = "support@bench.test"
    with hub.session() as s:
        tenant = identity.create_tenant(s, slug="bench", name="Bench")
        actor = system_actor(tenant.id)
        plugin_service.set_enabled(s, actor, "email", True)
        plugin_service.configure(
            s, actor, "email", settings={"addresses": [address]}, secrets={}, keyring=hub.keyring
        )
        # The operator's word stands for the verification mail (``hub channels verify``).
        channel_keys.mark_verified(s, tenant.id, "email", address)
        tenant_id = tenant.id
    half = args.messages // 2
    firsts = [(f"customer{n % 50}@customer.test", n) for n in range(half)]
    originals = [(sender, *message(n, sender, address, None)) for sender, n in firsts]
    jobs1 = [(sender, address, dot_stuffed(raw)) for sender, _, raw in originals]
    replies = [
        (sender, address, dot_stuffed(message(half + i, sender, address, mid)[1]))
        for i, (sender, mid, _) in enumerate(originals)
    ]
    port = free_port()
    # Sender authentication asks DNS for each message's SPF and DMARC records. With no network
    # here a local authoritative server answers, as a site's caching resolver would: the
    # customers' domain publishes SPF that passes for 127.0.0.1, and no DMARC record.
    with run_dns(ttl=300) as (zone, nameserver):  # a fixed zone, cached as a real one is
        zone.txt("customer.test", "v=spf1 ip4:127.0.0.1 -all")
        os.environ["HUB_DNS_NAMESERVERS"] = nameserver
        procs, stop = start_servers(url, tmp, port, args)
        try:
            meter = Meter([p.pid for p in procs], backends)
            p1 = meter.run(port, jobs1, args.concurrency)
            p2 = meter.run(port, replies, args.concurrency)
        finally:
            stop_servers(procs, stop)
        queries = len(zone.queries)
    print(
        f"DNS: {queries} queries answered by the local server ({queries / len(originals + replies):.1f} a message)"
    )
    with hub.session() as s:
        keys = s.scalar(
            select(func.count()).select_from(InboundKey).where(InboundKey.tenant_id == tenant_id)
        )
        tickets = s.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.tenant_id == tenant_id)
        )
        comments = s.scalar(
            select(func.count()).select_from(Comment).where(Comment.tenant_id == tenant_id)
        )
    dialect = hub.engine.dialect.name
    total = Phase(
        p1.ok + p2.ok,
        p1.seconds + p2.seconds,
        p1.server_cpu + p2.server_cpu,
        p1.client_cpu + p2.client_cpu,
        None if p1.db_cpu is None or p2.db_cpu is None else p1.db_cpu + p2.db_cpu,
        (p1.machine_busy * p1.seconds + p2.machine_busy * p2.seconds) / (p1.seconds + p2.seconds),
    )
    print(
        f"database: {dialect}; sessions at once: {args.concurrency}; server processes: "
        f"{args.processes} (each one storing thread, group commit); load average before: {load}"
    )
    print(p1.line("new conversations:", len(jobs1)))
    print(p2.line("replies:", len(replies)))
    print(
        total.line("total:", len(jobs1) + len(replies))
        + " (one SMTP session per message, counted at 250 = committed)"
    )
    expected = (len(jobs1) + len(replies), len(jobs1), len(replies))
    verdict = (
        "as expected"
        if (keys, tickets, comments) == expected
        else (f"WRONG: expected {expected[0]} keys, {expected[1]} tickets, {expected[2]} comments")
    )
    print(
        f"check: {keys} inbound keys, {tickets} tickets, {comments} comments in the database: "
        f"{verdict}"
    )
    hub.engine.dispose()
    if verdict != "as expected":
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16, help="SMTP sessions at once")
    parser.add_argument(
        "--workers",
        type=int,
        default=4,
        help="threads per server process for RCPT look-ups (the address book)",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also time a do-nothing aiosmtpd server with the same client",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="SMTP server processes sharing the port, as `hub smtp --processes N` "
        "runs them (default: one per CPU; `hub smtp` alone runs one)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-email-"))
    drop: tuple[str, str] | None = None
    backends = None
    url = args.database_url or f"sqlite:///{tmp / 'hub.sqlite3'}"
    if url.startswith("postgresql"):
        url, admin, name = fresh_postgres(url)
        drop = (admin, name)
        backends = postgres_backends(admin, name)
    try:
        if args.baseline:
            baseline(tmp, args)
        bench(url, tmp, args, backends)
    finally:
        if drop:
            drop_postgres(*drop)


if __name__ == "__main__":
    main()
