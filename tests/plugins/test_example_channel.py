"""The example channel of docs/examples/hook_channel: a plugin written on core.api alone, in four
files, works through the real hub: signed JSON in becomes a ticket and its comments, an agent's
reply goes back out to the tenant's callback, and nothing of core but core.api is imported."""

from __future__ import annotations

import ast
import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub import outbox
from hub.app import create_app
from hub.builtins import plugins as builtin_plugins
from hub.context import Hub
from hub.plugins import make_plugin_manager
from tests.conftest import TenantSet
from tests.hub.conftest import as_client

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
SECRET = "s3cret-of-the-example"


class Callback(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, Any], str | None]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Callback.received.append((json.loads(body), self.headers.get("Idempotency-Key")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def callback() -> Iterator[str]:
    Callback.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/replies"
    server.shutdown()
    server.server_close()


@pytest.fixture
def hook_hub(hub: Hub, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Hub:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import hook_channel.plugin

    pm = make_plugin_manager(extra=[*builtin_plugins(), ("hook", hook_channel.plugin)])
    return Hub(settings, pm=pm, engine=hub.engine)


@pytest.fixture
def hook_client(hook_hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hook_hub), raise_server_exceptions=False) as c:
        yield c


def _signed(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Signature": sig, "Content-Type": "application/json"}


def test_the_example_is_four_files_on_core_api_only() -> None:
    folder = EXAMPLES / "hook_channel"
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != "__init__.py")
    assert files == ["README.md", "plugin.py", "routes.py", "settings.py"]
    imported = {
        node.module
        for path in folder.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert {m for m in imported if m.split(".")[0] == "core"} == {"core.api"}
    assert not {m for m in imported if m.split(".")[0] in ("hub", "plugins")}


def test_a_conversation_becomes_a_ticket_and_the_reply_goes_back(
    hook_hub: Hub, hook_client: TestClient, org: TenantSet, callback: str
) -> None:
    admin, agent = as_client(org.admin, hook_client), as_client(org.agent, hook_client)
    assert admin.post("/api/v1/admin/plugins/hook/enable/").status_code == 200
    r = admin.patch(
        "/api/v1/admin/plugins/hook/",
        json={"settings": {"callback_url": callback, "secret": SECRET}},
    )
    assert r.status_code == 200, r.text

    first = {
        "id": "m1",
        "from": "jane@customer.test",
        "conversation": "c-42",
        "text": "Printer jam",
    }
    body, headers = _signed(first)
    r = hook_client.post("/plugins/hook/messages", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "ticket"
    ticket_id = r.json()["ticket_id"]

    # The same delivery again is a duplicate; the next message of the conversation a comment.
    assert hook_client.post("/plugins/hook/messages", content=body, headers=headers).json() == {
        "outcome": "duplicate",
        "ticket_id": ticket_id,
    }
    body2, headers2 = _signed({**first, "id": "m2", "text": "Still jammed"})
    r = hook_client.post("/plugins/hook/messages", content=body2, headers=headers2)
    assert r.json() == {"outcome": "comment", "ticket_id": ticket_id}

    # A forged signature is refused and stores nothing.
    r = hook_client.post(
        "/plugins/hook/messages", content=body2, headers={**headers2, "X-Signature": "sha256=00"}
    )
    assert r.status_code in (401, 403, 404), r.text

    # The agent answers from the API; the outbox delivers it to the callback, once.
    r = agent.post(f"/api/v1/support/tickets/{ticket_id}/comment/", json={"comment": "Try tray 2"})
    assert r.status_code == 201, r.text
    outbox.drain(hook_hub)
    outbox.drain(hook_hub)
    replies = [(p, key) for p, key in Callback.received if p["text"] == "Try tray 2"]
    assert len(replies) == 1
    payload, key = replies[0]
    assert payload == {"conversation": "c-42", "text": "Try tray 2", "ticket": ticket_id}
    assert key and key.startswith("hook-")
    # The customer's own messages were not echoed back to their channel.
    assert all(p["text"] == "Try tray 2" for p, _ in Callback.received)
