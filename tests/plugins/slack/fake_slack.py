"""A fake Slack Web API on 127.0.0.1: records every call and answers in Slack's wire format.

slack_sdk's ``WebClient(base_url=...)`` talks to it over real HTTP (form, JSON and GET calls).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Call:
    """One Web API call as the fake received it."""

    method: str
    params: dict[str, Any]
    token: str | None
    answer: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Everything a person would read in the message: text and block texts."""
        blocks = self.params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return str(self.params.get("text", "")) + "\n" + json.dumps(blocks or [])


@dataclass
class FakeSlack:
    """The server's state: users it knows, calls it got, failures to inject."""

    team: str = "T111"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)  # method -> how many calls fail
    files: dict[str, bytes] = field(default_factory=dict)  # path -> content (url_private)
    gates: dict[str, threading.Event] = field(default_factory=dict)  # method -> hold until set
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    outside: set[str] = field(default_factory=set)  # channels the bot has not joined
    socket_url: str = ""  # what apps.connections.open hands out (a FakeSocketMode's URL)

    # ------------------------------------------------------------ control

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, params: dict[str, Any]) -> None:
                method = urlparse(self.path).path.rsplit("/", 1)[-1]
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ") if auth else params.get("token")
                status, body = fake.handle(method, params, token)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                if path.startswith("/files/"):
                    self._file(path)
                    return
                query = parse_qs(urlparse(self.path).query)
                self._answer({k: v[0] for k, v in query.items()})

            def _file(self, path: str) -> None:
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                with fake._lock:
                    fake.calls.append(Call("files.download", {"path": path}, token or None))
                data = fake.files.get(path)
                if data is None or not token:
                    self.send_response(404 if data is None else 403)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    params = json.loads(raw or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                query = parse_qs(urlparse(self.path).query)
                params.update({k: v[0] for k, v in query.items()})
                self._answer(params)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def root(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def add_user(
        self, user_id: str, email: str | None, name: str = "", *, is_bot: bool = False
    ) -> None:
        profile: dict[str, Any] = {"real_name": name or user_id}
        if email:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team,
            "name": name.lower() or user_id.lower(),
            "real_name": name,
            "is_bot": is_bot,
            "deleted": False,
            "profile": profile,
        }

    def of(self, method: str) -> list[Call]:
        """The calls of one method, in order."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posts_to(self, channel: str) -> list[Call]:
        return [c for c in self.of("chat.postMessage") if c.params.get("channel") == channel]

    # ------------------------------------------------------------ Slack's answers

    def handle(self, method: str, params: dict[str, Any], token: str | None) -> tuple[int, Any]:
        call = Call(method, dict(params), token)
        with self._lock:
            self.calls.append(call)
        gate = self.gates.get(method)
        if gate is not None:
            gate.wait(15)
        status, answer = self._answer(method, params, token)
        call.answer = answer
        return status, answer

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> tuple[int, Any]:
        with self._lock:
            if self.fail.get(method):
                self.fail[method] -= 1
                return 200, {"ok": False, "error": "internal_error"}
            ts = f"1700000{next(self._ts):03d}.000100"
        if not token:
            return 200, {"ok": False, "error": "not_authed"}
        if method == "apps.connections.open":
            if not str(token).startswith("xapp-") or not self.socket_url:
                return 200, {"ok": False, "error": "invalid_auth"}
            return 200, {"ok": True, "url": self.socket_url}
        if method == "auth.test":
            return 200, {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Fake",
                "team_id": self.team,
                "user": "hub",
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
            }
        if method == "users.info":
            user = self.users.get(params.get("user", ""))
            if user is None:
                return 200, {"ok": False, "error": "user_not_found"}
            return 200, {"ok": True, "user": user}
        if method == "users.lookupByEmail":
            for user in self.users.values():
                if user["profile"].get("email", "").lower() == str(params.get("email")).lower():
                    return 200, {"ok": True, "user": user}
            return 200, {"ok": False, "error": "users_not_found"}
        if method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": "D" + str(params.get("users", "X"))}}
        if method == "conversations.join":
            self.outside.discard(str(params.get("channel")))
            return 200, {"ok": True, "channel": {"id": params.get("channel")}}
        if method == "chat.postMessage":
            channel = params.get("channel")
            if channel in self.outside:
                return 200, {"ok": False, "error": "not_in_channel"}
            return 200, {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {
                    "type": "message",
                    "text": params.get("text"),
                    "user": self.bot_user_id,
                    "bot_id": self.bot_id,
                    "ts": ts,
                },
            }
        if method == "chat.update":
            return 200, {
                "ok": True,
                "channel": params.get("channel"),
                "ts": params.get("ts"),
                "text": params.get("text"),
            }
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": ts}
        if method == "views.open":
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return 200, {"ok": True, "view": {**(view or {}), "id": "V" + ts.replace(".", "")}}
        return 200, {"ok": False, "error": "unknown_method"}


class FakeSocketMode:
    """Slack's Socket Mode side: a WebSocket server that says hello, pushes envelopes and
    collects the app's acknowledgements ``{"envelope_id": ...}``."""

    def __init__(self, hello: dict[str, Any]) -> None:
        import queue

        from websockets.sync.server import serve

        self.hello = hello
        self.outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connected = threading.Event()
        self._closing = threading.Event()
        self.server = serve(self._session, "127.0.0.1", 0, compression=None)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link/?ticket=fake"

    def _session(self, ws: Any) -> None:
        import queue

        ws.send(json.dumps(self.hello))
        self.connected.set()
        while not self._closing.is_set():
            try:
                envelope = self.outbox.get(timeout=0.05)
                ws.send(json.dumps(envelope))
            except queue.Empty:
                pass
            try:
                message = ws.recv(timeout=0.05)
            except TimeoutError:
                continue
            except Exception:
                return
            if isinstance(message, bytes | str):
                try:
                    self.acks.put(json.loads(message))
                except ValueError:
                    continue

    def stop(self) -> None:
        self._closing.set()
        self.server.shutdown()
