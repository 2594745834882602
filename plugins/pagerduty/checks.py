"""PagerDuty's "Test connection": a change event with the tenant's routing key (the Change
Events API records it on the service's timeline and pages nobody), and, when a REST API token
is set, ``GET /abilities`` with it; through the egress policy, answered in words, never a
secret nor the vendor's body."""

from __future__ import annotations

import uuid

import pagerduty

from core.api import ConnectionCheck, EgressRefused, HubContext
from plugins.pagerduty.client import Rejected, Retryable, events_client, rest_client
from plugins.pagerduty.settings import load

PLUGIN = "pagerduty"
SUMMARY = "Teleops Support Hub: connection test (a change event; nobody is paged)"


def _status(exc: pagerduty.Error) -> str:
    return (
        f"HTTP {exc.response.status_code}"
        if exc.response is not None
        else str(exc.__cause__ or exc)
    )


def check(hub: HubContext, tenant_id: uuid.UUID) -> ConnectionCheck:
    settings = load(hub.config(tenant_id, PLUGIN))
    if not settings.routing_key:
        return ConnectionCheck(False, "No integration (routing) key is set.")
    try:
        with events_client(settings, hub.egress) as client:
            client.send_change_event(payload={"summary": SUMMARY, "source": "teleops-support-hub"})
    except EgressRefused as exc:
        return ConnectionCheck(False, f"The Events API address is refused: {exc.message}.")
    except pagerduty.Error as exc:
        if exc.response is not None and 400 <= exc.response.status_code < 500:
            return ConnectionCheck(
                False, f"PagerDuty refused the routing key ({_status(exc)}): check the key."
            )
        return ConnectionCheck(False, f"PagerDuty could not be reached: {_status(exc)}.")
    except (Rejected, Retryable) as exc:
        return ConnectionCheck(False, f"PagerDuty could not be reached: {exc}.")
    except Exception as exc:  # TLS and the like
        return ConnectionCheck(False, f"PagerDuty could not be reached: {type(exc).__name__}.")
    said = "PagerDuty accepted a change event for the routing key (nobody was paged)"
    rest = rest_client(settings, hub.egress)
    if rest is None:
        return ConnectionCheck(True, f"{said}; no REST API token is set.")
    try:
        with rest:
            status = rest.get("/abilities").status_code
    except pagerduty.Error as exc:
        if exc.response is None:
            return ConnectionCheck(False, f"{said}, but the REST API could not be reached.")
        status = exc.response.status_code
    except EgressRefused as exc:
        return ConnectionCheck(
            False, f"{said}, but the REST API address is refused: {exc.message}."
        )
    except Exception as exc:  # TLS and the like
        why = type(exc).__name__
        return ConnectionCheck(False, f"{said}, but the REST API could not be reached: {why}.")
    if status in (401, 403):
        return ConnectionCheck(
            False, f"{said}, but the REST API token was refused (HTTP {status})."
        )
    if status != 200:
        return ConnectionCheck(False, f"{said}, but the REST API answered HTTP {status}.")
    return ConnectionCheck(True, f"{said}, and the REST API token works.")
