"""Outbound Bot Connector REST calls: sending and updating activities.

The bot's token comes from ``plugins.teams.bot_token`` (msal, client credentials). A
5xx or a network error raises ``ConnectorUnavailable`` (the outbox retries); a 4xx or an address
the egress policy refuses raises ``ConnectorRejected`` (retrying would not help). Every
connection goes through the hub's egress policy, pinned to the address it checked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from core.api import EgressPolicy, EgressRefused, PluginConfig
from plugins.teams.bot_token import TOKENS, TokenCache
from plugins.teams.errors import ConnectorError, ConnectorRejected, ConnectorUnavailable
from plugins.teams.http import http

__all__ = [
    "TOKENS",
    "Connector",
    "ConnectorError",
    "ConnectorRejected",
    "ConnectorUnavailable",
    "TokenCache",
    "http",
]


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
