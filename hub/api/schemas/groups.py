"""Agent groups and tiers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from hub.api.schemas.common import Strict

UserId = Annotated[int, Field(ge=1, le=2_147_483_647)]


class GroupCreate(Strict):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=1000)
    tier: int | None = Field(default=None, ge=1, le=99, description="the escalation ladder's rung")
    members: list[UserId] = Field(default_factory=list, max_length=1000)


class GroupUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    description: str | None = Field(default=None, max_length=1000)
    tier: int | None = Field(default=None, ge=1, le=99)
    members: list[UserId] | None = Field(default=None, max_length=1000)


class GroupPublic(BaseModel):
    id: int
    name: str
    description: str
    tier: int | None
    members: list[int]
    open_tickets: int
