"""Structured logs of real requests, inbound messages, outbox deliveries, SLA sweeps and Celery
tasks: one access line per request with its request id, route template, tenant and user; stdlib
lines in the same shape; never a secret or a message body."""

from __future__ import annotations

import logging
import uuid

import pytest

from core.intake import InboundMessage
from core.services import identity
from hub import outbox
from hub.worker import PERIODIC, create_celery
from tests.logs import captured_logs

PASSWORD = "correct horse battery staple 42"


def test_access_line_per_request_with_request_id_tenant_and_user(org, client) -> None:  # type: ignore[no-untyped-def]
    agent = org.agent
    with captured_logs() as logs:
        created = client.post(
            "/api/v1/support/tickets/",
            json={"subject": "Printer on fire", "description": "smoke everywhere"},
            headers={**agent.headers, "X-Request-ID": "req-123.abc"},
        )
        assert created.status_code == 201, created.text
        ticket_id = created.json()["id"]
        shown = agent.get(f"/api/v1/support/tickets/{ticket_id}/")
        missing = client.get("/no/such/page")
    assert created.headers["x-request-id"] == "req-123.abc"
    assert shown.status_code == 200
    generated = shown.headers["x-request-id"]
    assert generated and generated != "req-123.abc"

    [post] = logs.lines("request", method="POST", request_id="req-123.abc")
    assert post["route"] == "/api/v1/support/tickets/"
    assert post["status"] == 201
    assert post["tenant"] == str(org.tenant[0]) and post["user"] == agent.user_id
    assert post["duration_ms"] >= 0 and post["level"] == "info" and post["timestamp"]
    [get] = logs.lines("request", request_id=generated)
    assert get["route"] == "/api/v1/support/tickets/{ticket_id}/", "the template, not the path"
    [unmatched] = logs.lines("request", request_id=missing.headers["x-request-id"])
    assert unmatched["route"] == "<unmatched>" and unmatched["status"] == 404


def test_plain_routes_and_static_files_are_named_by_template(client) -> None:  # type: ignore[no-untyped-def]
    with captured_logs() as logs:
        doc = client.get("/openapi.json")
        asset = client.get("/docs-assets/swagger-ui.css")
    assert doc.status_code == 200 and asset.status_code == 200
    [line] = logs.lines("request", request_id=doc.headers["x-request-id"])
    assert line["route"] == "/openapi.json"
    [line] = logs.lines("request", request_id=asset.headers["x-request-id"])
    assert line["route"] == "/docs-assets/{path}"


def test_an_implausible_request_id_is_replaced(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces" + "x" * 200})
    assert answer.status_code == 200
    given = answer.headers["x-request-id"]
    assert " " not in given and len(given) <= 128


def test_stdlib_logging_comes_out_structured_with_the_request_id(client) -> None:  # type: ignore[no-untyped-def]
    with captured_logs() as logs:
        logging.getLogger("plugins.example").warning("a plain %s line", "stdlib")
    [line] = logs.lines("a plain stdlib line")
    assert line["logger"] == "plugins.example" and line["level"] == "warning"


def test_no_token_password_or_body_in_the_log_of_real_requests(hub, org, client) -> None:  # type: ignore[no-untyped-def]
    tenant_id, slug = org.tenant
    email = f"pw-{uuid.uuid4().hex[:6]}@example.com"
    with hub.session() as s:
        user = identity.ensure_user(s, email=email, password=PASSWORD)
        identity.ensure_member(s, tenant_id, user, "agent")
    secret_subject = f"Secret subject {uuid.uuid4().hex}"
    with captured_logs("DEBUG") as logs:
        signed_in = client.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD, "tenant": slug}
        )
        assert signed_in.status_code == 200, signed_in.text
        wrong = client.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD + "x", "tenant": slug}
        )
        assert wrong.status_code == 401
        made = org.agent.post(
            "/api/v1/support/tickets/",
            json={"subject": secret_subject, "description": "the body " + PASSWORD},
        )
        assert made.status_code == 201
        assert org.agent.get("/api/v1/support/tickets/?q=horse").status_code == 200
        bogus = client.get("/api/v1/me", headers={"Authorization": "Bearer hub_not-a-real-token"})
        assert bogus.status_code == 401
    text = logs.text
    assert logs.lines("request"), "the requests were logged"
    assert PASSWORD not in text
    assert org.agent.token not in text
    assert "hub_not-a-real-token" not in text
    assert secret_subject not in text
    for cookie in signed_in.cookies.values():
        assert cookie not in text


def test_a_line_per_inbound_message_with_outcome_and_reason(hub, org) -> None:  # type: ignore[no-untyped-def]
    tenant_id = org.tenant[0]
    body = f"my body text {uuid.uuid4().hex}"
    message = InboundMessage(
        channel="email",
        dedupe_key=uuid.uuid4().hex,
        sender_email="jane@customer.test",
        subject="Help",
        body=body,
    )
    with captured_logs() as logs:
        first = hub.ingest(tenant_id, message)
        again = hub.ingest(tenant_id, message)
    assert first.outcome == "ticket" and again.outcome == "duplicate"
    lines = logs.lines("inbound message", channel="email", tenant=str(tenant_id))
    assert [line["outcome"] for line in lines] == ["ticket", "duplicate"]
    assert lines[0]["ticket"] == first.ticket_id
    assert "reason" in lines[0]
    assert body not in logs.text


def test_a_line_per_outbox_delivery_sla_sweep_and_celery_task(hub, org) -> None:  # type: ignore[no-untyped-def]
    tenant_id = org.tenant[0]
    body = f"delivery body {uuid.uuid4().hex}"
    with captured_logs() as logs:
        made = hub.ingest(
            tenant_id,
            InboundMessage(
                channel="email",
                dedupe_key=uuid.uuid4().hex,
                sender_email="jane@customer.test",
                subject="Logged work",
                body=body,
            ),
        )
        assert outbox.drain(hub) >= 1
        create_celery(hub).tasks[PERIODIC]("sla.sweep")
    deliveries = logs.lines("outbox delivery", tenant=str(tenant_id), status="delivered")
    assert deliveries and {"event_id", "event_type", "duration_ms"} <= set(deliveries[0])
    assert "ticket.created" in {line["event_type"] for line in deliveries}
    sweeps = logs.lines("sla sweep")
    assert len(sweeps) == 1 and {"checked", "warnings", "breaches", "duration_ms"} <= set(sweeps[0])
    tasks = logs.lines("task", task="periodic:sla.sweep", state="success")
    assert len(tasks) == 1 and tasks[0]["duration_ms"] >= 0
    assert made.ticket_id is not None
    assert body not in logs.text


def test_console_format_is_readable_and_the_level_filters(hub, org) -> None:  # type: ignore[no-untyped-def]
    import io
    import json
    import sys

    from hub import log_config, metrics

    stream = io.StringIO()
    log_config.configure("console", "WARNING", stream=stream, force=True)
    try:
        metrics.observe_delivery(7, org.tenant[0], "ticket.created", "delivered", 0.01)
        metrics.observe_intake_error(org.tenant[0], "email", RuntimeError("x"))
    finally:
        log_config.configure("", "INFO", stream=sys.stderr, force=True)
    lines = stream.getvalue().splitlines()
    # HUB_LOG_LEVEL=WARNING: the info line is dropped, the warning is one readable line.
    assert len(lines) == 1, lines
    assert "inbound message failed" in lines[0] and "channel=email" in lines[0]
    with pytest.raises(ValueError):
        json.loads(lines[0])
