"""Inbound authentication: the Bot Connector's JWT and the outgoing webhook's HMAC.

Bot Framework (Bot Connector -> bot): ``Authorization: Bearer <JWT>``, RS256, signed by a key
listed in the JWKS that the OpenID metadata names; issuer ``https://api.botframework.com``;
audience the bot's Microsoft App ID; expiry checked with the hub clock and 5 minutes' leeway.
The token must name a ``serviceurl`` and it must be the activity's, so an activity cannot send
our replies (and our bearer token) elsewhere. The metadata and key set are fetched over the
hub's egress policy.

The key set is PyJWT's: a ``PyJWKClient`` (its fetch done over the egress policy) reads and
parses the JWKS into ``PyJWK`` keys, which ``jwt.decode`` verifies with. How long a set is kept
and how often an unknown key id may make us fetch again are decided here, on the hub clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import threading
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK, PyJWKClient

from core.api import STRICT, EgressPolicy, EgressRefused, now

log = logging.getLogger(__name__)
ISSUER = "https://api.botframework.com"
LEEWAY = 300  # seconds, as the Bot Framework SDKs allow
KEYS_TTL = 24 * 3600  # Microsoft rotates keys slowly: fetch them again daily
REFETCH_AFTER = 300  # ... or for an unknown key id, at most every 5 minutes


class AuthError(Exception):
    """The request is not authentic (answered 401)."""


@dataclass
class _KeySet:
    keys: dict[str, PyJWK]
    endorsements: dict[str, Any]  # per key id, as the JWKS lists them
    fetched_at: float


class _EgressJWKClient(PyJWKClient):
    """PyJWT's JWKS client, fetching through the hub's egress policy (not urllib) and caching
    nothing itself (``OpenIdKeys`` keeps the set on the hub clock)."""

    def __init__(self, uri: str, egress: EgressPolicy, timeout: float) -> None:
        super().__init__(uri, cache_keys=False, cache_jwk_set=False, timeout=int(timeout))
        self.egress = egress
        self.raw: dict[str, Any] = {}

    def fetch_data(self) -> Any:
        from plugins.teams.http import http

        answer = http(self.egress).get(self.uri, timeout=self.timeout)
        answer.raise_for_status()
        self.raw = answer.json()
        return self.raw


class OpenIdKeys:
    """Signing keys from OpenID metadata, cached per metadata URL."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._cache: dict[str, _KeySet] = {}
        self._lock = threading.Lock()

    def _fetch(self, metadata_url: str, egress: EgressPolicy) -> _KeySet:
        from plugins.teams.http import http

        meta = http(egress).get(metadata_url, timeout=self.timeout)
        meta.raise_for_status()
        jwks_uri = meta.json().get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise AuthError("the OpenID metadata names no jwks_uri")
        client = _EgressJWKClient(jwks_uri, egress, self.timeout)
        key_set = client.get_jwk_set()
        keys = {k.key_id: k for k in key_set.keys if k.key_id}
        raw = client.raw.get("keys", []) if isinstance(client.raw, dict) else []
        endorsements = {
            str(k["kid"]): k.get("endorsements")
            for k in raw
            if isinstance(k, dict) and k.get("kid")
        }
        return _KeySet(keys=keys, endorsements=endorsements, fetched_at=now().timestamp())

    def key(self, metadata_url: str, kid: str, egress: EgressPolicy = STRICT) -> PyJWK:
        """The JWK with this id; the set is fetched again when stale or when the id is new."""
        with self._lock:
            cached = self._cache.get(metadata_url)
        age = now().timestamp() - cached.fetched_at if cached is not None else None
        stale = age is None or age >= KEYS_TTL
        # An unknown key id may be a rotation: fetch again, but not more than once per
        # REFETCH_AFTER, or forged tokens could make us hammer the metadata endpoint.
        rotated = cached is not None and kid not in cached.keys and (age or 0) >= REFETCH_AFTER
        if stale or rotated:
            try:
                cached = self._fetch(metadata_url, egress)
            except (httpx.HTTPError, ValueError, EgressRefused, jwt.PyJWTError) as exc:
                raise AuthError(f"signing keys unavailable: {type(exc).__name__}") from exc
            with self._lock:
                self._cache[metadata_url] = cached
        assert cached is not None
        jwk = cached.keys.get(kid)
        if jwk is None:
            raise AuthError("the token is signed by an unknown key")
        return jwk

    def endorsements(self, metadata_url: str, kid: str) -> Any:
        """The channels the key with this id is endorsed for (None: not restricted)."""
        with self._lock:
            cached = self._cache.get(metadata_url)
        return cached.endorsements.get(kid) if cached is not None else None


