"""OpenID Connect relying party for a tenant's provider: discovery, the authorization-code flow
with PKCE (S256), and the ID token checks.

authlib's OAuth 2 client (``authlib.integrations.httpx_client.OAuth2Client``, an ``httpx2``
client) builds the authorization URL with the PKCE challenge and exchanges the code; every
request it makes (discovery, token, JWKS, userinfo) goes through the hub's egress policy (a
pinned ``httpx2`` transport): the issuer is a host a tenant configures. The ID token's
signature is checked with joserfc against the provider's JWKS (asymmetric algorithms only),
then ``iss``, ``aud`` (and ``azp``), ``exp``, ``iat`` and ``nonce``, with time from
``core.clock``. Nothing here is kept between requests: the flow's state, nonce and code verifier
travel in a signed, short-lived cookie bound to the browser (``hub.web.routes.sso``).
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from core.clock import now
from core.egress import EgressPolicy, EgressRefused, url_host_port
from core.models import TenantSecurity
from core.services import security
from hub.context import Hub

log = logging.getLogger(__name__)
CALLBACK_PATH = "/login/sso/callback"
SCOPE = "openid email profile"
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
LEEWAY = 60  # seconds of clock skew allowed on exp and iat
TIMEOUT = 10.0
DISCOVERY_TTL = 300.0


class SsoError(Exception):
    """A sign-in the provider or its answer did not make good; ``reason`` goes to the audit."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass(frozen=True)
class Flow:
    """What the callback needs to finish a sign-in started in the same browser."""

    state: str
    nonce: str
    verifier: str


def redirect_uri(hub: Hub) -> str:
    """The one redirect URI to register with every provider (the tenant rides in the cookie)."""
    return hub.settings.base_url.rstrip("/") + CALLBACK_PATH


def operator_allows_http(policy: EgressPolicy, url: str) -> bool:
    """Plain http is only for a provider the operator's allow-list names (a local test one)."""
    host, port = url_host_port(url)
    try:
        addr = policy.check_host(host, port)
    except (EgressRefused, OSError):
        return False
    import ipaddress

    ip = ipaddress.ip_address(addr)
    return any(e.names(host.lower(), port) or e.contains(ip, port) for e in policy.allow)


def check_issuer(policy: EgressPolicy, issuer: str) -> None:
    """Configure-time check of an issuer URL: https (http only where the operator allows the
    host), and a host the egress policy lets the hub reach."""
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise EgressRefused("the issuer must be an https URL")
    if parts.query or parts.fragment:
        raise EgressRefused("the issuer URL has no query or fragment")
    if parts.scheme == "http" and not operator_allows_http(policy, issuer):
        raise EgressRefused("the issuer must be an https URL")
    policy.check_configured_url(issuer)


def _client(hub: Hub, row: TenantSecurity) -> OAuth2Client:
    return OAuth2Client(
        client_id=row.client_id,
        client_secret=security.client_secret(row, hub.keyring),
        scope=SCOPE,
        redirect_uri=redirect_uri(hub),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
        transport=hub.egress.httpx2_transport(),
        trust_env=False,
        timeout=TIMEOUT,
    )


