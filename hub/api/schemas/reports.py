"""Report schemas: the volume report, the ticket export's query (the queue's filters) and saved
reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import Invalid
from core.services.tickets import TicketFilter
from hub.api.schemas.common import Category, Priority, Status, Strict, UtcDateTime


class TicketExportQuery(Strict):
    """The queue's filters (unknown ones are a 422) and the file format."""

    format: Literal["csv", "xlsx", "pdf"] = "csv"
    status: list[Status] = Field(default_factory=list, max_length=7)
    priority: list[Priority] = Field(default_factory=list, max_length=4)
    category: list[Category] = Field(default_factory=list, max_length=20)
    assignee: str = Field(default="", max_length=12, description="me, none or a user id")
    requester: int | None = Field(default=None, ge=1, le=2**31 - 1)
    breached: Literal["", "yes", "no"] = ""
    q: str = Field(default="", max_length=200)
    created_after: UtcDateTime | None = None
    created_before: UtcDateTime | None = None


def ticket_filter(query: TicketExportQuery, user_id: int | None) -> TicketFilter:
    flt = TicketFilter(
        status=list(query.status),
        priority=list(query.priority),
        category=list(query.category),
        created_by=query.requester,
        created_after=query.created_after,
        created_before=query.created_before,
        q=query.q.strip() or None,
    )
    if query.assignee == "me":
        flt.assigned_to = user_id
    elif query.assignee == "none":
        flt.unassigned = True
    elif query.assignee.isdigit() and len(query.assignee) < 10:
        flt.assigned_to = int(query.assignee)
    elif query.assignee:
        raise Invalid("assignee must be me, none or a user id", field="assignee")
    if query.breached:
        flt.sla_breached = query.breached == "yes"
    return flt


class SavedReportCreate(Strict):
    """A standard report, its query (the report's own parameters) and who sees it."""

    name: str = Field(min_length=1, max_length=80)
    report: Literal[
        "volume", "first-response", "resolution", "sla", "agents", "trends", "satisfaction"
    ]
    query: dict[str, Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=20
    )
    shared: bool = False


class SavedReportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    report: str
    query: dict[str, str]
    shared: bool
    created_at: datetime


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
