"""What escalating a ticket answers, and the targets offered."""

from __future__ import annotations

from pydantic import BaseModel


class EscalationResult(BaseModel):
    """The escalation is queued as an outbox event; the plugin acts when it is delivered."""

    ticket_id: int
    target: str
    event_id: int
    status: str


class EscalationTargetPublic(BaseModel):
    plugin: str
    target: str
    label: str
