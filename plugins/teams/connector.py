"""Outbound Bot Connector REST calls: the bot's token, sending and updating activities.

The token comes from the tenant's ``login_url`` (Microsoft's unless the operator allows vendor
overrides) by client credentials and is cached until a minute before it expires (hub clock). A
5xx or a network error raises ``ConnectorUnavailable`` (the outbox retries); a 4xx or an address
the egress policy refuses raises ``ConnectorRejected`` (retrying would not help). Every
connection goes through the hub's egress policy, pinned to the address it checked.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from core.api import EgressPolicy, EgressRefused, PluginConfig, now
from plugins.teams.settings import login_url

SCOPE = "https://api.botframework.com/.default"
TIMEOUT = 10.0


_http: dict[EgressPolicy, httpx.Client] = {}
_http_lock = threading.Lock()


def http(egress: EgressPolicy) -> httpx.Client:
    """One shared client per egress policy (building one per call costs a TLS context, ~0.1 s),
    whose connections are checked and pinned by that policy."""
    with _http_lock:
        client = _http.get(egress)
        if client is None:
            client = _http[egress] = httpx.Client(
                timeout=TIMEOUT, transport=egress.httpx_transport(), trust_env=False
            )
        return client


class ConnectorError(Exception):
    """A Bot Connector or token endpoint call failed."""


class ConnectorUnavailable(ConnectorError):
    """Network error or 5xx: worth retrying."""


class ConnectorRejected(ConnectorError):
    """A 4xx answer: the request itself is refused."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """Bot tokens per (login URL, app id, password), until shortly before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()

    def token(self, cfg: PluginConfig, egress: EgressPolicy) -> str:
        """A valid bearer token for the tenant's bot."""
        app_id, password = str(cfg.get("app_id") or ""), str(cfg.get("app_password") or "")
        if not app_id or not password:
            raise ConnectorRejected(0, "the bot has no app_id or app_password configured")
        try:
            url = login_url(cfg.get("login_url"), egress)
        except EgressRefused as exc:
            raise ConnectorRejected(0, exc.message) from exc
        key = hashlib.sha256("\x00".join((url, app_id, password)).encode()).hexdigest()
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None and cached.expires_at > now().timestamp():
            return cached.value
        try:
            resp = http(egress).post(
                url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": app_id,
                    "client_secret": password,
                    "scope": SCOPE,
                },
            )
        except httpx.HTTPError as exc:
            raise ConnectorUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from exc
        except EgressRefused as exc:
            raise ConnectorRejected(0, f"login_url: {exc.message}") from exc
        _raise_for(resp, "token endpoint")
        body = resp.json()
        value = body.get("access_token")
        if not value:
            raise ConnectorRejected(resp.status_code, "the token endpoint returned no access_token")
        lifetime = float(body.get("expires_in") or 3600)
        token = _Token(value, now().timestamp() + max(lifetime - 60, 0))
        with self._lock:
            self._tokens[key] = token
        return token.value


TOKENS = TokenCache()


def _raise_for(resp: httpx.Response, what: str) -> None:
    if resp.status_code >= 500:
        raise ConnectorUnavailable(f"{what} answered {resp.status_code}")
    if resp.status_code >= 400:
        # The status only: a response body never reaches what a tenant reads.
        raise ConnectorRejected(resp.status_code, f"{what} answered {resp.status_code}")


def _activities_url(service_url: str, conversation: str, activity: str | None = None) -> str:
    base = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation, safe='')}/activities"
    return f"{base}/{quote(activity, safe='')}" if activity else base


class Connector:
    """The Bot Connector REST API for one tenant's bot."""

    def __init__(
        self, cfg: PluginConfig, egress: EgressPolicy, tokens: TokenCache = TOKENS
    ) -> None:
        self.cfg, self.egress, self.tokens = cfg, egress, tokens

    def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            # Before the token is fetched: a refused service URL never gets it.
            self.egress.check_url(url)
        except EgressRefused as exc:
            raise ConnectorRejected(0, f"service URL: {exc.message}") from exc
        except OSError as exc:
            raise ConnectorUnavailable(f"Bot Connector unreachable: {type(exc).__name__}") from exc
        headers = {"Authorization": f"Bearer {self.tokens.token(self.cfg, self.egress)}"}
        try:
            resp = http(self.egress).request(method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectorUnavailable(f"Bot Connector unreachable: {type(exc).__name__}") from exc
        except EgressRefused as exc:
            raise ConnectorRejected(0, f"service URL: {exc.message}") from exc
        _raise_for(resp, "Bot Connector")
        try:
            data = resp.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def send(self, service_url: str, conversation: str, activity: dict[str, Any]) -> str:
        """Post an activity into a conversation; returns its id."""
        answer = self._call("POST", _activities_url(service_url, conversation), activity)
        return str(answer.get("id") or "")

    def update(
        self, service_url: str, conversation: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        """Replace an activity we posted (the triage card)."""
        self._call(
            "PUT",
            _activities_url(service_url, conversation, activity_id),
            {**activity, "id": activity_id},
        )

    def member(self, service_url: str, conversation: str, user_id: str) -> dict[str, Any]:
        """A conversation member's profile (``email``, ``userPrincipalName``, ``name``)."""
        url = (
            f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation, safe='')}"
            f"/members/{quote(user_id, safe='')}"
        )
        return self._call("GET", url)
