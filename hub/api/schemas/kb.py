"""Knowledge base: articles and their revisions, suggestions, deflections."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.common import Strict


class ArticleCreate(Strict):
    title: str = Field(min_length=1, max_length=255)
    body: str = Field(max_length=200_000)
    category: str = Field(default="General", min_length=1, max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=20)
    status: str = Field(default="draft", pattern="^(draft|published)$")
    visibility: str = Field(default="public", pattern="^(public|agents)$")


class ArticleUpdate(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=255)
    body: str | None = Field(default=None, max_length=200_000)
    category: str | None = Field(default=None, min_length=1, max_length=50)
    tags: list[str] | None = Field(default=None, max_length=20)
    status: str | None = Field(default=None, pattern="^(draft|published)$")
    visibility: str | None = Field(default=None, pattern="^(public|agents)$")


class ArticlePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    body_html: str
    category: str
    tags: list[str]
    status: str
    visibility: str
    version: int
    created_by: int | None
    updated_by: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class ArticlePage(BaseModel):
    results: list[ArticlePublic]
    total: int


class ArticleRevisionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    title: str
    body: str
    category: str
    tags: list[str]
    status: str
    visibility: str
    edited_by: int | None
    created_at: datetime


class SuggestionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    article_id: int
    title: str
    excerpt: str
    url: str
    score: float
    source: str


class SuggestionPage(BaseModel):
    """The best articles for a question, best first."""

    query: str
    results: list[SuggestionPublic]


class DeflectionCreate(Strict):
    article_id: int = Field(ge=1, le=2**62)
    query: str = Field(default="", max_length=2000)
    channel: str = Field(default="web", pattern="^[a-z][a-z0-9_-]{0,19}$")


class DeflectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    article_id: int | None
    channel: str
    created_at: datetime


class ArticleDeflections(BaseModel):
    article_id: int | None
    title: str | None
    count: int


class DeflectionReport(BaseModel):
    """Deflections in [start, end): the total, by channel and by article."""

    start: datetime | None
    end: datetime | None
    total: int
    by_channel: dict[str, int]
    by_article: list[ArticleDeflections]
