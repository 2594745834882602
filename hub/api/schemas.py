"""Request and response shapes: Create / Update / Public per resource (spec section 12.1)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.lifecycle import CATEGORIES, PRIORITIES, STATUSES

Category = Literal[CATEGORIES]  # type: ignore[valid-type]
Priority = Literal[PRIORITIES]  # type: ignore[valid-type]
Status = Literal[STATUSES]  # type: ignore[valid-type]


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone (e.g. 2026-01-01T00:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first representable moment
        raise ValueError("is out of range once converted to UTC") from None


# Every datetime the API takes (query parameters and bodies): aware, in UTC, 422 when it is not.
UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketCreate(Strict):
    subject: str = Field(min_length=1, max_length=255)
    description: str = Field(min_length=1, max_length=100_000)
    category: Category = "Other"
    priority: Priority = "Medium"
    requester_email: str | None = Field(
        default=None, max_length=254, description="staff only: open on behalf of this user"
    )


class TicketUpdate(Strict):
    status: Status | None = None
    priority: Priority | None = None
    category: Category | None = None
    assigned_to: int | None = Field(default=None, ge=1, le=2_147_483_647)
    unassign: bool = False
    satisfaction_rating: int | None = Field(default=None, ge=1, le=5)
    feedback: str | None = Field(default=None, max_length=10_000)


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


class TicketPage(BaseModel):
    results: list[TicketPublic]
    next_cursor: str | None


class CommentCreate(Strict):
    comment: str = Field(min_length=1, max_length=100_000)
    is_internal: bool = False


class CommentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    user_id: int
    comment: str
    is_internal: bool
    created_at: datetime
    channel: str
    # The channel could not authenticate the sender (mail without aligned SPF/DKIM, or a
    # staff address that did not reply through its signed reply address).
    unverified_sender: bool = False


class AttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    file_name: str
    file_size: int | None
    mime_type: str | None
    created_at: datetime
    uploaded_by: int
    is_internal: bool
    download_url: str = ""


class ExternalRefPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    value: str
    meta: dict[str, Any]


class MergedTicket(BaseModel):
    id: int
    subject: str
    comments: list[CommentPublic]


class TicketDetail(TicketPublic):
    comments: list[CommentPublic]
    attachments: list[AttachmentPublic]
    external_refs: list[ExternalRefPublic]
    merged_from: list[MergedTicket]


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


class MergeRequest(Strict):
    target_id: int = Field(ge=1, le=2**62)


class BulkRequest(Strict):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=500)
    action: Literal["assign", "close", "set_priority", "set_status"]
    assigned_to: int | None = Field(default=None, ge=1, le=2_147_483_647)
    priority: Priority | None = None
    status: Status | None = None


class BulkResult(BaseModel):
    results: list[dict[str, Any]]


class EscalateRequest(Strict):
    target: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=2000)


class SlaPolicyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int | None
    category: str | None
    priority: str
    response_minutes: int
    resolution_minutes: int
    calendar: dict[str, Any] | None
    is_default: bool = False


class PluginPublic(BaseModel):
    name: str
    title: str
    description: str
    capabilities: list[str]
    enabled: bool
    settings: dict[str, Any]
    secrets_set: list[str]
    settings_schema: dict[str, Any] | None


class PluginConfigure(Strict):
    settings: dict[str, Any] = Field(default_factory=dict)


class OutboxPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int | None
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class LoginRequest(Strict):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(default=None, max_length=63)
