"""Per-tenant settings of the Microsoft Teams plugin (validated by the admin API)."""

from __future__ import annotations

from pydantic import BaseModel, Field

DEFAULT_LOGIN_URL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
SECRET_FIELDS = ("app_password", "outgoing_webhook_secret")


class TeamsSettings(BaseModel):
    """One Teams bot (Azure Bot registration) and/or one outgoing webhook bound to the tenant."""

    app_id: str = Field(default="", max_length=100,
                        description="Microsoft App ID of the bot; names the tenant of its requests.")
    app_password: str = Field(default="", description="The bot's client secret (secret).")
    outgoing_webhook_secret: str = Field(
        default="", description="Security token of a Teams outgoing webhook, base64 (secret).")
    login_url: str = Field(default=DEFAULT_LOGIN_URL,
                           description="OAuth token endpoint for the bot's client credentials.")
    openid_metadata_url: str = Field(
        default=DEFAULT_OPENID_METADATA_URL,
        description="Bot Framework OpenID metadata (where the token signing keys are listed).")
    triage_conversation: str = Field(
        default="", description="Conversation id where new tickets are announced with a card.")
