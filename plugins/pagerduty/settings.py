"""Per-tenant settings of the PagerDuty plugin (validated by the admin API on every change)."""

from __future__ import annotations

import ssl
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from core.api import PRIORITIES, EgressRefused, PluginConfig, policy_of

SECRET_FIELDS = ("routing_key", "api_token", "webhook_secret")


class PagerDutySettings(BaseModel):
    """What a tenant's admin sets; the three secrets are stored encrypted and never shown."""

    routing_key: str | None = Field(
        title="Integration (routing) key",
        default=None,
        description="Events API v2 integration (routing) key of the service to page.",
    )
    api_token: str | None = Field(
        title="REST API token",
        default=None,
        description="REST API token (optional): used to look up incidents that a "
        "webhook names by id only.",
    )
    webhook_secret: str | None = Field(
        title="Webhook signing secret",
        default=None,
        description="Signing secret of the v3 webhook subscription; during a "
        "rotation PagerDuty sends one signature per secret.",
    )
    priorities: list[str] = Field(
        title="Priorities that page",
        default_factory=lambda: ["Critical"],
        description="Ticket priorities whose SLA breach pages on-call.",
    )
    severity: Literal["critical", "error", "warning", "info"] = Field(
        title="Incident severity",
        default="critical",
        description="Severity of the alerts the hub triggers.",
    )
    base_url: str = Field(
        title="Events API address",
        default="https://events.pagerduty.com",
        description="Events API base URL (https only).",
    )
    api_base_url: str = Field(
        title="REST API address",
        default="https://api.pagerduty.com",
        description="REST API base URL (https only).",
    )
    ca_bundle: str | None = Field(
        title="CA bundle (PEM)",
        default=None,
        description="CA certificate(s) to trust, as PEM text (-----BEGIN "
        "CERTIFICATE----- ...), for an endpoint with a private CA; "
        "the system store is used when empty.",
    )

    @field_validator("priorities")
    @classmethod
    def _known_priorities(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PRIORITIES]
        if unknown:
            raise ValueError(f"unknown priorities {unknown}; use {', '.join(PRIORITIES)}")
        return value

    @field_validator("base_url", "api_base_url")
    @classmethod
    def _https(cls, value: str, info: ValidationInfo) -> str:
        # The pagerduty client refuses anything else; say so when the admin saves it.
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        egress = policy_of(info.context)  # the admin API's save; connect time checks again
        if egress is not None:
            try:
                egress.check_configured_url(value, schemes=("https",))
            except EgressRefused as exc:
                raise ValueError(exc.message) from None
        return value.rstrip("/")

    @field_validator("ca_bundle")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        """PEM content, never a path: a path would make the hub read its own files."""
        if not value or not value.strip():
            return None
        if "-----BEGIN CERTIFICATE-----" not in value:
            raise ValueError("must be PEM text (-----BEGIN CERTIFICATE----- ...), not a path")
        try:
            ssl.create_default_context(cadata=value)
        except (ValueError, ssl.SSLError):
            raise ValueError("is not a usable PEM certificate") from None
        return value


def load(config: PluginConfig) -> PagerDutySettings:
    """The tenant's settings, secrets merged in, defaults filled."""
    values: dict[str, Any] = {**config.settings, **config.secrets}
    return PagerDutySettings.model_validate(
        {k: v for k, v in values.items() if k in PagerDutySettings.model_fields}
    )
