"""Notifications: marks, one's choices, the tenant's defaults."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.api.schemas.common import Strict


class Choices(Strict):
    """On/off per ``"kind:channel"`` (e.g. ``"assigned:email": false``); kinds and channels
    are the notification matrix's."""

    choices: dict[str, bool] = Field(default_factory=dict, max_length=200)


class TenantDefaults(Strict):
    """Who hears about unassigned tickets (``all_agents`` or ``nobody``), and the tenant's
    default on/off per ``"kind:channel"``."""

    unassigned: str = Field(default="all_agents", max_length=20)
    defaults: dict[str, bool] = Field(default_factory=dict, max_length=200)


class Marked(BaseModel):
    """The outcome of a mark-read."""

    ok: bool = True
    marked: int = 0


class ChoicePublic(BaseModel):
    """One choice: a kind on one channel, whether it is on, and whether it is fixed on."""

    kind: str
    label: str
    channel: str
    enabled: bool
    locked: bool = False


class TenantDefaultsPublic(BaseModel):
    """The tenant's notification settings."""

    unassigned: str
    defaults: list[ChoicePublic]
