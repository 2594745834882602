"""OpenID providers for the SSO tests: the real node-oidc-provider (npm), run on 127.0.0.1, and a
small hand-made one whose token endpoint mints whatever ID token a test asks for (tampered,
wrong audience, expired, wrong nonce: a real provider never mints those).

The npm package is installed once into a cache folder (``HUB_TEST_NPM_CACHE``, default
``~/.cache/teleops-hub-tests``) keyed by the package.json's digest, and reused between runs.
Without node or npm the tests skip locally and fail in CI (``tests.services.require``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.services import free_port, require

HERE = Path(__file__).parent / "hub" / "oidc_provider"
CLIENT_ID = "support-hub"
CLIENT_SECRET = "test-client-secret-0123456789"


def _cache_dir() -> Path:
    base = Path(os.environ.get("HUB_TEST_NPM_CACHE", Path.home() / ".cache" / "teleops-hub-tests"))
    digest = hashlib.sha256((HERE / "package.json").read_bytes()).hexdigest()[:12]
    return base / f"oidc-provider-{digest}"


def install_provider() -> Path:
    """The folder with node_modules/oidc-provider and the provider script (npm install once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    require(node is not None and npm is not None, "node and npm are needed for the OIDC tests")
    folder = _cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "package.json", folder / "package.json")
    shutil.copy(HERE / "provider.mjs", folder / "provider.mjs")
    if not (folder / "node_modules" / "oidc-provider" / "package.json").exists():
        done = subprocess.run(
            [str(npm), "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        require(done.returncode == 0, f"npm install of oidc-provider failed: {done.stderr[-500:]}")
    return folder


@dataclass
class RealProvider:
    """A running node-oidc-provider with one static client."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    process: subprocess.Popen[str]


def start_real_provider(redirect_uri: str) -> RealProvider:
    folder = install_provider()
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": redirect_uri,
    }
    process = subprocess.Popen(
        [str(shutil.which("node")), "provider.mjs"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "READY" in line:
            break
        if not line and process.poll() is not None:
            raise RuntimeError("the OpenID provider exited before it was ready")
    else:
        process.kill()
        raise RuntimeError("the OpenID provider did not start in 30 s")
    # Keep draining its output so that it never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stdout or []], daemon=True).start()
    return RealProvider(
        issuer=f"http://127.0.0.1:{port}",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=redirect_uri,
        process=process,
    )


def stop(provider: RealProvider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        provider.process.kill()


FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def log_in_at_provider(authorize_url: str, login: str, redirect_uri: str) -> str:
    """Drive the provider's own login and consent pages (devInteractions) over HTTP as a
    browser would; returns the URL it finally sends the browser to (our redirect URI)."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        url = authorize_url
        for _ in range(12):
            if url.startswith(redirect_uri):
                return url
            response = browser.get(url)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                continue
            assert response.status_code == 200, (url, response.status_code, response.text[:300])
            action = FORM_ACTION.search(response.text)
            assert action, response.text[:500]
            target = urljoin(url, action.group(1))
            if 'name="login"' in response.text:
                data = {"prompt": "login", "login": login, "password": "any password"}
            else:
                data = {"prompt": "consent"}
            posted = browser.post(target, data=data)
            assert posted.status_code in (302, 303), (posted.status_code, posted.text[:300])
            url = urljoin(target, posted.headers["location"])
        raise AssertionError(f"the provider never sent the browser back: {url}")


# ------------------------------------------------------------------ the hand-made provider


@dataclass
class MintingProvider:
    """Discovery, JWKS and a token endpoint on 127.0.0.1 serving ID tokens a test shapes."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    claims: dict[str, Any] = field(default_factory=dict)  # overrides of the next ID token
    tamper: bool = False
    nonce: str = ""
    server: ThreadingHTTPServer | None = None

    def id_token(self) -> str:
        at = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "user-1",
            "iat": at,
            "exp": at + 300,
            "nonce": self.nonce,
            "email": "pat@acme.example",
            "email_verified": True,
            **self.claims,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        if self.tamper:
            head, body, sig = token.split(".")
            payload = json.loads(_b64d(body))
            payload["email"] = "ceo@acme.example"
            token = f"{head}.{_b64e(json.dumps(payload).encode())}.{sig}"
        return token


def _b64d(value: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64e(value: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(value).decode().rstrip("=")


def start_minting_provider() -> Iterator[MintingProvider]:
    provider = MintingProvider()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, data: dict[str, Any]) -> None:
            body = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/.well-known/openid-configuration":
                self._json(
                    {
                        "issuer": provider.issuer,
                        "authorization_endpoint": provider.issuer + "/auth",
                        "token_endpoint": provider.issuer + "/token",
                        "jwks_uri": provider.issuer + "/jwks",
                    }
                )
            elif path == "/jwks":
                self._json({"keys": [provider.key.as_dict(private=False)]})
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            if urlsplit(self.path).path != "/token" or not form.get("code_verifier"):
                self.send_error(400)
                return
            self._json(
                {"access_token": "at", "token_type": "Bearer", "id_token": provider.id_token()}
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.server = server
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
