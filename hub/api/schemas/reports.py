"""Report schemas: the volume report, the ticket export's query (the queue's filters) and saved
reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

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
    tag: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=20)


def ticket_filter(query: TicketExportQuery, user_id: int | None) -> TicketFilter:
    flt = TicketFilter(
        status=list(query.status),
        priority=list(query.priority),
        category=list(query.category),
        created_by=query.requester,
        created_after=query.created_after,
        created_before=query.created_before,
        q=query.q.strip() or None,
        tags=[t for t in query.tag if t.strip()],
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


# The standard reports (core/reports/catalog.py), one model each, told apart by ``report``.
# Rows stay open objects: their columns follow the report's ``group`` and the tenant's data.
Row = dict[str, Any]


class _StandardReport(BaseModel):
    title: str
    filters: dict[str, str] = Field(description="start, end and the filters applied")


class VolumeStandardReport(_StandardReport):
    """Created, resolved and backlog per period (``interval``: day, week or month)."""

    report: Literal["volume"]
    interval: str
    opening_backlog: int
    totals: dict[str, int]
    series: list[Row]


class DurationReport(_StandardReport):
    """First response or resolution times per ``group`` (calendar and business minutes)."""

    report: Literal["first_response", "resolution"]
    group: str | None
    unit: Literal["minutes"]
    rows: list[Row]


class SlaReport(_StandardReport):
    """Share of tickets that met their targets, per group, and breaches by policy."""

    report: Literal["sla"]
    group: str | None
    rows: list[Row]
    breaches_by_policy: list[Row]


class AgentsReport(_StandardReport):
    """Per agent: tickets handled, median times, rating."""

    report: Literal["agents"]
    unit: Literal["minutes"]
    rows: list[Row]


class TrendSeries(BaseModel):
    values: list[Any]
    totals: Row
    series: list[Row]


class TrendsReport(_StandardReport):
    """Tickets per period by category, priority and channel."""

    report: Literal["trends"]
    interval: str
    periods: list[str]
    category: TrendSeries
    priority: TrendSeries
    channel: TrendSeries


class SatisfactionReport(_StandardReport):
    """Ratings: average, distribution, by agent, by category, over time; feedback."""

    report: Literal["satisfaction"]
    interval: str
    average: float | None
    count: int
    distribution: dict[str, int] = Field(description='count per rating, "1" to "5"')
    by_agent: list[Row]
    by_category: list[Row]
    trend: list[Row]
    feedback: list[Row]
    kb_deflections: int


StandardReport = Annotated[
    VolumeStandardReport
    | DurationReport
    | SlaReport
    | AgentsReport
    | TrendsReport
    | SatisfactionReport,
    Field(discriminator="report"),
]
