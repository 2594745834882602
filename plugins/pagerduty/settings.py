"""Per-tenant settings of the PagerDuty plugin (validated by the admin API on every change)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from core.api import PRIORITIES, PluginConfig

SECRET_FIELDS = ("routing_key", "api_token", "webhook_secret")


class PagerDutySettings(BaseModel):
    """What a tenant's admin sets; the three secrets are stored encrypted and never shown."""

    routing_key: str | None = Field(
        default=None, description="Events API v2 integration (routing) key of the service to page.")
    api_token: str | None = Field(
        default=None, description="REST API token (optional): used to look up incidents that a "
                                  "webhook names by id only.")
    webhook_secret: str | None = Field(
        default=None, description="Signing secret of the v3 webhook subscription; during a "
                                  "rotation PagerDuty sends one signature per secret.")
    priorities: list[str] = Field(
        default_factory=lambda: ["Critical"],
        description="Ticket priorities whose SLA breach pages on-call.")
    severity: Literal["critical", "error", "warning", "info"] = Field(
        default="critical", description="Severity of the alerts the hub triggers.")
    base_url: str = Field(default="https://events.pagerduty.com",
                          description="Events API base URL (https only).")
    api_base_url: str = Field(default="https://api.pagerduty.com",
                              description="REST API base URL (https only).")
    ca_bundle: str | None = Field(
        default=None, description="Path of a CA certificate (PEM) to trust for a private "
                                  "endpoint; the system store is used when empty.")

    @field_validator("priorities")
    @classmethod
    def _known_priorities(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PRIORITIES]
        if unknown:
            raise ValueError(f"unknown priorities {unknown}; use {', '.join(PRIORITIES)}")
        return value

    @field_validator("base_url", "api_base_url")
    @classmethod
    def _https(cls, value: str) -> str:
        # The pagerduty client refuses anything else; say so when the admin saves it.
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value.rstrip("/")


    @field_validator("ca_bundle")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        if value and not Path(value).is_file():
            raise ValueError(f"{value} is not a readable file")
        return value or None


def load(config: PluginConfig) -> PagerDutySettings:
    """The tenant's settings, secrets merged in, defaults filled."""
    values: dict[str, Any] = {**config.settings, **config.secrets}
    return PagerDutySettings.model_validate(
        {k: v for k, v in values.items() if k in PagerDutySettings.model_fields})
