"""Request shapes of person data: holds, erasure, retention settings and runs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HoldCreate(BaseModel):
    """A legal hold on a member (``user_id``) or a ticket (``ticket_id``), with its reason."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)
    user_id: int | None = Field(default=None, ge=1)
    ticket_id: int | None = Field(default=None, ge=1)


class ErasureConfirm(BaseModel):
    """Erasure is irreversible: ``confirm`` must be true."""

    model_config = ConfigDict(extra="forbid")
    confirm: bool


class RetentionSettings(BaseModel):
    """The tenant's retention periods (days; ``audit_years`` in years; null: kept)."""

    model_config = ConfigDict(extra="forbid")
    comment_erasure: str | None = Field(default=None, pattern="^(redact|remove)$")
    export_days: int | None = Field(default=None, ge=1, le=36500)
    closed_ticket_days: int | None = Field(default=None, ge=1, le=36500)
    closed_ticket_action: str | None = Field(default=None, pattern="^(anonymise|delete)$")
    raw_mail_days: int | None = Field(default=None, ge=1, le=36500)
    parked_mail_days: int | None = Field(default=None, ge=1, le=36500)
    audit_years: int | None = Field(default=None, ge=1, le=100)


class RetentionRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = False
