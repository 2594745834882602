"""Secrets at rest (Fernet) and signed tokens (HMAC), both keyed from the hub's secret key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class Keyring:
    """Derives independent keys for encryption and signing from one secret."""

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 16:
            raise ValueError("the secret key must be at least 16 characters")
        enc = hashlib.sha256(b"hub-secrets:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(enc))
        self._sign_key = hashlib.sha256(b"hub-signing:" + secret_key.encode()).digest()

    def encrypt_json(self, data: dict[str, Any]) -> str:
        """Encrypt a dict of secrets for storage."""
        return self._fernet.encrypt(json.dumps(data, sort_keys=True).encode()).decode()

    def decrypt_json(self, token: str | None) -> dict[str, Any]:
        """Decrypt stored secrets; an unreadable blob (key changed) reads as empty."""
        if not token:
            return {}
        try:
            return dict(json.loads(self._fernet.decrypt(token.encode())))
        except (InvalidToken, ValueError):
            return {}

    def sign(self, message: str, length: int = 10) -> str:
        """A short URL- and address-safe HMAC of ``message``."""
        mac = hmac.new(self._sign_key, message.encode(), hashlib.sha256).digest()
        return base64.b32encode(mac).decode().lower().rstrip("=")[:length]

    def verify(self, message: str, signature: str, length: int = 10) -> bool:
        return hmac.compare_digest(self.sign(message, length), signature.lower())


def new_token() -> str:
    """A fresh API token to hand out once."""
    return "hub_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: they are long random strings, so no slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
