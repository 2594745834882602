"""Secrets at rest (Fernet) and signed tokens (HMAC), each under its own key derived from the
hub's one secret key.

Every key is derived with HKDF-SHA256 (``cryptography``) under a distinct ``info`` label, so
that a key of one purpose (say the session cookies' signing key) tells nothing about another
(the encryption key of stored plugin secrets). Secrets stored before HKDF (the key was then a
plain SHA-256 of ``"hub-secrets:" + secret``) still decrypt: that key stays in the keyring as a
fallback of a :class:`~cryptography.fernet.MultiFernet`, which encrypts only under the new one.

Key rotation: a keyring may hold several secrets, newest first. The newest encrypts and signs;
every one of them (and each one's pre-HKDF key) decrypts and verifies, so the operator adds a new
key in front, re-encrypts what is stored (``rotate_json``; ``hub secrets rotate``), then removes
the old one. Session cookies are signed and read under the newest key only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger("core.crypto")

# One HKDF ``info`` label per purpose: two purposes never share a key.
ENCRYPTION_INFO = b"teleops-hub/v1/secrets-at-rest"
SIGNING_INFO = b"teleops-hub/v1/signed-tokens"
SESSION_INFO = b"teleops-hub/v1/session-cookies"
_HKDF_SALT = b"teleops-support-hub"


def derive_key(secret_key: str, info: bytes, length: int = 32) -> bytes:
    """A key for one purpose (named by ``info``), derived from the secret with HKDF-SHA256."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_HKDF_SALT, info=info).derive(
        secret_key.encode()
    )


class UndecryptableSecret(Exception):
    """Stored secrets that no key of the ring opens (the key that encrypted them is gone)."""


class Keyring:
    """Derives independent keys for encryption, token signing and session cookies from one
    secret (or several, newest first); decrypts what older keys and key schemes encrypted."""

    def __init__(self, secret_key: str | Sequence[str]) -> None:
        secrets_ = [secret_key] if isinstance(secret_key, str) else list(secret_key)
        if not secrets_:
            raise ValueError("the keyring needs at least one secret key")
        if any(len(s) < 16 for s in secrets_):
            raise ValueError("the secret key must be at least 16 characters")
        newest = secrets_[0]
        self._secret = newest
        self._secrets = tuple(secrets_)
        self.key_count = len(secrets_)
        self.encryption_key = derive_key(newest, ENCRYPTION_INFO)
        self.signing_key = derive_key(newest, SIGNING_INFO)
        self.session_key = derive_key(newest, SESSION_INFO)
        fernets: list[Fernet] = []
        self._verify_keys: list[bytes] = []
        for secret in secrets_:
            # Before HKDF: plain SHA-256 with a prefix. Kept to read (never to write) old data.
            legacy_enc = hashlib.sha256(b"hub-secrets:" + secret.encode()).digest()
            fernets.append(Fernet(base64.urlsafe_b64encode(derive_key(secret, ENCRYPTION_INFO))))
            fernets.append(Fernet(base64.urlsafe_b64encode(legacy_enc)))
            self._verify_keys.append(derive_key(secret, SIGNING_INFO))
            self._verify_keys.append(hashlib.sha256(b"hub-signing:" + secret.encode()).digest())
        self._fernet = MultiFernet(fernets)

    def derive(self, info: bytes) -> bytes:
        """A key for another purpose; ``info`` must name that purpose and nothing else."""
        return derive_key(self._secret, info)

    def derive_all(self, info: bytes) -> list[bytes]:
        """That key under every secret of the ring, newest first (to check older signatures)."""
        return [derive_key(secret, info) for secret in self._secrets]

    def encrypt_json(self, data: dict[str, Any]) -> str:
        """Encrypt a dict of secrets for storage (under the current key)."""
        return self._fernet.encrypt(json.dumps(data, sort_keys=True).encode()).decode()

    def decrypt_json(self, token: str | None, *, what: str = "stored secrets") -> dict[str, Any]:
        """Decrypt stored secrets, under the current key or a fallback one.

        A blob no key of the ring opens (the secret key changed) reads as empty, and says so in
        the log (never with the key or the blob): the operator sees why a plugin lost its
        credentials instead of finding them silently unset."""
        if not token:
            return {}
        try:
            return dict(json.loads(self._fernet.decrypt(token.encode())))
        except (InvalidToken, ValueError, TypeError):
            log.error(
                "%s cannot be decrypted with any of the hub's secret keys (was HUB_SECRET_KEY "
                "changed? put the old key in HUB_SECRET_KEYS after the new one); the plugin "
                "runs without them until they are entered again",
                what,
            )
            return {}

    def can_decrypt(self, token: str | None) -> bool:
        """Whether some key of the ring opens this stored blob (an empty one: yes)."""
        if not token:
            return True
        try:
            self._fernet.decrypt(token.encode())
        except (InvalidToken, ValueError, TypeError):
            return False
        return True

    def rotate_json(self, token: str) -> str:
        """Re-encrypt a stored blob under the newest key (it may be under an older key);
        ``UndecryptableSecret`` when no key of the ring opens it."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except (InvalidToken, ValueError, TypeError):
            raise UndecryptableSecret("no key of the ring decrypts this stored secret") from None

    def sign(self, message: str, length: int = 10) -> str:
        """A short URL- and address-safe HMAC of ``message``."""
        return _short_mac(self.signing_key, message, length)

    def verify(self, message: str, signature: str, length: int = 10) -> bool:
        """True for a signature under the current key or under the key before HKDF (reply
        addresses already sent out keep working)."""
        sent = signature.lower()
        return any(
            hmac.compare_digest(_short_mac(key, message, length), sent) for key in self._verify_keys
        )


def _short_mac(key: bytes, message: str, length: int) -> str:
    mac = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode().lower().rstrip("=")[:length]


def new_token() -> str:
    """A fresh API token to hand out once."""
    return "hub_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: they are long random strings, so no slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
