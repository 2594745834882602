"""Knowledge base: articles (CRUD with history), suggestions through the hook, deflections."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from core.errors import Invalid
from core.models import KbArticle, KbRevision
from core.permissions import Actor
from core.services import kb
from hub.api.deps import ActorDep, HubDep, SessionDep
from hub.api.schemas import UtcDateTime
from hub.context import Hub

router = APIRouter(prefix="/api/v1/support/kb", tags=["knowledge base"])


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=255)
    body: str = Field(max_length=200_000)
    category: str = Field(default="General", min_length=1, max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=20)
    status: str = Field(default="draft", pattern="^(draft|published)$")
    visibility: str = Field(default="public", pattern="^(public|agents)$")


class ArticleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

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


class RevisionPublic(BaseModel):
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
    article_id: int
    title: str
    excerpt: str
    url: str
    score: float
    source: str


class SuggestResult(BaseModel):
    query: str
    results: list[SuggestionPublic]


class DeflectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    article_id: int = Field(ge=1, le=2**62)
    query: str = Field(default="", max_length=2000)
    channel: str = Field(default="web", pattern="^[a-z][a-z0-9_-]{0,19}$")


class DeflectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    article_id: int | None
    channel: str
    created_at: datetime


def _fields(body: ArticleCreate | ArticleUpdate) -> kb.ArticleFields:
    return kb.ArticleFields(**body.model_dump(exclude_unset=isinstance(body, ArticleUpdate)))


@router.get("/articles/", response_model=ArticlePage)
def list_articles(
    actor: ActorDep,
    session: SessionDep,
    category: Annotated[str | None, Query(max_length=50)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    status: Annotated[str | None, Query(pattern="^(draft|published)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ArticlePage:
    """Articles the caller may read (end users: published public ones), newest edit first."""
    rows, total = kb.list_articles(
        session, actor, category=category, tag=tag, status=status, limit=limit, offset=offset
    )
    return ArticlePage(results=[ArticlePublic.model_validate(r) for r in rows], total=total)


@router.post("/articles/", status_code=201, response_model=ArticlePublic)
def create_article(
    body: ArticleCreate, actor: ActorDep, session: SessionDep, response: Response
) -> KbArticle:
    """Write a new article (agents and admins); its Markdown is rendered to safe HTML."""
    article = kb.create_article(session, actor, _fields(body))
    response.headers["Location"] = f"/api/v1/support/kb/articles/{article.id}/"
    return article


@router.get("/articles/{article_id}/", response_model=ArticlePublic)
def get_article(article_id: int, actor: ActorDep, session: SessionDep) -> KbArticle:
    """One article the caller may read."""
    return kb.get_article(session, actor, _id(article_id))


@router.patch("/articles/{article_id}/", response_model=ArticlePublic)
def update_article(
    article_id: int, body: ArticleUpdate, actor: ActorDep, session: SessionDep
) -> KbArticle:
    """Edit an article (agents and admins); the previous text stays in its history."""
    if not body.model_fields_set:
        raise Invalid("nothing to change")
    return kb.update_article(session, actor, _id(article_id), _fields(body))


@router.delete("/articles/{article_id}/", status_code=204)
def delete_article(article_id: int, actor: ActorDep, session: SessionDep) -> Response:
    """Delete an article and its history (agents and admins)."""
    kb.delete_article(session, actor, _id(article_id))
    return Response(status_code=204)


@router.get("/articles/{article_id}/revisions/", response_model=list[RevisionPublic])
def article_revisions(article_id: int, actor: ActorDep, session: SessionDep) -> list[KbRevision]:
    """An article's edit history, oldest first (agents, admins, managers)."""
    return kb.revisions(session, actor, _id(article_id))


def suggest_for(hub: Hub, actor: Actor, text: str, limit: int) -> list[SuggestionPublic]:
    """Every enabled ranker's suggestions for the caller's tenant and visibility, merged."""
    lists = hub.hooks(actor.tenant_id).hub_kb_suggest(
        tenant_id=actor.tenant_id, text=text, limit=limit, audience=kb.audience_of(actor), hub=hub
    )
    return [SuggestionPublic(**s.__dict__) for s in kb.merge_suggestions(lists, limit)]


@router.get("/suggest/", response_model=SuggestResult)
def suggest(
    actor: ActorDep,
    hub: HubDep,
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> SuggestResult:
    """The articles that best answer ``q`` (e.g. a ticket being written), with their score."""
    # Rankers open their own sessions: end the request's transaction first (SQLite has one
    # writer, and the request's session began with BEGIN IMMEDIATE).
    session.commit()
    return SuggestResult(query=q, results=suggest_for(hub, actor, q, limit))


@router.post("/deflections/", status_code=201, response_model=DeflectionPublic)
def deflect(body: DeflectionCreate, actor: ActorDep, session: SessionDep) -> object:
    """The caller says a suggested article solved the problem: counted, and no ticket opened."""
    return kb.deflect(
        session, actor, article_id=body.article_id, query=body.query, channel=body.channel
    )


@router.get("/deflections/")
def deflection_report(
    actor: ActorDep,
    session: SessionDep,
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
) -> dict[str, object]:
    """Deflections in [start, end): total, by channel and by article (agents, admins, managers)."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} needs a time zone", field=name)
    return kb.deflection_report(session, actor, start=start, end=end)


def _id(article_id: int) -> int:
    if not 1 <= article_id <= 2**62:
        raise Invalid("no such article id", field="article_id")
    return article_id
