"""The plugin's HTTP clients: one shared ``httpx.Client`` per egress policy, whose connections
that policy checks and pins (the bot's token, the Bot Framework's keys, the connector)."""

from __future__ import annotations

import threading

import httpx

from core.api import EgressPolicy

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
