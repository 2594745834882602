"""PagerDuty v3 webhook signatures: ``X-PagerDuty-Signature: v1=<hex HMAC-SHA256>[,v1=...]``."""

from __future__ import annotations

import hashlib
import hmac


def signatures(header: str | None) -> list[str]:
    """The v1 signatures of a header; several arrive while a secret is being rotated."""
    found = []
    for part in (header or "").split(","):
        version, _, value = part.strip().partition("=")
        if version == "v1" and value:
            found.append(value.lower())
    return found


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True when any v1 signature is the HMAC-SHA256 of the raw body under ``secret``."""
    if not secret:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, sig) for sig in signatures(header))
