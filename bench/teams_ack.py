"""Teams intake benchmark: answer latency of the bot endpoint and the outgoing webhook.

Builds a hub on a scratch database with ``--tenants`` tenants, each bound to its own bot (a fake
OpenID/JWKS, token endpoint and Bot Connector on 127.0.0.1 per tenant), then POSTs ``--events``
personal-chat activities with signed JWTs to ``/plugins/teams/messages`` and as many HMAC-signed
outgoing-webhook messages to ``/plugins/teams/webhook``, through the ASGI app. Both are processed
before the answer (Teams waits 15 s for a bot, 5 s for an outgoing webhook), so the latency is the
whole intake: token check, member lookup (first time per user), ticket write. Then the outbox
delivers the acknowledgements through the fake Bot Connector.

    .venv/bin/python bench/teams_ack.py                        # SQLite, 10 tenants, 200 events
    .venv/bin/python bench/teams_ack.py --db postgres --tenants 20 --events 1000

Prints figures; never fails on a timing.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# Run as a script, bench/ itself is first on sys.path; its modules (bench/email.py) would shadow
# the standard library's, so it is replaced by the repository root.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.common import drop_database, fresh_database  # noqa: E402
from core.models import Ticket  # noqa: E402
from core.permissions import system_actor  # noqa: E402
from core.services import identity  # noqa: E402
from core.services import plugins as plugin_service  # noqa: E402
from hub import outbox, plugin_admin  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.context import Hub  # noqa: E402
from hub.migrate import upgrade  # noqa: E402
from hub.settings import Settings  # noqa: E402
from tests.conftest import FAKES_EGRESS_ALLOW  # noqa: E402
from tests.plugins.teams.fake_teams import FakeTeams  # noqa: E402

PG_ADMIN = os.environ.get("HUB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
USERS = 50


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        admin = PG_ADMIN if args.db == "postgres" else None
        url = fresh_database(admin, "hub_bench_teams")
        try:
            run(url, tmp, args.tenants, args.events, args.db)
        finally:
            drop_database(url, admin)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * q) - 1, 0)]


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
    fakes: list[FakeTeams] = []
    secrets: list[bytes] = []
    for i in range(tenants):
        fake = FakeTeams(app_id=f"bench-app-{i}", app_password=f"pw-{i}").start()
        for u in range(USERS):
            fake.members[f"29:u{u}"] = {
                "id": f"29:u{u}",
                "name": f"User {u}",
                "email": f"user{u}@t{i}.bench.example",
            }
        fakes.append(fake)
        secrets.append(f"webhook-key-{i}".encode())
        with hub.session() as s:
            tenant = identity.create_tenant(s, slug=f"bench-{i}", name=f"Bench {i}")
            actor = system_actor(tenant.id)
            # Through the admin path, which also claims the bot's app id (a channel key).
            plugin_admin.configure(
                hub,
                s,
                actor,
                "teams",
                {
                    "app_id": fake.app_id,
                    "login_url": fake.login_url,
                    "openid_metadata_url": fake.openid_url,
                    "triage_conversation": "",
                    "app_password": fake.app_password,
                    "outgoing_webhook_secret": base64.b64encode(secrets[i]).decode(),
                },
            )
            plugin_service.set_enabled(s, actor, "teams", True)
    app = create_app(hub)
    bot_ms: list[float] = []
    hook_ms: list[float] = []
    with TestClient(app) as client:
        started = time.perf_counter()
        for n in range(events):
            fake = fakes[n % tenants]
            activity = {
                "type": "message",
                "id": f"17000{n:08d}",
                "channelId": "msteams",
                "serviceUrl": fake.service_url,
                "text": f"bench message {n}",
                "from": {"id": f"29:u{n % USERS}", "aadObjectId": str(uuid.uuid4())},
                "recipient": {"id": f"28:{fake.app_id}"},
                "conversation": {
                    "id": f"a:conv-{n}",
                    "conversationType": "personal",
                    "tenantId": "bench-entra",
                },
            }
            headers = {
                "Authorization": f"Bearer {fake.token()}",
                "Content-Type": "application/json",
            }
            t0 = time.perf_counter()
            r = client.post(
                "/plugins/teams/messages", content=json.dumps(activity).encode(), headers=headers
            )
            bot_ms.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
        bot_done = time.perf_counter() - started
        started = time.perf_counter()
        for n in range(events):
            i = n % tenants
            body = json.dumps(
                {
                    "type": "message",
                    "id": f"18000{n:08d}",
                    "serviceUrl": fakes[i].service_url,
                    "text": f"<at>Help</at> hook {n}",
                    "from": {"id": f"29:w{n}", "aadObjectId": str(uuid.uuid4())},
                    "conversation": {
                        "id": f"19:c@thread.tacv2;messageid={n}",
                        "conversationType": "channel",
                        "tenantId": "bench-entra",
                    },
                }
            ).encode()
            sig = base64.b64encode(hmac.new(secrets[i], body, hashlib.sha256).digest()).decode()
            t0 = time.perf_counter()
            r = client.post(
                "/plugins/teams/webhook",
                content=body,
                headers={"Authorization": f"HMAC {sig}", "Content-Type": "application/json"},
            )
            hook_ms.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200 and "Created ticket" in r.text, r.text
        hook_done = time.perf_counter() - started
        started = time.perf_counter()
        delivered = outbox.drain(hub, rounds=10_000)
        drained = time.perf_counter() - started
    with hub.session() as s:
        stored = s.scalar(select(func.count()).select_from(Ticket))
    acks = sum(len(f.of("send")) for f in fakes)
    tokens = sum(len(f.of("token")) for f in fakes)
    for fake in fakes:
        fake.stop()
    print(
        f"teams intake on {db}: {tenants} tenants, {events} bot activities + {events} "
        f"outgoing-webhook messages"
    )
    for label, ms, total in (
        ("bot /messages", bot_ms, bot_done),
        ("outgoing webhook", hook_ms, hook_done),
    ):
        print(
            f"  {label}: answer ms p50 {statistics.median(ms):.1f}  p95 {pct(ms, 0.95):.1f}  "
            f"max {max(ms):.1f}  ({events / total:.0f}/s)"
        )
    print(
        f"  tickets stored {stored}; outbox rows {delivered} delivered in {drained:.2f} s; "
        f"acknowledgements posted {acks} with {tokens} bot token requests"
    )


if __name__ == "__main__":
    main()
