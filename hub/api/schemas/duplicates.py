"""Likely duplicates: a flag as one ticket sees it, and the tenant's settings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.duplicates.service import MAX_WINDOW_DAYS
from hub.api.schemas.common import Strict


class DuplicateFlagPublic(BaseModel):
    """A possible duplicate of ``ticket_id``: ``other_ticket_id`` with its subject, the score
    and the reason (what matched, in words of both tickets' current text: the stored flag keeps
    none of it, so an erasure leaves nothing behind). ``status`` is open, dismissed or merged."""

    id: int
    ticket_id: int
    other_ticket_id: int
    other_subject: str
    other_status: str
    score: float
    reason: str
    status: str
    created_at: datetime
    decided_by: int | None = None
    decided_at: datetime | None = None


class DuplicateSettingsPublic(BaseModel):
    """Whether new tickets are compared with the requester's open tickets, and how many days
    back."""

    enabled: bool
    window_days: int


class DuplicateSettingsUpdate(Strict):
    enabled: bool
    window_days: int = Field(ge=1, le=MAX_WINDOW_DAYS)
