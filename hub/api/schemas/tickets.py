"""Tickets: create, update, list, the detail page, merge, bulk actions, audit, escalation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.attachments import AttachmentPublic
from hub.api.schemas.comments import CommentPublic
from hub.api.schemas.common import Category, Priority, Status, Strict


class TicketCreate(Strict):
    subject: str = Field(min_length=1, max_length=255)
    description: str = Field(min_length=1, max_length=100_000)
    category: Category = "Other"
    priority: Priority = "Medium"
    requester_email: str | None = Field(
        default=None, max_length=254, description="staff only: open on behalf of this user"
    )
    tags: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=30, description="staff only: tags to put on it"
    )
    custom_fields: dict[str, Any] = Field(
        default_factory=dict,
        max_length=100,
        description="{key: value} of the tenant's custom fields (see GET /api/v1/support/fields/)",
    )


class TicketUpdate(Strict):
    status: Status | None = None
    priority: Priority | None = None
    category: Category | None = None
    assigned_to: int | None = Field(default=None, ge=1, le=2_147_483_647)
    unassign: bool = False
    group_id: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="an agent group; null: no group"
    )
    satisfaction_rating: int | None = Field(default=None, ge=1, le=5)
    feedback: str | None = Field(default=None, max_length=10_000)
    add_tags: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=30
    )
    remove_tags: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=30
    )
    custom_fields: dict[str, Any] = Field(
        default_factory=dict, max_length=100, description="{key: value}; null clears a field"
    )


class TicketPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    created_at: datetime
    subject: str
    description: str
    category: str
    priority: str
    created_by: int
    assigned_to: int | None
    sla_due_at: datetime | None
    sla_breached: bool
    closed_at: datetime | None
    satisfaction_rating: int | None
    feedback: str | None
    updated_at: datetime
    channel: str
    merged_into_id: int | None
    first_response_at: datetime | None
    group_id: int | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class TicketPage(BaseModel):
    results: list[TicketPublic]
    next_cursor: str | None


class ExternalRefPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    value: str
    meta: dict[str, Any]


class MergedTicketPublic(BaseModel):
    """A ticket merged into this one, with the comments the caller may see."""

    id: int
    subject: str
    comments: list[CommentPublic]


class TicketDetailPublic(TicketPublic):
    comments: list[CommentPublic]
    attachments: list[AttachmentPublic]
    external_refs: list[ExternalRefPublic]
    merged_from: list[MergedTicketPublic]


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int | None
    action: str
    performed_by: int | None
    old_value: str | None
    new_value: str | None
    created_at: datetime
    details: dict[str, Any] | None


class TicketMerge(Strict):
    target_id: int = Field(ge=1, le=2**62)


class TicketBulk(Strict):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=500)
    action: Literal[
        "assign", "close", "set_priority", "set_status", "set_group", "add_tag", "remove_tag"
    ]
    assigned_to: int | None = Field(default=None, ge=1, le=2_147_483_647)
    group_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    priority: Priority | None = None
    status: Status | None = None
    tag: str | None = Field(default=None, max_length=100, description="for add_tag, remove_tag")


class TagPublic(BaseModel):
    id: int
    name: str
    tickets: int


class CustomFieldPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    label: str
    type: str
    options: list[str]
    required_categories: list[str]
    show_on_ticket: bool
    show_on_portal: bool
    position: int
    is_active: bool


class TicketBulkResult(BaseModel):
    results: list[dict[str, Any]]


class EscalationCreate(Strict):
    target: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=2000)