def _get_json(client: OAuth2Client, url: str, what: str, **kw: Any) -> dict[str, Any]:
    try:
        response = client.request("GET", url, withhold_token=True, **kw)  # no token of ours
    except EgressRefused as exc:
        raise SsoError("egress_refused", f"the {what} is not reachable: {exc.message}") from None
    except Exception:
        log.warning("SSO: the %s at %s could not be fetched", what, url, exc_info=True)
        raise SsoError("provider_unreachable", f"the {what} could not be fetched") from None
    if response.status_code != 200:
        raise SsoError("provider_error", f"the {what} answered {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise SsoError("provider_error", f"the {what} is not JSON") from None
    if not isinstance(data, dict):
        raise SsoError("provider_error", f"the {what} is not a JSON object")
    return data


_discovered: dict[str, tuple[float, dict[str, Any]]] = {}


def discover(client: OAuth2Client, issuer: str) -> dict[str, Any]:
    """The provider's metadata; its ``issuer`` must be exactly the configured one. Kept for
    ``DISCOVERY_TTL`` seconds per issuer: the sign-in start is unauthenticated, and must not
    make the hub fetch a tenant's provider on every hit. The token endpoint's client
    authentication follows what the provider supports (basic, else post)."""
    cached = _discovered.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < DISCOVERY_TTL:
        meta = cached[1]
    else:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        meta = _get_json(client, url, "discovery document")
        if meta.get("issuer") != issuer:
            raise SsoError("issuer_mismatch", "the discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(key), str) or not meta[key]:
                raise SsoError("provider_error", f"the discovery document has no {key}")
        if len(_discovered) > 1000:
            _discovered.clear()
        _discovered[issuer] = (time.monotonic(), meta)
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" not in methods and "client_secret_post" in methods:
        client.token_endpoint_auth_method = "client_secret_post"
    return meta


def start(hub: Hub, row: TenantSecurity) -> tuple[str, Flow]:
    """The provider's authorization URL to send the browser to, and the flow to remember."""
    flow = Flow(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),  # 64 characters, RFC 7636's 43..128
    )
    with _client(hub, row) as client:
        meta = discover(client, row.issuer)
        url, _ = client.create_authorization_url(
            meta["authorization_endpoint"],
            state=flow.state,
            code_verifier=flow.verifier,
            nonce=flow.nonce,
        )
    return url, flow


def check_id_token(
    id_token: str, jwks: dict[str, Any], *, issuer: str, client_id: str, nonce: str
) -> dict[str, Any]:
    """The claims of an ID token whose signature (by a key of ``jwks``) and claims hold."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError, KeyError, TypeError):
        raise SsoError("bad_signature", "the ID token's signature does not hold") from None
    claims = dict(token.claims)
    registry = JWTClaimsRegistry(
        now=int(now().timestamp()),
        leeway=LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise SsoError("expired", "the ID token has expired") from None
    except (MissingClaimError, JoseError) as exc:
        claim = getattr(exc, "claim", "") or str(exc)
        reason = {"aud": "wrong_audience", "nonce": "wrong_nonce", "iss": "wrong_issuer"}.get(
            str(claim), "bad_claims"
        )
        raise SsoError(reason, f"the ID token's claims do not hold ({claim})") from None
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client_id:
        raise SsoError("wrong_audience", "the ID token is for several parties, not us")
    return claims


def finish(hub: Hub, row: TenantSecurity, flow: Flow, code: str) -> dict[str, Any]:
    """Exchange the code (with the PKCE verifier) and return the checked ID token's claims,
    completed from the userinfo endpoint when the ID token carries no email."""
    with _client(hub, row) as client:
        meta = discover(client, row.issuer)
        try:
            token = client.fetch_token(
                meta["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=flow.verifier,
                redirect_uri=redirect_uri(hub),
            )
        except EgressRefused as exc:
            raise SsoError("egress_refused", exc.message) from None
        except Exception:
            log.info("SSO: the code exchange failed", exc_info=True)
            raise SsoError("token_refused", "the provider refused the code exchange") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SsoError("no_id_token", "the provider answered without an ID token")
        jwks = _get_json(client, meta["jwks_uri"], "key set (JWKS)")
        claims = check_id_token(
            id_token, jwks, issuer=row.issuer, client_id=row.client_id, nonce=flow.nonce
        )
        userinfo = meta.get("userinfo_endpoint")
        if "email" not in claims and isinstance(userinfo, str) and token.get("access_token"):
            info = _get_json(
                client,
                userinfo,
                "userinfo endpoint",
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
            if info.get("sub") != claims["sub"]:
                raise SsoError("bad_claims", "the userinfo answer is about someone else")
            for key in ("email", "email_verified", "name"):
                if key in info:
                    claims[key] = info[key]
    return claims
