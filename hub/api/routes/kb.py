"""Knowledge base: articles (CRUD with history), suggestions through the hook, deflections."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from core.errors import Invalid
from core.kb import articles, deflections, suggestions
from core.models import KbArticle, KbDeflection, KbRevision
from hub.api.deps import ActorDep, HubDep, SessionDep
from hub.api.schemas.common import UtcDateTime
from hub.api.schemas.kb import (
    ArticleCreate,
    ArticlePage,
    ArticlePublic,
    ArticleRevisionPublic,
    ArticleUpdate,
    DeflectionCreate,
    DeflectionPublic,
    DeflectionReport,
    SuggestionPage,
    SuggestionPublic,
)

router = APIRouter(prefix="/api/v1/support/kb", tags=["knowledge base"])


def _fields(body: ArticleCreate | ArticleUpdate) -> articles.ArticleFields:
    return articles.ArticleFields(**body.model_dump(exclude_unset=isinstance(body, ArticleUpdate)))


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
    rows, total = articles.list_articles(
        session, actor, category=category, tag=tag, status=status, limit=limit, offset=offset
    )
    return ArticlePage(results=[ArticlePublic.model_validate(r) for r in rows], total=total)


@router.post("/articles/", status_code=201, response_model=ArticlePublic)
def create_article(
    body: ArticleCreate, actor: ActorDep, session: SessionDep, response: Response
) -> KbArticle:
    """Write a new article (agents and admins); its Markdown is rendered to safe HTML."""
    article = articles.create_article(session, actor, _fields(body))
    response.headers["Location"] = f"/api/v1/support/kb/articles/{article.id}/"
    return article


@router.get("/articles/{article_id}/", response_model=ArticlePublic)
def get_article(article_id: int, actor: ActorDep, session: SessionDep) -> KbArticle:
    """One article the caller may read."""
    return articles.get_article(session, actor, _id(article_id))


@router.patch("/articles/{article_id}/", response_model=ArticlePublic)
def update_article(
    article_id: int, body: ArticleUpdate, actor: ActorDep, session: SessionDep
) -> KbArticle:
    """Edit an article (agents and admins); the previous text stays in its history."""
    if not body.model_fields_set:
        raise Invalid("nothing to change")
    return articles.update_article(session, actor, _id(article_id), _fields(body))


@router.delete("/articles/{article_id}/", status_code=204)
def delete_article(article_id: int, actor: ActorDep, session: SessionDep) -> Response:
    """Delete an article and its history (agents and admins)."""
    articles.delete_article(session, actor, _id(article_id))
    return Response(status_code=204)


@router.get("/articles/{article_id}/revisions/", response_model=list[ArticleRevisionPublic])
def article_revisions(article_id: int, actor: ActorDep, session: SessionDep) -> list[KbRevision]:
    """An article's edit history, oldest first (agents, admins, managers)."""
    return articles.revisions(session, actor, _id(article_id))


@router.get("/suggest/", response_model=SuggestionPage)
def suggest(
    actor: ActorDep,
    hub: HubDep,
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> SuggestionPage:
    """The articles that best answer ``q`` (e.g. a ticket being written), with their score."""
    # Rankers open their own sessions: end the request's transaction first (SQLite has one
    # writer, and the request's session began with BEGIN IMMEDIATE).
    session.commit()
    found = suggestions.suggest(
        hub, actor.tenant_id, q, limit=limit, audience=articles.audience_of(actor)
    )
    return SuggestionPage(query=q, results=[SuggestionPublic.model_validate(s) for s in found])


@router.post("/deflections/", status_code=201, response_model=DeflectionPublic)
def deflect(body: DeflectionCreate, actor: ActorDep, session: SessionDep) -> KbDeflection:
    """The caller says a suggested article solved the problem: counted, and no ticket opened."""
    return deflections.deflect(
        session, actor, article_id=body.article_id, query=body.query, channel=body.channel
    )


@router.get("/deflections/", response_model=DeflectionReport)
def deflection_report(
    actor: ActorDep,
    session: SessionDep,
    start: UtcDateTime | None = None,
    end: UtcDateTime | None = None,
) -> dict[str, object]:
    """Deflections in [start, end): total, by channel and by article (agents, admins, managers)."""
    return deflections.deflection_report(session, actor, start=start, end=end)


def _id(article_id: int) -> int:
    if not 1 <= article_id <= 2**62:
        raise Invalid("no such article id", field="article_id")
    return article_id
