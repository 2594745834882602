"""What a Slack listener works with: the hub, the tenant, its settings and a Web API client.

Its own module so that the listeners (intake, agents, files) do not import the service that
registers them (``service`` imports them, and nothing here imports ``service``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from slack_sdk import WebClient

from core.api import HubContext, PluginConfig


@dataclass
class Ctx:
    """What a listener works with: the hub, the tenant, its settings and a client."""

    hub: HubContext
    tenant_id: uuid.UUID
    team: str
    config: PluginConfig
    client: WebClient

    @property
    def bot_user_id(self) -> str | None:
        """Our bot's user id (learnt with auth.test)."""
        return self.config.state.get("bot_user_id")

    @property
    def bot_id(self) -> str | None:
        """Our bot's bot id (learnt with auth.test)."""
        return self.config.state.get("bot_id")
