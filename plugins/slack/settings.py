"""Per-tenant settings of the Slack plugin (validated by the admin API)."""

from __future__ import annotations

from pydantic import BaseModel, Field

DEFAULT_API = "https://slack.com/api/"
SECRET_FIELDS = ("bot_token", "signing_secret", "app_token")


class SlackSettings(BaseModel):
    """One Slack workspace bound to the tenant."""

    team_id: str = Field(default="", pattern=r"^(T[A-Z0-9]+)?$",
                         description="The workspace id (T...) whose requests this tenant owns.")
    bot_token: str = Field(default="", description="Bot token xoxb-... (secret).")
    signing_secret: str = Field(default="", description="App signing secret (secret).")
    triage_channel: str = Field(default="", description="Channel id where new tickets are posted.")
    api_base_url: str = Field(default=DEFAULT_API,
                              description="Slack Web API base URL (a compatible endpoint may stand in).")
    socket_mode: bool = Field(default=False,
                              description="Connect out over Socket Mode (no public request URL).")
    app_token: str = Field(default="", description="App-level token xapp-... for Socket Mode (secret).")


def api_base(value: str | None) -> str:
    """The Web API base URL with the trailing slash slack_sdk expects."""
    base = (value or DEFAULT_API).strip()
    return base if base.endswith("/") else base + "/"
