"""Request bodies are capped per route before they are read, API writes authenticate before their
body is read, and sign-in takes as long for an unknown address as for a known one."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

from fastapi.testclient import TestClient

from hub.api.limits import JSON_MAX_BYTES
from hub.app import create_app
from hub.context import Hub

HUNDRED_MB = 100 * 1024 * 1024


class Body:
    """An ASGI receive() that streams ``total`` bytes in chunks and counts what was read."""

    def __init__(self, total: int | None, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.read = total, chunk, 0

    async def __call__(self) -> dict[str, Any]:
        if self.total is not None and self.read >= self.total:
            await asyncio.sleep(3600)  # a client that sent everything and waits
        size = self.chunk if self.total is None else min(self.chunk, self.total - self.read)
        self.read += size
        more = self.total is None or self.read < self.total
        return {"type": "http.request", "body": b"x" * size, "more_body": more}


def call(
    app: Any, method: str, path: str, body: Body, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """One request straight through the ASGI app (a body TestClient would send whole)."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("hub.test", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }

    async def run() -> None:
        await asyncio.wait_for(app(scope, body, send), timeout=60)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    hdrs = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], hdrs, payload


def test_unauthenticated_100mb_json_is_refused_unread(app) -> None:  # type: ignore[no-untyped-def]
    body = Body(HUNDRED_MB)
    status, _, payload = call(
        app,
        "POST",
        "/api/v1/support/tickets/",
        body,
        {"content-type": "application/json", "content-length": str(HUNDRED_MB)},
    )
    assert status == 413 and body.read == 0, (status, body.read)
    assert "bytes" in json.loads(payload)["detail"]
    # Small enough to pass the cap, still unauthenticated: 401 before a byte is read.
    body = Body(50_000)
    status, headers, payload = call(
        app,
        "POST",
        "/api/v1/support/tickets/",
        body,
        {"content-type": "application/json", "content-length": "50000"},
    )
    assert status == 401 and body.read == 0, (status, body.read)
    assert json.loads(payload)["detail"] and headers.get("www-authenticate") == "Bearer"
    # A wrong token is no better.
    body = Body(50_000)
    status, _, _ = call(
        app,
        "POST",
        "/api/v1/support/tickets/",
        body,
        {
            "content-type": "application/json",
            "content-length": "50000",
            "authorization": "Bearer hub_not-a-real-token",
        },
    )
    assert status == 401 and body.read == 0


def test_authenticated_oversized_json_is_413_with_a_message(org, app) -> None:  # type: ignore[no-untyped-def]
    body = Body(HUNDRED_MB)
    status, _, payload = call(
        app,
        "POST",
        "/api/v1/support/kb/articles/",
        body,
        {
            "content-type": "application/json",
            "content-length": str(HUNDRED_MB),
            **org.agent.headers,
        },
    )
    assert status == 413 and body.read == 0
    detail = json.loads(payload)
    assert str(JSON_MAX_BYTES) in detail["detail"] and detail["max_bytes"] == JSON_MAX_BYTES
    # Chunked (no Content-Length): counted as it streams, refused once past the cap.
    endless = Body(None)
    status, _, payload = call(
        app,
        "POST",
        "/api/v1/support/kb/articles/",
        endless,
        {"content-type": "application/json", "transfer-encoding": "chunked", **org.agent.headers},
    )
    assert status == 413, payload
    assert JSON_MAX_BYTES < endless.read <= JSON_MAX_BYTES + 2 * endless.chunk


def test_uploads_get_the_attachment_cap_and_json_stays_small(org, settings) -> None:  # type: ignore[no-untyped-def]
    r = org.end_user.post(
        "/api/v1/support/tickets/",
        json={"subject": "Logs", "description": "attached", "category": "Technical Issue"},
    )
    tid = r.json()["id"]
    big = b"a" * settings.attachment_max_bytes  # the largest file the hub accepts
    assert len(big) >= JSON_MAX_BYTES  # so the multipart body is above the JSON cap
    r = org.end_user.post(
        f"/api/v1/support/tickets/{tid}/attachment/", files={"file": ("log.txt", big, "text/plain")}
    )
    assert r.status_code == 201, r.text
    r = org.end_user.client.post(
        "/api/v1/support/tickets/",
        content=json.dumps(
            {"subject": "x", "description": "y" * (JSON_MAX_BYTES + 10), "category": "Other"}
        ),
        headers={"content-type": "application/json", **org.end_user.headers},
    )
    assert r.status_code == 413 and "bytes" in r.json()["detail"]
    # Plugins' webhooks and web forms have the small cap too.
    r = org.end_user.client.post(
        "/plugins/jira/webhook",
        content=b"{" + b" " * JSON_MAX_BYTES + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


def _login_times(client, emails: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for email in emails:
        start = time.perf_counter()
        r = client.post("/api/v1/auth/login", json={"email": email, "password": "wrong-pass"})
        out.append(time.perf_counter() - start)
        assert r.status_code == 401 and r.json()["detail"] == "wrong email or password"
    return out


def test_sign_in_time_does_not_reveal_accounts(org, make_member, settings, hub) -> None:  # type: ignore[no-untyped-def]
    known = [
        make_member(org.tenant, "agent", password="the right password").email for _ in range(2)
    ]
    no_password = [make_member(org.tenant, "end_user").email for _ in range(3)]
    unknown = [f"nobody-{n}@example.com" for n in range(5)]
    # A hub of its own: a sign-in throttle, if any, counts only this test's few attempts
    # (each address fails at most twice).
    with TestClient(
        create_app(Hub(settings, engine=hub.engine)), raise_server_exceptions=False
    ) as client:
        _login_times(client, unknown[:1])  # warm up (the dummy hash is made on first use)
        with_account = statistics.median(_login_times(client, known * 2))
        without = statistics.median(_login_times(client, unknown[1:]))
        passwordless = statistics.median(_login_times(client, no_password))
    # argon2 dominates a sign-in; without the dummy hash an unknown address answers ~50x faster.
    assert without > 0.5 * with_account, (without, with_account)
    assert passwordless > 0.5 * with_account, (passwordless, with_account)
