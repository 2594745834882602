"""The secret key: no public development key beyond loopback, and one key per purpose (HKDF),
with data stored under the old scheme still readable."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import URLSafeTimedSerializer

from core.crypto import Keyring
from core.permissions import system_actor
from core.services import plugins as plugin_service
from hub.api.deps import SESSION_COOKIE, make_session_cookie
from hub.settings import DEV_SECRET_KEY
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]


def _serve(tmp_path: Path, *args: str, command: str = "serve", **env: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    clean.update(HUB_DATA_DIR=str(tmp_path / "var"), PYTHONPATH=str(ROOT), **env)
    # cwd is a fresh directory: no .env file supplies a key behind the test's back.
    return subprocess.Popen(
        [sys.executable, "-m", "hub.cli", command, *args],
        cwd=tmp_path,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _refused(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("hub serve started with the public development key") from None
    return proc.returncode, out + err


def test_serve_refuses_dev_key_beyond_loopback(tmp_path: Path) -> None:
    code, output = _refused(_serve(tmp_path, "--host", "0.0.0.0", "--port", str(free_port())))
    assert code != 0
    assert "HUB_SECRET_KEY" in output and "development" in output, output


def test_serve_refuses_dev_key_in_production_even_on_loopback(tmp_path: Path) -> None:
    code, output = _refused(
        _serve(tmp_path, "--host", "127.0.0.1", "--port", str(free_port()), HUB_ENV="production")
    )
    assert code != 0
    assert "HUB_SECRET_KEY" in output and "production" in output, output
    # And an explicit dev key is no better than a missing one.
    code, output = _refused(
        _serve(tmp_path, "--host", "::", "--port", str(free_port()), HUB_SECRET_KEY=DEV_SECRET_KEY)
    )
    assert code != 0 and "HUB_SECRET_KEY" in output


def test_serve_warns_on_loopback_and_serves_with_a_real_key_anywhere(tmp_path: Path) -> None:
    port = free_port()
    # ``hub serve`` refuses a database with pending migrations (hub.check): migrate first.
    migrate = _serve(tmp_path, command="migrate")
    assert migrate.wait(timeout=120) == 0, migrate.communicate()
    proc = _serve(tmp_path, "--host", "127.0.0.1", "--port", str(port))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("hub serve on loopback did not answer")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert "warning" in (out + err).lower() and "HUB_SECRET_KEY" in out + err


def test_dev_key_cookie_and_raw_secret_cookie_are_rejected(org, client, hub) -> None:  # type: ignore[no-untyped-def]
    admin = org.admin
    value, _ = make_session_cookie(hub, user_id=admin.user_id, tenant_id=admin.tenant_id)
    client.cookies.set(SESSION_COOKIE, value)
    assert client.get("/api/v1/me").json()["role"] == "admin"  # the real cookie works
    claims = {"u": admin.user_id, "t": str(admin.tenant_id), "c": "x"}
    # Forged with the public development key, and with the raw secret (the key before HKDF,
    # which also encrypted nothing but was one derivation away from it).
    for secret in (DEV_SECRET_KEY, hub.settings.secret_key):
        forged = URLSafeTimedSerializer(secret, salt="hub-session").dumps(claims)
        client.cookies.set(SESSION_COOKIE, forged)
        r = client.get("/api/v1/me")
        assert r.status_code == 401, (secret == DEV_SECRET_KEY, r.text)
    client.cookies.clear()


def test_one_key_per_purpose_derived_with_hkdf() -> None:
    secret = "a-real-secret-key-0123456789abcdef"
    ring = Keyring(secret)
    keys = {ring.encryption_key, ring.signing_key, ring.session_key}
    assert len(keys) == 3 and secret.encode() not in keys
    for key in keys:
        assert len(key) == 32
    # Each is HKDF-SHA256 of the secret under its own info label.
    labels = {
        b"teleops-hub/v1/secrets-at-rest",
        b"teleops-hub/v1/signed-tokens",
        b"teleops-hub/v1/session-cookies",
    }
    derived = {
        HKDF(algorithm=hashes.SHA256(), length=32, salt=b"teleops-support-hub", info=label).derive(
            secret.encode()
        )
        for label in labels
    }
    assert derived == keys
    assert Keyring(secret + "x").session_key != ring.session_key


def _legacy_encrypt(secret: str, data: dict[str, object]) -> str:
    key = base64.urlsafe_b64encode(hashlib.sha256(b"hub-secrets:" + secret.encode()).digest())
    return Fernet(key).encrypt(json.dumps(data).encode()).decode()


def test_secrets_stored_under_the_old_scheme_still_decrypt(org, hub) -> None:  # type: ignore[no-untyped-def]
    secret = hub.settings.secret_key
    old = _legacy_encrypt(secret, {"api_token": "old-token-123"})
    assert hub.keyring.decrypt_json(old) == {"api_token": "old-token-123"}
    # A plugin row written before the change reads back through the hub.
    with hub.session() as s:
        plugin_service.configure(
            s,
            system_actor(org.admin.tenant_id),
            "jira",
            settings={},
            secrets={"api_token": "placeholder"},
            keyring=hub.keyring,
        )
        row = plugin_service.plugin_rows(s, org.admin.tenant_id)["jira"]
        row.secrets_encrypted = old
    assert hub.config(org.admin.tenant_id, "jira").secrets["api_token"] == "old-token-123"
    # New writes use the new key: the old scheme alone can no longer read them.
    fresh = hub.keyring.encrypt_json({"k": "v"})
    legacy_only = Fernet(
        base64.urlsafe_b64encode(hashlib.sha256(b"hub-secrets:" + secret.encode()).digest())
    )
    try:
        legacy_only.decrypt(fresh.encode())
        raise AssertionError("new secrets are still encrypted under the legacy key")
    except Exception as exc:
        assert type(exc).__name__ == "InvalidToken"
    # Reply addresses signed before the change still verify.
    legacy_sig = (
        base64.b32encode(
            __import__("hmac")
            .new(
                hashlib.sha256(b"hub-signing:" + secret.encode()).digest(), b"t:42", hashlib.sha256
            )
            .digest()
        )
        .decode()
        .lower()
        .rstrip("=")[:10]
    )
    assert hub.keyring.verify("t:42", legacy_sig)
    assert hub.keyring.sign("t:42") != legacy_sig


def test_undecryptable_secret_is_logged_without_the_key(caplog) -> None:  # type: ignore[no-untyped-def]
    secret = "the-current-secret-key-0123456789"
    blob = Keyring("some-other-secret-key-987654321").encrypt_json({"password": "hunter2"})
    with caplog.at_level(logging.WARNING):
        assert Keyring(secret).decrypt_json(blob) == {}
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "cannot be decrypted" in text
    assert secret not in text and blob not in text and "hunter2" not in text
