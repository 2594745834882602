"""Per-tenant settings of the Jira plugin (validated by the admin API on every change)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from core.api import PRIORITIES, STATUSES, EgressRefused, PluginConfig, policy_of

SECRET_FIELDS = ("api_token", "pat", "webhook_secret")


class JiraSettings(BaseModel):
    """What a tenant's admin sets; the secrets are stored encrypted and never shown."""

    server: str | None = Field(
        title="Jira address",
        default=None,
        description="Base URL of the Jira site, e.g. https://acme.atlassian.net.",
    )
    user: str | None = Field(
        title="Jira user (Cloud)",
        default=None,
        description="The API user (Cloud: its email) for basic auth with api_token.",
    )
    api_token: str | None = Field(
        title="API token (Jira Cloud)",
        default=None,
        description="API token of ``user`` (Jira Cloud).",
    )
    pat: str | None = Field(
        title="Personal access token (Jira Server / Data Center)",
        default=None,
        description="Personal access token (Jira Server/Data Center), used "
        "when no user/api_token pair is set.",
    )
    project_key: str | None = Field(
        title="Project key", default=None, description="Project that escalations go to."
    )
    issue_type: str = Field(
        title="Issue type", default="Task", description="Issue type of escalations."
    )
    priority_map: dict[str, str] = Field(
        title="Priority mapping",
        default_factory=lambda: {
            "Critical": "Highest",
            "High": "High",
            "Medium": "Medium",
            "Low": "Low",
        },
        description="Ticket priority -> Jira priority name; unmapped priorities are not sent.",
    )
    status_map: dict[str, str] = Field(
        title="Status mapping",
        default_factory=lambda: {"In Progress": "In Progress", "Done": "Resolved"},
        description="Jira status name -> ticket status; other Jira statuses leave the ticket alone.",
    )
    webhook_secret: str | None = Field(
        title="Webhook secret",
        default=None,
        description="Secret of the Jira webhook (X-Hub-Signature).",
    )
    comment_marker: str = Field(
        title="Comment marker",
        default="#jira",
        min_length=1,
        max_length=20,
        description="An internal note that starts with this is posted to the linked Jira issue.",
    )

    @field_validator("server")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s):// URL")
        egress = policy_of(info.context)  # the admin API's save; connect time checks again
        if value and egress is not None:
            try:
                egress.check_configured_url(value)
            except EgressRefused as exc:
                raise ValueError(exc.message) from None
        return value.rstrip("/") if value else value

    @field_validator("project_key")
    @classmethod
    def _project(cls, value: str | None) -> str | None:
        # It goes into JQL: only what Jira allows in a project key.
        if value and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,49}", value):
            raise ValueError("must be a Jira project key such as SUP")
        return value

    @field_validator("priority_map")
    @classmethod
    def _priorities(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [p for p in value if p not in PRIORITIES]
        if unknown:
            raise ValueError(f"unknown ticket priorities {unknown}")
        return value

    @field_validator("status_map")
    @classmethod
    def _statuses(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [s for s in value.values() if s not in STATUSES]
        if unknown:
            raise ValueError(f"unknown ticket statuses {unknown}; use {', '.join(STATUSES)}")
        return value


def load(config: PluginConfig) -> JiraSettings:
    """The tenant's settings, secrets merged in, defaults filled."""
    values: dict[str, Any] = {**config.settings, **config.secrets}
    return JiraSettings.model_validate(
        {k: v for k, v in values.items() if k in JiraSettings.model_fields}
    )
