"""SLA policies, and a ticket's SLA clock with its log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from core.sla.clock import DEFAULT_WARNING_PERCENT
from hub.api.schemas.common import Category, Priority, Strict

GroupId = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]


class SlaPolicyPublic(BaseModel):
    """A stored policy, or a default row (``id`` null, ``is_default`` true)."""

    model_config = ConfigDict(from_attributes=True)

    id: int | None
    group_id: int | None = None
    category: str | None
    priority: str
    response_minutes: int
    resolution_minutes: int
    calendar: dict[str, Any] | None
    warning_percent: int = DEFAULT_WARNING_PERCENT
    is_active: bool = True
    is_default: bool = False


class SlaPolicyCreate(Strict):
    """``calendar`` null is 24x7; ``group_id`` (an agent group of the tenant) limits the policy
    to that group's tickets, ``category`` to that category's."""

    group_id: GroupId | None = None
    category: Category | None = None
    priority: Priority
    response_minutes: int = Field(gt=0, le=525_600)
    resolution_minutes: int = Field(gt=0, le=5_256_000)
    calendar: dict[str, Any] | None = None
    warning_percent: int = Field(default=DEFAULT_WARNING_PERCENT, ge=1, le=99)
    is_active: bool = True


class SlaPolicyUpdate(Strict):
    """Only the fields sent change (``group_id`` and ``category`` null: every group, category)."""

    group_id: GroupId | None = None
    category: Category | None = None
    priority: Priority | None = None
    response_minutes: int | None = Field(default=None, gt=0, le=525_600)
    resolution_minutes: int | None = Field(default=None, gt=0, le=5_256_000)
    calendar: dict[str, Any] | None = None
    warning_percent: int | None = Field(default=None, ge=1, le=99)
    is_active: bool | None = None


class SlaTargetPublic(BaseModel):
    """One target of the current cycle."""

    minutes: int
    met_at: datetime | None
    warn_at: datetime | None
    due_at: datetime | None
    warned: bool
    breached: bool


class SlaLogPublic(BaseModel):
    """A ``support_sla_logs`` row."""

    id: int
    event: str
    target: str | None
    event_time: datetime
    details: str | None


class TicketSlaPublic(BaseModel):
    """A ticket's SLA clock and log."""

    ticket_id: int
    policy_id: int | None
    calendar: str
    warning_percent: int
    cycle: int
    cycle_started_at: datetime
    paused: bool
    paused_since: datetime | None
    paused_minutes: float
    elapsed_minutes: float
    sla_due_at: datetime | None
    breached: bool
    targets: dict[str, SlaTargetPublic]
    log: list[SlaLogPublic]
