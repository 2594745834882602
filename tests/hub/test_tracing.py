"""Optional tracing and error reporting (hub.tracing): off by default; with HUB_OTEL_ENDPOINT a
request's spans reach an OTLP/HTTP collector; with HUB_SENTRY_DSN an unhandled error reaches
Sentry with no secret in it. Both collectors are local servers written here."""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub import tracing
from hub.app import create_app
from hub.context import Hub
from hub.worker import PERIODIC, create_celery


class Collector:
    """A local HTTP server keeping every POST (path, decoded body)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    raw = gzip.decompress(raw)
                elif encoding == "deflate":
                    raw = zlib.decompress(raw)
                elif encoding == "br":  # sentry-sdk's choice when brotli is installed
                    import brotli

                    raw = brotli.decompress(raw)
                collector.posts.append((self.path, raw))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.stop()


def test_off_unless_configured(hub: Hub) -> None:
    assert tracing.tracer_provider(hub.settings) is None
    assert tracing.init_sentry(hub.settings) is False
    assert dict(tracing.status(hub.settings)) == {
        "tracing (OpenTelemetry)": "off (HUB_OTEL_ENDPOINT not set)",
        "error reporting (Sentry)": "off (HUB_SENTRY_DSN not set)",
    }


def test_a_request_sends_its_spans_to_the_otlp_endpoint(hub: Hub, collector: Collector) -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    traced = Hub(
        hub.settings.model_copy(update={"otel_endpoint": collector.url}),
        pm=hub.pm,
        engine=hub.engine,
    )
    app = create_app(traced)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/readyz").status_code in (200, 503)
        # A Celery task run the way a worker runs it, and an outbound httpx call.
        create_celery(traced).tasks[PERIODIC].apply(args=("sla.sweep",)).get()
        with httpx.Client() as outbound:
            assert outbound.post(f"{collector.url}/ping", content=b"x").status_code == 200
    finally:
        tracing.shutdown()  # exports what is buffered
        FastAPIInstrumentor.uninstrument_app(app)
        SQLAlchemyInstrumentor().uninstrument()
        CeleryInstrumentor().uninstrument()
    paths = {path for path, _ in collector.posts}
    assert paths == {"/v1/traces", "/ping"}, paths
    spans = []
    for path, body in collector.posts:
        if path != "/v1/traces":
            continue
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert service["service.name"] == "hub"
            for scope in resource.scope_spans:
                spans += [(scope.scope.name, s) for s in scope.spans]
    server = [
        s
        for scope, s in spans
        if "fastapi" in scope or "asgi" in scope
        if any(a.key == "http.route" and a.value.string_value == "/readyz" for a in s.attributes)
    ]
    assert server, [s.name for _, s in spans]
    # The readiness check's query is a child span of the same trace.
    queries = [s for scope, s in spans if "sqlalchemy" in scope]
    assert any(q.trace_id == server[0].trace_id for q in queries), [s.name for _, s in spans]
    scopes = {scope for scope, _ in spans}
    assert any("celery" in scope for scope in scopes), scopes
    assert any("httpx" in scope for scope in scopes), scopes


def test_an_unhandled_error_reaches_sentry_without_secrets(hub: Hub, collector: Collector) -> None:
    secret_token = "tok_live_abcdef0123456789"
    dsn = f"http://publickey@127.0.0.1:{collector.server.server_address[1]}/1"
    settings = hub.settings.model_copy(update={"sentry_dsn": dsn})
    reporting = Hub(settings, pm=hub.pm, engine=hub.engine)
    app = create_app(reporting)

    def boom(password: str = "") -> None:
        api_token = secret_token  # noqa: F841 - a local variable Sentry would show
        raise RuntimeError(f"could not reach the vendor with {settings.secret_key}")

    app.add_api_route("/boom-test", boom, methods=["GET"])
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.get(
                "/boom-test",
                params={"password": "hunter2-password"},
                headers={"Authorization": f"Bearer {secret_token}", "Cookie": "hub_session=s3cr3t"},
            )
        assert answer.status_code == 500
        assert answer.json() == {"detail": "internal error", "code": "internal"}
        import sentry_sdk

        sentry_sdk.flush(timeout=5)
        deadline = time.monotonic() + 5
        while not collector.posts and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        tracing.shutdown()
    events = []
    for path, body in collector.posts:
        assert path == "/api/1/envelope/", path
        for line in body.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and "exception" in item:
                events.append((item, line.decode()))
    assert events, collector.posts
    event, text = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    for secret in (secret_token, settings.secret_key, "hunter2-password", "s3cr3t", "publickey@"):
        assert secret not in text, secret


def test_hub_check_shows_whether_each_is_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from hub.cli import app as cli

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    monkeypatch.setenv("HUB_OTEL_ENDPOINT", "http://collector.example:4318")
    monkeypatch.setenv("HUB_SENTRY_DSN", "https://key@sentry.example/1")
    out = CliRunner().invoke(cli, ["check"]).output
    assert (
        "tracing (OpenTelemetry): on: OTLP/HTTP to http://collector.example:4318/v1/traces" in out
    )
    assert "error reporting (Sentry): on" in out
    assert "key@sentry.example" not in out  # the DSN is masked like any secret
    monkeypatch.delenv("HUB_OTEL_ENDPOINT")
    monkeypatch.delenv("HUB_SENTRY_DSN")
    out = CliRunner().invoke(cli, ["check"]).output
    assert "tracing (OpenTelemetry): off (HUB_OTEL_ENDPOINT not set)" in out
