"""Outbound calls through the ``pagerduty`` package: Events API v2 and (optionally) REST v2.

The package retries 429, 5xx and network errors itself, sleeping in the calling thread. We want
exactly one attempt per delivery and the outbox's backoff for the rest, so the clients here are
set to give up at once; ``Retryable`` and ``Rejected`` tell the caller which case it is.
"""

from __future__ import annotations

import ssl
from typing import Any

import pagerduty

from core.api import EgressPolicy, EgressRefused
from plugins.pagerduty.settings import PagerDutySettings

TIMEOUT = 15


class Rejected(Exception):
    """PagerDuty refused the event for good (400 and other 4xx but 429): do not retry."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"PagerDuty answered {status}: {message}")
        self.status = status
        self.message = message


class Retryable(Exception):
    """429, 5xx or a network failure: the outbox retries later with backoff."""


def _verify(settings: PagerDutySettings) -> ssl.SSLContext | bool:
    if not settings.ca_bundle:
        return True
    try:
        # PEM text the admin pasted (never a path: a path would read the hub's own files).
        return ssl.create_default_context(cadata=settings.ca_bundle)
    except (ValueError, ssl.SSLError) as exc:
        # Kept for a retry: the admin can fix the bundle, and the parked event can be re-sent.
        raise Retryable(f"ca_bundle cannot be used: {type(exc).__name__}") from exc


def _transport(settings: PagerDutySettings, egress: EgressPolicy) -> dict[str, Any]:
    """The client's connections go through the egress policy, pinned to the checked address."""
    return {"transport": egress.httpx2_transport(verify=_verify(settings)), "trust_env": False}


def _single_attempt(client: Any) -> Any:
    # ApiClient.request returns a non-success response at once when the sum of attempts so far
    # (0) exceeds max_http_attempts; every status it would otherwise loop on needs an entry in
    # ``retry``, 429 included (it loops forever on 429 by default).
    client.max_http_attempts = -1
    client.max_network_attempts = 0
    client.sleep_timer = 0
    client.timeout = TIMEOUT
    for status in (429, 500, 502, 503, 504):
        client.retry[status] = 1
    return client


def events_client(settings: PagerDutySettings, egress: EgressPolicy) -> pagerduty.EventsApiV2Client:
    """An Events API v2 client for the tenant's routing key."""
    if not settings.routing_key:
        raise Rejected(0, "no routing_key is configured")
    return _single_attempt(
        pagerduty.EventsApiV2Client(
            settings.routing_key, base_url=settings.base_url, **_transport(settings, egress)
        )
    )


def rest_client(
    settings: PagerDutySettings, egress: EgressPolicy
) -> pagerduty.RestApiV2Client | None:
    """A REST API v2 client, or None when no API token is configured."""
    if not settings.api_token:
        return None
    return _single_attempt(
        pagerduty.RestApiV2Client(
            settings.api_token, base_url=settings.api_base_url, **_transport(settings, egress)
        )
    )


def _describe(response: Any) -> str:
    # The status only, never the body: it reaches a ticket note or an outbox error a tenant
    # reads, and would let a tenant read whatever service its base_url points at.
    return f"HTTP {response.status_code}"


def _classify(exc: pagerduty.Error) -> Exception:
    response = exc.response
    if response is None:
        return Retryable(f"PagerDuty unreachable: {exc.__cause__ or exc}")
    status = response.status_code
    if status == 429 or status >= 500 or status < 400:
        return Retryable(f"PagerDuty answered {status}: {_describe(response)}")
    return Rejected(status, _describe(response))


def send(
    settings: PagerDutySettings,
    action: str,
    dedup_key: str,
    *,
    egress: EgressPolicy,
    **properties: Any,
) -> str:
    """Send one Events API v2 event; returns PagerDuty's dedup key."""
    with events_client(settings, egress) as client:
        try:
            return client.send_event(action, dedup_key=dedup_key, **properties)
        except pagerduty.Error as exc:
            raise _classify(exc) from exc
        except EgressRefused as exc:
            raise Rejected(0, f"base_url: {exc.message}") from exc


def incident_key(settings: PagerDutySettings, incident_id: str, egress: EgressPolicy) -> str | None:
    """The incident key (our dedup key) of an incident, read through REST; None without a token."""
    client = rest_client(settings, egress)
    if client is None:
        return None
    with client:
        try:
            incident = client.rget(f"/incidents/{incident_id}")
        except pagerduty.Error as exc:
            raise _classify(exc) from exc
        except EgressRefused as exc:
            raise Rejected(0, f"api_base_url: {exc.message}") from exc
    return incident.get("incident_key") if isinstance(incident, dict) else None
