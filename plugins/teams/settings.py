"""Per-tenant settings of the Microsoft Teams plugin (validated by the admin API)."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from core.api import STRICT, EgressPolicy, EgressRefused, policy_of

DEFAULT_LOGIN_URL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
# Microsoft's own hosts: the two URLs are fixed to them unless the operator allows overrides.
LOGIN_HOSTS = ("login.microsoftonline.com",)
METADATA_HOSTS = ("login.botframework.com",)
SECRET_FIELDS = ("app_password", "outgoing_webhook_secret")
TOKEN_PATH = "/oauth2/v2.0/token"  # an AAD v2 token endpoint: msal's authority + this


class TeamsSettings(BaseModel):
    """One Teams bot (Azure Bot registration) and/or one outgoing webhook bound to the tenant."""

    app_id: str = Field(
        title="Bot app ID (Microsoft App ID)",
        default="",
        max_length=100,
        description="Microsoft App ID of the bot; names the tenant of its requests.",
    )
    app_password: str = Field(
        title="Bot client secret", default="", description="The bot's client secret (secret)."
    )
    outgoing_webhook_secret: str = Field(
        title="Outgoing webhook security token",
        default="",
        description="Security token of a Teams outgoing webhook, base64 (secret).",
    )
    login_url: str = Field(
        title="Microsoft sign-in address",
        default=DEFAULT_LOGIN_URL,
        description="OAuth token endpoint for the bot's client credentials "
        "(Microsoft's unless the operator allows overrides).",
    )
    openid_metadata_url: str = Field(
        title="Bot Framework OpenID metadata address",
        default=DEFAULT_OPENID_METADATA_URL,
        description="Bot Framework OpenID metadata (where the token signing keys are listed; "
        "Microsoft's unless the operator allows overrides).",
    )
    triage_conversation: str = Field(
        title="Triage conversation",
        default="",
        description="Conversation id where new tickets are announced with a card.",
    )

    @field_validator("login_url", "openid_metadata_url")
    @classmethod
    def _vendor(cls, value: str, info: ValidationInfo) -> str:
        egress = policy_of(info.context)  # the admin API's save; each call checks again
        if egress is not None:
            try:
                url = (login_url if info.field_name == "login_url" else metadata_url)(value, egress)
                egress.check_configured_url(url)
            except EgressRefused as exc:
                raise ValueError(exc.message) from None
        if info.field_name == "login_url" and value:
            authority_of(value)
        return value


def login_url(value: str | None, egress: EgressPolicy = STRICT) -> str:
    """The token endpoint to use: Microsoft's unless the operator allows vendor overrides."""
    return egress.vendor_url(value, DEFAULT_LOGIN_URL, LOGIN_HOSTS, "login_url")


def metadata_url(value: str | None, egress: EgressPolicy = STRICT) -> str:
    """The OpenID metadata to use: Microsoft's unless the operator allows vendor overrides."""
    return egress.vendor_url(
        value, DEFAULT_OPENID_METADATA_URL, METADATA_HOSTS, "openid_metadata_url"
    )


def authority_of(url: str) -> str:
    """The msal authority of an AAD v2 token endpoint (``<authority>/oauth2/v2.0/token``)."""
    if not url.rstrip("/").endswith(TOKEN_PATH):
        raise ValueError(f"must be an AAD v2 token endpoint, ending in {TOKEN_PATH}")
    return url.rstrip("/")[: -len(TOKEN_PATH)]
