"""The hub as it runs in production, on several hosts of one machine: Linux network namespaces
(``tests/netns.py``) for two API hosts (each with the SMTP intake), two worker hosts, a beat host,
a database host (PostgreSQL, Redis and the tenant's mail relay) and a client, joined by veth
links to a bridge. The client spreads requests over both API hosts.

It shows: tickets and mail accepted on both API hosts; each notification delivered exactly once
in effect (one Message-ID per event, a resend after a crash repeating the same one) while a
worker host is killed and restarted mid-delivery; a plugin disabled on one host takes effect on
the other within the documented 5 seconds; a live stream on one API host sees a change made on
the other; one beat, whose periodic SLA sweep runs.

Needs root (CI runs as root): locally without it the test is skipped, in CI it fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import netns
from tests.private_servers import PrivatePostgres, PrivateRedis, pg_bindir
from tests.services import require

pytestmark = [pytest.mark.netns, pytest.mark.slow, pytest.mark.timeout(600)]
ROOT = Path(__file__).resolve().parents[1]
KEY = "multi-host-secret-key-0123456789"
SUPPORT = "support@acme.test"
API_PORT, SMTP_PORT, RELAY_PORT = 8000, 2525, 2526
PLUGIN_DELAY = 5.0  # docs/deploy.md: a plugin change applies on other hosts within 5 s


class Client:
    """The client host: JSON commands to ``tests.netns_agent client`` in its namespace."""

    def __init__(self, prefix: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "tests.netns_agent", "client"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )

    def call(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        assert "error" not in answer, answer
        return answer

    def http(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        return self.call(op="http", method=method, url=url, **kw)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.net = netns.Topology()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self.pg: PrivatePostgres | None = None
        self.redis: PrivateRedis | None = None
        self.client: Client | None = None
        self.relay_file = tmp / "relay.jsonl"

    def start(self) -> None:
        net = self.net
        db = net.add("db", 10)
        for n, host in ((11, "api1"), (12, "api2"), (21, "w1"), (22, "w2"), (30, "beat")):
            net.add(host, n)
        net.add("client", 40)
        bindir = pg_bindir()
        assert bindir is not None
        self.pg = PrivatePostgres(bindir, listen=db, netns=net.prefix("db"))
        self.pg.init()
        self.pg.start()
        self.redis = PrivateRedis(bind=db, netns=net.prefix("db"))
        self.redis.start()
        self.spawn(
            "relay",
            "db",
            [
                sys.executable,
                "-m",
                "tests.netns_agent",
                "relay",
                db,
                str(RELAY_PORT),
                str(self.relay_file),
                "1.0",
            ],
        )
        net.wait_port("client", db, RELAY_PORT)
        self.cli("api1", "migrate")

    @property
    def env(self) -> dict[str, str]:
        assert self.pg is not None and self.redis is not None
        clean = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        clean.update(
            PYTHONPATH=str(ROOT),
            HUB_DATABASE_URL=self.pg.url("postgres"),
            HUB_BROKER_URL=self.redis.url,
            HUB_DATA_DIR=str(self.tmp / "shared"),
            HUB_SECRET_KEY=KEY,
            HUB_BASE_URL=f"http://{self.net.hosts['api1']}:{API_PORT}",
            HUB_EGRESS_ALLOW=f"{netns.SUBNET}.0/24",
            HUB_OUTBOX_LEASE_SECONDS="3",
            HUB_LOG_FORMAT="json",
            HUB_LOG_LEVEL="INFO",
        )
        return clean

    def cli(self, host: str, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [*self.net.prefix(host), sys.executable, "-m", "hub.cli", *args],
            env={**self.env, **(env or {})},
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"hub {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def spawn(self, name: str, host: str, argv: list[str]) -> None:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        with open(log, "ab") as out:
            self.procs[name] = subprocess.Popen(
                [*self.net.prefix(host), *argv],
                env=self.env,
                cwd=self.tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def hub(self, name: str, host: str, *args: str) -> None:
        self.spawn(name, host, [sys.executable, "-m", "hub.cli", *args])

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def close(self) -> None:
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if self.client is not None:
            self.client.close()
        if self.redis is not None:
            self.redis.cleanup()
        if self.pg is not None:
            self.pg.cleanup()
        self.net.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    reason = netns.available()
    require(reason is None, reason or "")
    require(pg_bindir() is not None, "no PostgreSQL server binaries")
    require(PrivateRedis().binary is not None, "no redis-server")
    c = Cluster(tmp_path)
    try:
        c.start()
        yield c
    finally:
        c.close()


def _wait(predicate, timeout: float, step: float = 0.3) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def _relayed(cluster: Cluster) -> list[str]:
    if not cluster.relay_file.exists():
        return []
    return [json.loads(line)["message_id"] for line in cluster.relay_file.read_text().splitlines()]


def test_several_hosts(cluster: Cluster) -> None:
    hosts = cluster.net.hosts
    api = {name: f"http://{hosts[name]}:{API_PORT}" for name in ("api1", "api2")}
    slug = f"acme-{uuid.uuid4().hex[:4]}"
    cluster.cli("api1", "tenant", "create", slug, "--name", "Acme")
    password = "a long multi host password 42"
    admin = "admin@acme.test"
    cluster.cli(
        "api1", "user", "create", "--tenant", slug, "--email", admin, "--role", "admin",
        "--password", password,
    )  # fmt: skip
    token = cluster.cli("api1", "token", "create", "--tenant", slug, "--email", admin).strip()
    cluster.cli("api1", "plugins", "enable", "email", "--tenant", slug)
    cluster.cli(
        "api1", "plugins", "configure", "email", "--tenant", slug,
        f'addresses=["{SUPPORT}"]', f"relay_host={hosts['db']}", f"relay_port={RELAY_PORT}",
        "relay_tls=none",
    )  # fmt: skip
    cluster.cli("api1", "channels", "verify", "email", SUPPORT, "--tenant", slug)

    for name in ("api1", "api2"):
        cluster.hub(name, name, "serve", "--host", hosts[name], "--port", str(API_PORT))
        cluster.hub(f"smtp-{name}", name, "smtp", "--host", hosts[name], "--port", str(SMTP_PORT))
    cluster.hub("w1", "w1", "worker", "--concurrency", "1", "--queues", "delivery")
    cluster.hub("w2", "w2", "worker", "--concurrency", "1", "--queues", "delivery")
    cluster.hub("beat", "beat", "worker", "--beat", "--concurrency", "1", "--queues", "automation")
    for name in ("api1", "api2"):
        cluster.net.wait_port("client", hosts[name], API_PORT, timeout=90)
        cluster.net.wait_port("client", hosts[name], SMTP_PORT, timeout=90)
    client = cluster.client = Client(cluster.net.prefix("client"), cluster.env)
    auth = {"Authorization": f"Bearer {token}"}

    # 1. Tickets and mail accepted on both API hosts (the client spreads its requests).
    made: list[int] = []
    for n in range(6):
        target = api["api1" if n % 2 == 0 else "api2"]
        answer = client.http(
            "POST",
            f"{target}/api/v1/support/tickets/",
            headers=auth,
            json={
                "subject": f"API ticket {n}",
                "description": "on two hosts",
                "requester_email": f"requester{n}@customer.test",
            },
        )
        assert answer["status"] == 201, answer
        made.append(answer["body"]["id"])
    for n, name in enumerate(("api1", "api2", "api1", "api2")):
        sent = client.call(
            op="smtp",
            host=hosts[name],
            port=SMTP_PORT,
            to=SUPPORT,
            subject=f"Mail ticket {n}",
            body="by mail",
            message_id=f"<mail-{n}-{uuid.uuid4().hex}@customer.test>",
            **{"from": f"customer{n}@customer.test"},
        )
        assert sent["refused"] == []

    def all_tickets() -> list[dict[str, Any]]:
        answer = client.http("GET", f"{api['api2']}/api/v1/support/tickets/?limit=50", headers=auth)
        assert answer["status"] == 200, answer
        return list(answer["body"]["results"])

    assert _wait(lambda: len(all_tickets()) == 10, 60), all_tickets()
    tickets = {t["id"] for t in all_tickets()}

    # 2. Every ticket's notification reaches the relay, exactly once in effect, while a worker
    #    host is killed mid-delivery (the relay holds each message a second) and restarted.
    assert _wait(lambda: len(_relayed(cluster)) >= 1, 90), cluster.log("w1") + cluster.log("w2")
    cluster.kill("w1")
    time.sleep(1.0)
    cluster.hub("w1", "w1", "worker", "--concurrency", "1", "--queues", "delivery")

    def delivered_tickets() -> set[int]:
        return {int(mid.strip("<>").split(".")[1]) for mid in _relayed(cluster)}

    assert _wait(lambda: delivered_tickets() >= tickets, 180), (
        sorted(tickets - delivered_tickets()),
        cluster.log("w1")[-3000:],
        cluster.log("w2")[-3000:],
    )
    ids = _relayed(cluster)
    per_ticket: dict[int, set[str]] = {}
    for mid in ids:
        per_ticket.setdefault(int(mid.strip("<>").split(".")[1]), set()).add(mid)
    assert all(len(v) == 1 for v in per_ticket.values()), per_ticket  # one event, one message
    # Both worker hosts did delivery work.
    assert '"outbox delivery"' in cluster.log("w1") + cluster.log("w2")

    # 3. A plugin disabled on api1 takes effect on api2 within the documented time.
    parked = f"{api['api2']}/plugins/email/parked/"
    assert client.http("GET", parked, headers=auth)["status"] == 200
    off = client.http("POST", f"{api['api1']}/api/v1/admin/plugins/email/disable/", headers=auth)
    assert off["status"] == 200, off
    started = time.monotonic()
    assert _wait(lambda: client.http("GET", parked, headers=auth)["status"] == 404, 15)
    assert time.monotonic() - started <= PLUGIN_DELAY + 1.5
    on = client.http("POST", f"{api['api2']}/api/v1/admin/plugins/email/enable/", headers=auth)
    assert on["status"] == 200

    # 4. A live stream on api2 sees a ticket created on api1.
    signed = client.http(
        "POST",
        f"{api['api2']}/api/v1/auth/login",
        json={"email": admin, "password": password, "tenant": slug},
    )
    assert signed["status"] == 200, signed
    client.call(op="stream", name="live", url=f"{api['api2']}/events", cookies=signed["cookies"],
                seconds=30)  # fmt: skip

    def states() -> list[str]:
        return [
            ln for ln in client.call(op="lines", name="live")["lines"] if ln.startswith("data:")
        ]

    assert _wait(lambda: len(states()) >= 1, 20), client.call(op="lines", name="live")
    first = states()[0]
    created = client.http(
        "POST",
        f"{api['api1']}/api/v1/support/tickets/",
        headers=auth,
        json={"subject": "Seen live elsewhere", "description": "from api1"},
    )
    assert created["status"] == 201
    assert _wait(lambda: len(states()) >= 2 and states()[-1] != first, 20), states()

    # 5. One beat, and its schedule runs (the SLA sweep, every minute); no other process
    #    schedules.
    assert _wait(lambda: '"periodic:sla.sweep"' in cluster.log("beat"), 120), cluster.log("beat")
    beats = [n for n in cluster.procs if "beat" in n]
    assert beats == ["beat"]
    for name in ("api1", "api2", "w1", "w2"):
        assert "beat: Starting" not in cluster.log(name)
    assert client.http("GET", f"{api['api1']}/readyz")["status"] == 200
