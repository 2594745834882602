"""Query models of the report exports: the ticket list's filters, as the queue takes them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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
