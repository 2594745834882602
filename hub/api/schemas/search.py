"""The tenant's search settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hub.api.schemas.common import Strict

Language = Literal[
    "simple",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "turkish",
]


class SearchSettingsPublic(BaseModel):
    language: Language = Field(description="stemming and stop words of the ticket search")
    languages: list[str] = Field(description="every language the hub offers")
    entries: int = Field(description="index rows of the tenant (tickets and comments)")


class SearchSettingsUpdate(Strict):
    language: Language
