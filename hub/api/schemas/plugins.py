"""What the tenant's plugin administration answers (``/api/v1/admin/plugins/...``) and the
outbox retry."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ChannelKeyPublic(BaseModel):
    """An inbound key (support address, workspace) the tenant claims, and its state."""

    key: str
    verified: bool
    contested: bool


class PluginPublic(BaseModel):
    """An installed plugin with this tenant's state; secrets are named, never shown."""

    name: str
    title: str
    description: str
    capabilities: list[str]
    enabled: bool
    settings: dict[str, Any]
    secrets_set: list[str] = Field(description="secret fields that hold a value")
    secrets_error: str | None = Field(
        default=None, description="set when the stored secrets decrypt with no key of the hub"
    )
    secret_fields: list[str]
    settings_schema: dict[str, Any] | None
    channel_keys: list[ChannelKeyPublic]


class PluginConfigureResult(PluginPublic):
    """The plugin after a change of settings, and what became of each claimed key."""

    notes: list[str]


class PluginStatePublic(BaseModel):
    name: str
    enabled: bool


class KeyVerificationResult(BaseModel):
    key: str
    verified: bool
    notes: list[str]


class ConnectionCheckResult(BaseModel):
    """What the vendor answered to the integration's connection check, in words."""

    ok: bool
    message: str


class OutboxRetryResult(BaseModel):
    id: int
    status: str
