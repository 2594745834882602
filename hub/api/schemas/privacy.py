"""Request shapes of person data: holds, erasure, retention settings and runs."""

from __future__ import annotations

from datetime import datetime

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


class ExportPublic(BaseModel):
    """An export: its progress and, once done, the signed link (valid until ``expires_at``)."""

    id: int
    user_id: int
    status: str
    step: str
    progress: int
    total: int
    size: int | None
    error: str
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    download_url: str | None


class ErasurePreviewPublic(BaseModel):
    """What an erasure would remove, per kind, and the hold that blocks it. ``shared_account``:
    the account also belongs to another organisation, which keeps it (and its sign-in); only
    this organisation's share of the person is erased."""

    user_id: int
    counts: dict[str, int]
    held: bool
    hold_reason: str | None
    shared_account: bool = False


class ErasedPublic(BaseModel):
    """What an erasure removed; the person is now known by ``pseudonym``."""

    user_id: int
    pseudonym: str
    counts: dict[str, int]


class HoldPublic(BaseModel):
    id: int
    user_id: int | None
    ticket_id: int | None
    reason: str
    created_at: datetime
    released_at: datetime | None


class PolicyPublic(BaseModel):
    comment_erasure: str
    export_days: int
    closed_ticket_days: int | None
    closed_ticket_action: str
    raw_mail_days: int | None
    parked_mail_days: int | None
    audit_years: int | None


class RetentionRunPublic(BaseModel):
    id: int
    dry_run: bool
    trigger: str
    status: str
    counts: dict[str, int]
    notes: dict[str, str]
    started_at: datetime
    finished_at: datetime | None
    error: str


class RetentionPublic(BaseModel):
    settings: PolicyPublic
    runs: list[RetentionRunPublic] = []


class RetentionSettingsPublic(BaseModel):
    settings: PolicyPublic
