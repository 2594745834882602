"""Jira webhook signatures: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>``."""

from __future__ import annotations

import hashlib
import hmac


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True when the header carries the body's HMAC-SHA256 under ``secret``."""
    method, _, value = (header or "").strip().partition("=")
    if not secret or method.lower() != "sha256" or not value:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, value.strip().lower())
