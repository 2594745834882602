"""Secrets at rest (Fernet) and signed tokens (HMAC), each under its own key derived from the
hub's one secret key.

Every key is derived with HKDF-SHA256 (``cryptography``) under a distinct ``info`` label, so
that a key of one purpose (say the session cookies' signing key) tells nothing about another
(the encryption key of stored plugin secrets). Secrets stored before HKDF (the key was then a
plain SHA-256 of ``"hub-secrets:" + secret``) still decrypt: that key stays in the keyring as a
fallback of a :class:`~cryptography.fernet.MultiFernet`, which encrypts only under the new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
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


class Keyring:
    """Derives independent keys for encryption, token signing and session cookies from one
    secret; decrypts what older key schemes encrypted."""

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 16:
            raise ValueError("the secret key must be at least 16 characters")
        self._secret = secret_key
        self.encryption_key = derive_key(secret_key, ENCRYPTION_INFO)
        self.signing_key = derive_key(secret_key, SIGNING_INFO)
        self.session_key = derive_key(secret_key, SESSION_INFO)
        # Before HKDF: plain SHA-256 with a prefix. Kept to read (never to write) old data.
        legacy_enc = hashlib.sha256(b"hub-secrets:" + secret_key.encode()).digest()
        self._legacy_sign_key = hashlib.sha256(b"hub-signing:" + secret_key.encode()).digest()
        self._fernet = MultiFernet(
            [
                Fernet(base64.urlsafe_b64encode(self.encryption_key)),
                Fernet(base64.urlsafe_b64encode(legacy_enc)),
            ]
        )

    def derive(self, info: bytes) -> bytes:
        """A key for another purpose; ``info`` must name that purpose and nothing else."""
        return derive_key(self._secret, info)

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
                "%s cannot be decrypted with the hub's secret key (was HUB_SECRET_KEY "
                "changed?); they read as unset until entered again",
                what,
            )
            return {}

    def rotate_json(self, token: str) -> str:
        """Re-encrypt a stored blob under the current key (it may be under a fallback key)."""
        return self._fernet.rotate(token.encode()).decode()

    def sign(self, message: str, length: int = 10) -> str:
        """A short URL- and address-safe HMAC of ``message``."""
        return _short_mac(self.signing_key, message, length)

    def verify(self, message: str, signature: str, length: int = 10) -> bool:
        """True for a signature under the current key or under the key before HKDF (reply
        addresses already sent out keep working)."""
        sent = signature.lower()
        return any(
            hmac.compare_digest(_short_mac(key, message, length), sent)
            for key in (self.signing_key, self._legacy_sign_key)
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
