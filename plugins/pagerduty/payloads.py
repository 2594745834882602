"""Typed view of an inbound PagerDuty v3 webhook (only the fields the hub uses)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Events that become internal notes; every other event type is acknowledged and ignored.
HANDLED_EVENTS = ("incident.acknowledged", "incident.reassigned", "incident.resolved")


@dataclass(frozen=True)
class WebhookEvent:
    """One v3 webhook event about an incident."""

    id: str
    type: str
    occurred_at: str
    agent: str
    incident_id: str
    incident_key: str | None
    number: int | None
    title: str
    status: str
    html_url: str
    assignees: list[str] = field(default_factory=list)
    # ``occurred_at`` as a moment (UTC); None when absent or not an ISO 8601 time with a zone.
    sent_at: datetime | None = None


def _summary(ref: Any) -> str:
    return str(ref.get("summary") or ref.get("id") or "") if isinstance(ref, dict) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def content_id(event: dict[str, Any]) -> str:
    """The id of an event that carries none: a hash of its content, so that a redelivery of it
    is still seen once (never dropped, never noted twice)."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def parse(body: bytes) -> WebhookEvent:
    """Parse a webhook body; ValueError when it is not a v3 event."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("body is not JSON") from exc
    event = doc.get("event") if isinstance(doc, dict) else None
    if not isinstance(event, dict) or not event.get("event_type"):
        raise ValueError("not a PagerDuty v3 webhook event")
    data = _object(event.get("data"))
    number = data.get("number")
    return WebhookEvent(
        id=str(event.get("id") or content_id(event)),
        type=str(event["event_type"]),
        occurred_at=str(event.get("occurred_at") or ""),
        agent=_summary(event.get("agent")),
        incident_id=str(data.get("id") or ""),
        incident_key=data.get("incident_key") or None,
        number=number if isinstance(number, int) else None,
        title=str(data.get("title") or ""),
        status=str(data.get("status") or ""),
        html_url=str(data.get("html_url") or ""),
        assignees=[_summary(a) for a in data.get("assignees") or [] if _summary(a)],
        sent_at=_moment(event.get("occurred_at")),
    )


def note_text(event: WebhookEvent) -> str:
    """The internal note for a noted event."""
    name = f"#{event.number}" if event.number is not None else event.incident_id
    incident = f"PagerDuty incident {name}" + (f' "{event.title}"' if event.title else "")
    by = f" by {event.agent}" if event.agent else ""
    if event.type == "incident.acknowledged":
        text = f"{incident} was acknowledged{by}."
    elif event.type == "incident.reassigned":
        who = ", ".join(event.assignees) or "nobody"
        text = f"{incident} was reassigned to {who}{by}."
    else:
        text = f"{incident} was resolved{by}."
    return f"{text}\n{event.html_url}".strip()