def bearer(header: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("missing bearer token")
    return token.strip()


def verify_connector_token(
    token: str,
    *,
    keys: OpenIdKeys,
    metadata_url: str,
    app_id: str,
    service_url: str | None,
    channel_id: str | None,
    egress: EgressPolicy = STRICT,
) -> dict[str, Any]:
    """The claims of a valid Bot Connector token for this app, else ``AuthError``.

    ``metadata_url`` is the tenant's setting: Microsoft's unless the operator allows vendor
    overrides (an unauthenticated request must not make the hub fetch a tenant's URL)."""
    from plugins.teams.settings import metadata_url as vendor_metadata_url

    if not app_id:
        raise AuthError("the bot has no app_id configured")
    try:
        metadata_url = vendor_metadata_url(metadata_url, egress)
    except EgressRefused as exc:
        raise AuthError(f"openid_metadata_url: {exc.message}") from exc
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthError("malformed token") from exc
    if header.get("alg") != "RS256" or not header.get("kid"):
        raise AuthError("unexpected token algorithm")
    jwk = keys.key(metadata_url, str(header["kid"]), egress)
    endorsements = keys.endorsements(metadata_url, str(header["kid"]))
    if channel_id and isinstance(endorsements, list) and channel_id not in endorsements:
        raise AuthError("the signing key is not endorsed for this channel")
    if not isinstance(jwk.key, RSAPublicKey):
        raise AuthError("the signing key is not an RSA public key")
    try:
        # Times are checked below against the hub clock (PyJWT reads the wall clock).
        claims: dict[str, Any] = jwt.decode(
            token,
            jwk,
            algorithms=["RS256"],
            audience=app_id,
            issuer=ISSUER,
            options={
                "require": ["exp", "iss", "aud"],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {type(exc).__name__}") from exc
    at = now().timestamp()
    if float(claims["exp"]) + LEEWAY < at:
        raise AuthError("the token has expired")
    if "nbf" in claims and float(claims["nbf"]) - LEEWAY > at:
        raise AuthError("the token is not valid yet")
    claimed = claims.get("serviceurl") or claims.get("serviceUrl")
    if not isinstance(claimed, str) or not claimed:
        raise AuthError("the token names no service URL")
    if not service_url or claimed.rstrip("/") != str(service_url).rstrip("/"):
        raise AuthError("the token was issued for another service URL")
    return claims


def webhook_signature(secret_b64: str, raw: bytes) -> str | None:
    """``base64(HMAC-SHA256(base64decode(secret), body))``; None for an unusable secret."""
    try:
        key = base64.b64decode(secret_b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not key:
        return None
    return base64.b64encode(hmac.new(key, raw, hashlib.sha256).digest()).decode()


def webhook_valid(secret_b64: str, raw: bytes, header: str | None) -> bool:
    """Whether ``Authorization: HMAC <base64>`` signs the raw body with this secret."""
    scheme, _, given = (header or "").partition(" ")
    expected = webhook_signature(secret_b64, raw) if secret_b64 else None
    if scheme != "HMAC" or not given or expected is None:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())
