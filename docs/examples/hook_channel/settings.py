"""Per-tenant settings of the example channel (validated by the admin API on every change)."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from core.api import EgressRefused, PluginConfig, policy_of

SECRET_FIELDS = ("secret",)


class HookSettings(BaseModel):
    secret: str | None = Field(default=None, description="HMAC-SHA256 key of inbound requests.")
    callback_url: str | None = Field(default=None, description="Where agents' replies are POSTed.")

    @field_validator("callback_url")
    @classmethod
    def _allowed(cls, value: str | None, info: ValidationInfo) -> str | None:
        policy = policy_of(info.context)
        if value and policy is not None:
            try:
                policy.check_configured_url(value)
            except EgressRefused as exc:
                raise ValueError(str(exc)) from None
        return value


def load(config: PluginConfig) -> HookSettings:
    return HookSettings.model_validate({**config.settings, **config.secrets})
