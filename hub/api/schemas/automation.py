"""Automation rules, the tenant's built-in automation settings, and macros."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from core.automation.macros import MAX_BULK
from hub.api.deps import MAX_ID
from hub.api.schemas.common import Strict


class RuleCreate(Strict):
    """A new rule; see ``core.automation.rules`` for fields, ops and action types."""

    name: str = Field(min_length=1, max_length=100)
    trigger: str
    hours: float | None = None
    conditions: list[dict[str, Any]] = Field(default_factory=list)
    actions: list[dict[str, Any]]
    is_active: bool = True
    position: int = Field(default=0, ge=0, le=10_000)


class RuleUpdate(Strict):
    """Only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    trigger: str | None = None
    hours: float | None = None
    conditions: list[dict[str, Any]] | None = None
    actions: list[dict[str, Any]] | None = None
    is_active: bool | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)


class RulePublic(BaseModel):
    """A stored rule."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    trigger: str
    hours: float | None
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    is_active: bool
    position: int
    created_at: datetime
    updated_at: datetime


class AutomationSettingsPublic(BaseModel):
    """The tenant's built-in automations."""

    model_config = ConfigDict(from_attributes=True)

    assign_mode: str | None = None
    auto_close_hours: float | None = None
    auto_respond: bool | None = None


class AutomationSettingsUpdate(Strict):
    """Only the fields sent change; ``auto_close_hours`` 0 turns auto-close off."""

    assign_mode: str | None = None
    auto_close_hours: float | None = Field(default=None, ge=0, le=24 * 365)
    auto_respond: bool | None = None


class MacroCreate(Strict):
    """A new macro: reply text with placeholders, optional field changes."""

    name: str = Field(min_length=1, max_length=100)
    body: str = Field(default="", max_length=100_000)
    is_internal: bool = False
    changes: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True


class MacroUpdate(Strict):
    """Only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    body: str | None = Field(default=None, max_length=100_000)
    is_internal: bool | None = None
    changes: dict[str, Any] | None = None
    is_active: bool | None = None


class MacroPublic(BaseModel):
    """A stored macro."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    body: str
    is_internal: bool
    changes: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class MacroApply(Strict):
    """The tickets to apply a macro to."""

    ticket_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=MAX_BULK
    )


class MacroTicketResult(BaseModel):
    """What applying the macro did to one ticket (``ok``: the comment posted, the changes
    made), or why it could not (``status``, ``detail``)."""

    id: int
    ok: bool
    ticket_id: int | None = None
    comment_id: int | None = None
    changes: dict[str, Any] | None = None
    status: int | None = Field(default=None, description="the error status when not ok")
    detail: str | None = None


class MacroApplyResult(BaseModel):
    results: list[MacroTicketResult]
