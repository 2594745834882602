"""What the volume report answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class CsatPublic(BaseModel):
    rated: int
    average: float | None


class VolumeReport(BaseModel):
    """Tickets created in [start, end), counted by status, priority and category."""

    start: datetime | None
    end: datetime | None
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_category: dict[str, int]
    total: int
    csat: CsatPublic
    sla_breached: int
