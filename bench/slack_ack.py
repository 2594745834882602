"""Slack request URL benchmark: acknowledgement latency and end-to-end intake throughput.

Builds a hub on a scratch database with ``--tenants`` tenants that each bind a workspace, a fake
Slack Web API on 127.0.0.1, then POSTs ``--events`` signed DM events (spread over the workspaces)
to ``/plugins/slack/events`` through the ASGI app. Reports the acknowledgement latency (what
Slack's 3-second limit applies to) and the time until every ticket is stored and answered.

    .venv/bin/python bench/slack_ack.py                        # SQLite, 20 tenants, 300 events
    .venv/bin/python bench/slack_ack.py --db postgres --tenants 50 --events 1000

Prints figures; never fails on a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ itself is first on sys.path; its modules (bench/email.py) would shadow
# the standard library's, so it is replaced by the repository root.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from fastapi.testclient import TestClient  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.common import drop_database, fresh_database  # noqa: E402
from core.models import Ticket  # noqa: E402
from core.permissions import system_actor  # noqa: E402
from core.services import identity  # noqa: E402
from core.services import plugins as plugin_service  # noqa: E402
from hub import plugin_admin  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.context import Hub  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.settings import Settings  # noqa: E402
from plugins.slack.worker import WORKER  # noqa: E402
from tests.conftest import FAKES_EGRESS_ALLOW  # noqa: E402
from tests.plugins.slack.fake_slack import FakeSlack  # noqa: E402

PG_ADMIN = os.environ.get("HUB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        admin = PG_ADMIN if args.db == "postgres" else None
        url = fresh_database(admin, "hub_bench_slack")
        try:
            run(url, tmp, args.tenants, args.events, args.db)
        finally:
            drop_database(url, admin)


def run(url: str, tmp: Path, tenants: int, events: int, db: str) -> None:
    upgrade(url)
    hub = Hub(
        Settings(
            database_url=url,
            data_dir=tmp / "data",
            secret_key="bench-secret-key-0123",
            base_url="http://hub.bench",
            # The fake vendors listen on loopback, standing in for the vendors' own hosts.
            egress_allow=FAKES_EGRESS_ALLOW,
            egress_allow_vendor_override=True,
            _env_file=None,
        )
    )  # type: ignore[call-arg]
    fakes = []
    secrets = {}
    for i in range(tenants):
        team = f"TB{i:04d}"
        fake = FakeSlack(team=team, bot_user_id=f"UBOT{i}").start()
        fake.add_user("U0REQ", f"req{i}@bench.example", "Requester")
        fakes.append(fake)
        secrets[team] = f"secret-{i}"
        with hub.session() as s:
            tenant = identity.create_tenant(s, slug=f"bench-{i}", name=f"Bench {i}")
            actor = system_actor(tenant.id)
            # Through the admin path, which also claims the workspace (a channel key).
            plugin_admin.configure(
                hub,
                s,
                actor,
                "slack",
                {
                    "team_id": team,
                    "api_base_url": fake.base_url,
                    "triage_channel": "",
                    "bot_token": f"xoxb-{i}",
                    "signing_secret": secrets[team],
                },
            )
            plugin_service.set_enabled(s, actor, "slack", True)
    app = create_app(hub)
    latencies = []
    with TestClient(app) as client:
        started = time.perf_counter()
        for n in range(events):
            team = f"TB{n % tenants:04d}"
            ts = f"1700{n:06d}.000100"
            body = json.dumps(
                {
                    "team_id": team,
                    "type": "event_callback",
                    "event_id": f"Ev{n}",
                    "event": {
                        "type": "message",
                        "channel_type": "im",
                        "channel": "D1",
                        "user": "U0REQ",
                        "ts": ts,
                        "text": f"bench message {n}",
                    },
                }
            )
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": SignatureVerifier(secrets[team]).generate_signature(
                    timestamp=stamp, body=body
                )
                or "",
            }
            t0 = time.perf_counter()
            r = client.post("/plugins/slack/events", content=body.encode(), headers=headers)
            latencies.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
        acked = time.perf_counter() - started
        WORKER.wait(600)
        done = time.perf_counter() - started
    with hub.session() as s:
        stored = s.scalar(select(func.count()).select_from(Ticket))
    answered = sum(len(f.of("chat.postMessage")) for f in fakes)
    for fake in fakes:
        fake.stop()
    ms = sorted(x * 1000 for x in latencies)
    print(f"slack intake on {db}: {tenants} tenants, {events} signed DM events")
    print(
        f"  ack latency ms: p50 {statistics.median(ms):.1f}  p95 {ms[int(len(ms) * 0.95) - 1]:.1f}"
        f"  max {ms[-1]:.1f}"
    )
    print(
        f"  all acknowledged in {acked:.2f} s; all stored and answered in {done:.2f} s "
        f"({events / done:.0f} events/s)"
    )
    print(f"  tickets stored {stored}, bot answers {answered}")


if __name__ == "__main__":
    main()
