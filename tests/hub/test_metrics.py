"""/metrics after real work: requests by route template and status, inbound messages by channel
and outcome, the outbox's depth and deliveries, SLA sweeps and Celery tasks; behind a token
(404 without the setting); summed over processes with PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from core.intake import InboundMessage
from hub import outbox
from hub.app import create_app
from hub.context import Hub
from hub.worker import PERIODIC, create_celery

TOKEN = "metrics-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mhub(hub: Hub, settings) -> Hub:  # type: ignore[no-untyped-def]
    return Hub(settings.model_copy(update={"metrics_token": TOKEN}), engine=hub.engine)


@pytest.fixture
def mclient(mhub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(mhub), raise_server_exceptions=False) as c:
        yield c


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(values, name: str, **labels: str) -> float:  # type: ignore[no-untyped-def]
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_token_and_are_absent_without_the_setting(client, mclient) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    assert mclient.get("/metrics").status_code == 401
    assert mclient.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "/metrics" not in mclient.get("/openapi.json").json()["paths"]


def test_requests_intake_outbox_sweep_and_tasks_after_real_work(mhub, mclient, org) -> None:  # type: ignore[no-untyped-def]
    route = "/api/v1/support/tickets/{ticket_id}/"
    before = scrape(mclient)
    headers = {"Authorization": f"Bearer {org.agent.token}"}
    made = mclient.post(
        "/api/v1/support/tickets/",
        headers=headers,
        json={"subject": "Metrics", "description": "count me"},
    )
    assert made.status_code == 201
    for _ in range(3):
        assert mclient.get(f"/api/v1/support/tickets/{made.json()['id']}/", headers=headers)
    assert mclient.get("/api/v1/support/tickets/999999/", headers=headers).status_code == 404
    mhub.ingest(
        org.tenant[0],
        InboundMessage(
            channel="email",
            dedupe_key=uuid.uuid4().hex,
            sender_email="jane@customer.test",
            subject="By mail",
            body="hello",
        ),
    )
    queued = scrape(mclient)
    assert queued[("hub_outbox_pending", ())] >= 1
    assert queued[("hub_outbox_oldest_pending_age_seconds", ())] >= 0

    outbox.drain(mhub)
    create_celery(mhub).tasks[PERIODIC]("sla.sweep")
    after = scrape(mclient)

    def grew(name: str, by: float = 1, **labels: str) -> bool:
        return value(after, name, **labels) - value(before, name, **labels) >= by

    assert grew("hub_http_requests_total", 3, method="GET", route=route, status="200")
    assert grew("hub_http_requests_total", 1, method="GET", route=route, status="404")
    assert grew(
        "hub_http_requests_total", 1, method="POST", route="/api/v1/support/tickets/", status="201"
    )
    assert grew("hub_http_request_duration_seconds_count", 4, method="GET", route=route)
    assert grew("hub_intake_messages_total", 1, channel="email", outcome="ticket")
    assert grew("hub_outbox_deliveries_total", 1, status="delivered")
    assert after[("hub_outbox_pending", ())] == 0
    assert grew("hub_sla_sweep_duration_seconds_count", 1)
    assert grew("hub_celery_tasks_total", 1, task="periodic:sla.sweep", state="success")


MULTIPROCESS = """
import sys
from hub import metrics
for _ in range(int(sys.argv[1])):
    metrics.observe_request("GET", "/x", 200, 0.01, request_id="r", tenant=None, user=None)
"""


def test_several_processes_add_up_with_prometheus_multiproc_dir(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for count in ("2", "3"):
        subprocess.run([sys.executable, "-c", MULTIPROCESS, count], env=env, check=True, timeout=60)
    read = (
        "from hub import metrics; import sys; sys.stdout.write(metrics.process_metrics().decode())"
    )
    out = subprocess.run(
        [sys.executable, "-c", read],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(out)
        for s in f.samples
    }
    key = ("hub_http_requests_total", (("method", "GET"), ("route", "/x"), ("status", "200")))
    assert samples[key] == 5


def test_a_metrics_port_of_its_own_for_workers_and_smtp_hosts(hub: Hub) -> None:
    import httpx

    from hub import metrics
    from tests.services import free_port

    port = free_port()
    metrics.observe_sweep(0.01, checked=1, warnings=0, breaches=1)
    server = metrics.serve_port("127.0.0.1", port, hub)
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    finally:
        server.shutdown()
    assert answer.status_code == 200
    names = {f.name for f in text_string_to_metric_families(answer.text)}
    assert {"hub_sla_events", "hub_outbox_pending", "hub_celery_tasks"} <= names
