"""Tenant administration: plugin settings, key verification, the outbox, members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.permissions import ROLES
from hub.api.schemas.common import Strict


class PluginUpdate(Strict):
    settings: dict[str, Any] = Field(default_factory=dict)


class KeyVerificationCreate(BaseModel):
    """Send a pending key's verification mail again."""

    key: str = Field(min_length=1, max_length=320)


class OutboxEventPublic(BaseModel):
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


class MemberCreate(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    role: str = Field(pattern="^(" + "|".join(ROLES) + ")$")
    full_name: str = Field(default="", max_length=200)


class MemberAdded(BaseModel):
    """The member added (or whose role changed)."""

    id: int
    email: str
    role: str


class AuditEntryPublic(BaseModel):
    """One row of the tenant's audit log (never a password, token or secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    actor_id: int | None
    actor_email: str | None
    ip: str
    target_email: str
    details: dict[str, Any] | None
    created_at: datetime
    # Which trail (tenant: people and access; ticket: ticket actions and tenant settings), the
    # ticket trail's own fields, and the row's link in the tenant's hash chain (None: unsealed).
    trail: str = "tenant"
    ticket_id: int | None = None
    old_value: str | None = None
    new_value: str | None = None
    seq: int | None = None
    row_hash: str | None = None


class AuditPagePublic(BaseModel):
    results: list[AuditEntryPublic]
    next_before: int | None
