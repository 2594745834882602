"""Fake Microsoft endpoints on 127.0.0.1: OpenID metadata + JWKS, the AAD v2 token endpoint (and
the OpenID discovery msal reads first) and the Bot Connector REST API. Records every call; failures can be injected per operation."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
TENANT = "botframework.com"  # the AAD tenant of the bot's client credentials


@dataclass
class Call:
    """One request as the fake received it."""

    op: str  # "token" | "discovery" | "send" | "update" | "member" | "openid" | "keys"
    method: str
    path: str
    body: Any
    auth: str | None
    conversation: str = ""
    activity_id: str = ""
    answer: Any = None

    def text(self) -> str:
        """Everything a person would read: text, summary and card JSON."""
        return json.dumps(self.body) if self.body is not None else ""


@dataclass
class FakeTeams:
    """One server standing in for login.botframework.com, the token endpoint and the
    Bot Connector (``<root>/svc/``)."""

    app_id: str
    app_password: str
    kid: str = ""
    calls: list[Call] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail: dict[str, list[int]] = field(default_factory=dict)  # op -> statuses to answer first
    files: dict[str, bytes] = field(default_factory=dict)  # path -> content (downloads)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # Unique per fake: the hub caches keys per metadata URL, and a later test's server may
        # get the same port.
        self.tag = uuid.uuid4().hex[:12]
        self.kid = self.kid or f"key-{self.tag}"

    def rotate(self) -> None:
        """Sign with a new key from now on (published in the JWKS instead of the old one)."""
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"key-{uuid.uuid4().hex[:12]}"

    # ------------------------------------------------------------ control

    def start(self) -> FakeTeams:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _reply(self, status: int, body: Any) -> None:
                raw = isinstance(body, bytes)
                data = body if raw else json.dumps(body).encode()
                self.send_response(status)
                self.send_header(
                    "Content-Type",
                    "application/octet-stream" if raw else "application/json; charset=utf-8",
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, body = fake.handle(
                    self.command,
                    self.path,
                    raw,
                    self.headers.get("Content-Type", ""),
                    self.headers.get("Authorization"),
                )
                self._reply(status, body)

            do_GET = do_POST = do_PUT = _handle

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
    def service_url(self) -> str:
        return f"{self.root}/svc/"

    @property
    def openid_url(self) -> str:
        return f"{self.root}/{self.tag}/openid"

    @property
    def login_url(self) -> str:
        return f"{self.root}/{TENANT}/oauth2/v2.0/token"

    def of(self, op: str) -> list[Call]:
        """The calls of one operation, in order."""
        with self._lock:
            return [c for c in self.calls if c.op == op]

    def sent_to(self, conversation: str) -> list[Call]:
        """Activities posted into a conversation."""
        return [c for c in self.of("send") if c.conversation == conversation]

    # ------------------------------------------------------------ tokens the Bot Connector sends

    def token(
        self,
        *,
        aud: str | None = None,
        iss: str = ISSUER,
        exp_in: float = 3600,
        key: Any = None,
        kid: str | None = None,
        service_url: str | None = None,
        now: float | None = None,
    ) -> str:
        """A Bot Connector JWT as Microsoft signs it (RS256, kid in the header)."""
        at = now if now is not None else time.time()
        claims = {
            "iss": iss,
            "aud": aud or self.app_id,
            "iat": int(at) - 10,
            "nbf": int(at) - 10,
            "exp": int(at + exp_in),
            "serviceurl": service_url or self.service_url,
        }
        return jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    # ------------------------------------------------------------ the server's answers

    def handle(
        self, method: str, path: str, raw: bytes, content_type: str, auth: str | None
    ) -> tuple[int, Any]:
        url = urlparse(path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        body: Any = None
        if raw:
            body = (
                json.loads(raw)
                if "json" in content_type
                else {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            )
        op, conversation, activity_id = "unknown", "", ""
        if parts == [self.tag, "openid"]:
            op = "openid"
        elif parts == [self.tag, "keys"]:
            op = "keys"
        elif parts == [TENANT, "oauth2", "v2.0", "token"]:
            op = "token"
        elif parts == [TENANT, "v2.0", ".well-known", "openid-configuration"]:
            op = "discovery"
        elif parts[:1] == ["files"] or parts[:3] == ["svc", "v3", "attachments"]:
            op = "download"
        elif len(parts) >= 5 and parts[:3] == ["svc", "v3", "conversations"]:
            conversation = parts[3]
            if parts[4] == "activities" and len(parts) == 5 and method == "POST":
                op = "send"
            elif parts[4] == "activities" and len(parts) == 6 and method == "PUT":
                op, activity_id = "update", parts[5]
            elif parts[4] == "members" and len(parts) == 6 and method == "GET":
                op, activity_id = "member", parts[5]
        call = Call(op, method, url.path, body, auth, conversation, activity_id)
        with self._lock:
            self.calls.append(call)
            queued = self.fail.get(op)
            if queued:
                return queued.pop(0), {"error": {"code": "Injected", "message": "injected"}}
        status, answer = self._answer(call)
        call.answer = answer
        return status, answer

    def _answer(self, call: Call) -> tuple[int, Any]:
        if call.op == "openid":
            return 200, {
                "issuer": ISSUER,
                "jwks_uri": f"{self.root}/{self.tag}/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        if call.op == "keys":
            jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
            jwk.update(kid=self.kid, use="sig", endorsements=["msteams"])
            return 200, {"keys": [jwk]}
        if call.op == "discovery":
            # As AAD answers: https endpoints (msal accepts no other; the hub reaches a
            # plain-http stand-in on the same host and port).
            base = f"https://{self.root.split('://', 1)[1]}/{TENANT}"
            return 200, {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        if call.op == "token":
            form = call.body or {}
            if (
                form.get("client_id") != self.app_id
                or form.get("client_secret") != self.app_password
                or form.get("grant_type") != "client_credentials"
            ):
                return 401, {"error": "invalid_client"}
            return 200, {
                "token_type": "Bearer",
                "expires_in": 3599,
                "access_token": f"bot-token-{next(self._ids)}",
            }
        if call.op in ("send", "update", "member"):
            if not (call.auth or "").startswith("Bearer bot-token-"):
                return 401, {"message": "Authorization has been denied for this request."}
        if call.op == "download":
            data = self.files.get(call.path)
            if data is None:
                return 404, {"error": {"code": "NotFound"}}
            # Shared files' URLs are pre-authorised; inline images need the bot token.
            if call.path.startswith("/svc/") and not (call.auth or "").startswith(
                "Bearer bot-token-"
            ):
                return 401, {"message": "Authorization has been denied for this request."}
            return 200, data
        if call.op == "send":
            return 201, {"id": f"1{next(self._ids):012d}"}
        if call.op == "update":
            return 200, {"id": call.activity_id}
        if call.op == "member":
            member = self.members.get(call.activity_id)
            if member is None:
                return 404, {"error": {"code": "MemberNotFoundInConversation"}}
            return 200, member
        return 404, {"error": {"code": "NotFound"}}
