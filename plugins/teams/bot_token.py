"""The bot's own bearer token: client credentials by ``msal`` (ConfidentialClientApplication).

msal is given the tenant's ``login_url`` as its authority (the URL less ``/oauth2/v2.0/token``,
Microsoft's unless the operator allows vendor overrides), does the OpenID discovery and the
token request, and caches the token. Its HTTP goes through the hub's egress policy (the
``http_client`` below wraps the plugin's pinned httpx client), and its cache reads the hub
clock, so a token is renewed when the hub's time says it expired. msal speaks https only: a
plain-http stand-in (only possible with the operator's vendor override) is named to msal as
https and reached over http on the same host and port.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import msal

from core.api import EgressPolicy, EgressRefused, PluginConfig, now
from plugins.teams.errors import ConnectorRejected, ConnectorUnavailable
from plugins.teams.settings import authority_of, login_url

SCOPE = "https://api.botframework.com/.default"


class _EgressHttp:
    """The requests-like client msal calls: ``get``/``post`` over the hub's egress policy."""

    def __init__(self, egress: EgressPolicy, authority: str) -> None:
        self.egress = egress
        scheme, _, rest = authority.partition("://")
        origin = rest.split("/", 1)[0]
        # msal is told https://origin; a plain-http stand-in is reached over http.
        self._https, self._plain = (
            f"https://{origin}",
            (f"http://{origin}" if scheme == "http" else None),
        )

    def _url(self, url: str) -> str:
        if self._plain and (url == self._https or url.startswith(self._https + "/")):
            return self._plain + url[len(self._https) :]
        return url

    @staticmethod
    def _headers(headers: dict[str, Any] | None) -> dict[str, str]:
        return {k: str(v) for k, v in (headers or {}).items() if v is not None}

    def get(self, url: str, params: Any = None, headers: Any = None, **_: Any) -> httpx.Response:
        from plugins.teams.http import http

        return http(self.egress).get(self._url(url), params=params, headers=self._headers(headers))

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **_: Any
    ) -> httpx.Response:
        from plugins.teams.http import http

        body: dict[str, Any] = (
            {"content": data} if isinstance(data, str | bytes) else {"data": data}
        )
        return http(self.egress).post(
            self._url(url), params=params, headers=self._headers(headers), **body
        )

    def close(self) -> None:  # the shared client stays open
        pass


class _HubClockCache(msal.TokenCache):
    """msal's token cache on the hub clock: entries are stamped with the hub's time and, when
    msal compares them with the wall clock, shifted by the difference."""

    def add(self, event: dict[str, Any], now: float | None = None) -> Any:
        return super().add(event, now=_hub_now())

    def search(
        self, credential_type: Any, target: Any = None, query: Any = None, *, now: Any = None
    ) -> Iterator[dict[str, Any]]:
        hub = _hub_now()
        skew = time.time() - hub
        for entry in super().search(credential_type, target=target, query=query, now=hub):
            shifted = dict(entry)
            for field in ("expires_on", "refresh_on", "extended_expires_on"):
                if field in shifted:
                    shifted[field] = str(int(int(shifted[field]) + skew))
            yield shifted


def _hub_now() -> float:
    return now().timestamp()


class TokenCache:
    """One msal application per (egress policy, login URL, app id, password)."""

    def __init__(self) -> None:
        self._apps: dict[tuple[EgressPolicy, str], msal.ConfidentialClientApplication] = {}
        self._lock = threading.Lock()

    def _app(
        self, egress: EgressPolicy, url: str, app_id: str, password: str
    ) -> msal.ConfidentialClientApplication:
        key = (egress, hashlib.sha256("\x00".join((url, app_id, password)).encode()).hexdigest())
        with self._lock:
            app = self._apps.get(key)
        if app is not None:
            return app
        try:
            authority = authority_of(url)
        except ValueError as exc:
            raise ConnectorRejected(0, f"login_url {exc}") from None
        http_client = _EgressHttp(egress, authority)
        app = msal.ConfidentialClientApplication(
            app_id,
            client_credential=password,
            authority="https://" + authority.split("://", 1)[1],
            http_client=http_client,
            validate_authority=False,
            instance_discovery=False,
            token_cache=_HubClockCache(),
        )
        with self._lock:
            return self._apps.setdefault(key, app)

    def token(self, cfg: PluginConfig, egress: EgressPolicy) -> str:
        """A valid bearer token for the tenant's bot."""
        app_id, password = str(cfg.get("app_id") or ""), str(cfg.get("app_password") or "")
        if not app_id or not password:
            raise ConnectorRejected(0, "the bot has no app_id or app_password configured")
        try:
            url = login_url(cfg.get("login_url"), egress)
            # Before msal connects: a refused login URL is refused before any byte.
            egress.check_url(url)
            result = self._app(egress, url, app_id, password).acquire_token_for_client([SCOPE])
        except EgressRefused as exc:
            raise ConnectorRejected(0, f"login_url: {exc.message}") from exc
        except (httpx.HTTPError, OSError, msal.exceptions.MsalServiceError) as exc:
            raise ConnectorUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from exc
        except ValueError as exc:  # msal: the OpenID discovery failed or answered no endpoint
            raise ConnectorRejected(0, "login_url: the token endpoint's discovery failed") from exc
        value = result.get("access_token") if isinstance(result, dict) else None
        if not value:
            error = str((result or {}).get("error") or "no access_token")
            # The error code only: a description may quote what the tenant sent.
            raise ConnectorRejected(
                401 if error == "invalid_client" else 400, f"token endpoint refused: {error}"
            )
        return str(value)


TOKENS = TokenCache()
