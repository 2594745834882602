"""Per-tenant settings of the Slack plugin (validated by the admin API)."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from core.api import STRICT, EgressPolicy, EgressRefused, policy_of

DEFAULT_API = "https://slack.com/api/"
SLACK_API_HOSTS = ("slack.com",)
SECRET_FIELDS = ("bot_token", "signing_secret", "app_token")


class SlackSettings(BaseModel):
    """One Slack workspace bound to the tenant."""

    team_id: str = Field(
        title="Slack workspace ID",
        default="",
        pattern=r"^(T[A-Z0-9]+)?$",
        description="The workspace id (T...) whose requests this tenant owns.",
    )
    bot_token: str = Field(
        title="Bot token (xoxb-…)", default="", description="Bot token xoxb-... (secret)."
    )
    signing_secret: str = Field(
        title="Signing secret", default="", description="App signing secret (secret)."
    )
    triage_channel: str = Field(
        title="Triage channel", default="", description="Channel id where new tickets are posted."
    )
    api_base_url: str = Field(
        title="Slack API address",
        default=DEFAULT_API,
        description="Slack Web API base URL: fixed to https://slack.com/api/ "
        "unless the operator allows vendor URL overrides.",
    )
    socket_mode: bool = Field(
        title="Use Socket Mode",
        default=False,
        description="Connect out over Socket Mode (no public request URL).",
    )
    app_token: str = Field(
        title="App-level token (xapp-…)",
        default="",
        description="App-level token xapp-... for Socket Mode (secret).",
    )

    @field_validator("api_base_url")
    @classmethod
    def _api_base_url(cls, value: str, info: ValidationInfo) -> str:
        egress = policy_of(info.context)  # the admin API's save; each client checks again
        if egress is not None:
            try:
                egress.check_configured_url(checked_api_base(value, egress))
            except EgressRefused as exc:
                raise ValueError(exc.message) from None
        return value


def api_base(value: str | None) -> str:
    """The Web API base URL with the trailing slash slack_sdk expects."""
    base = (value or DEFAULT_API).strip()
    return base if base.endswith("/") else base + "/"


def checked_api_base(value: str | None, egress: EgressPolicy = STRICT) -> str:
    """``api_base`` once the egress policy allows it: Slack's own API unless the operator
    allows vendor URL overrides (``EgressRefused`` otherwise)."""
    return api_base(egress.vendor_url(value, DEFAULT_API, SLACK_API_HOSTS, "api_base_url"))
