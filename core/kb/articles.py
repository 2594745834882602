"""Knowledge-base articles: write them (with history), render their Markdown, read them by
visibility (end users see published public articles, staff see every one)."""

from __future__ import annotations

import difflib
import html
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.clock import now
from core.db import TEXT_SEARCH_LANGUAGES
from core.errors import Forbidden, Invalid, NotFound
from core.kb.models import ARTICLE_STATUSES, VISIBILITIES
from core.models import KbArticle, KbRevision, Tenant
from core.permissions import END_USER, Actor, require_staff
from core.services import audit

PUBLIC, AGENT_AUDIENCE = "public", "agent"
# PostgreSQL's built-in text-search configurations a tenant may pick (``kb_language`` setting).
KB_CREATED, KB_UPDATED, KB_DELETED = (
    "kb.article_created",
    "kb.article_updated",
    "kb.article_deleted",
)
LANGUAGES = TEXT_SEARCH_LANGUAGES
SAFE_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
SAFE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)


def render_markdown(source: str) -> str:
    """Markdown to HTML that is safe to embed: raw HTML is escaped, then nh3 keeps safe tags only."""
    return nh3.clean(
        _markdown.render(source),
        tags=SAFE_TAGS,
        attributes=SAFE_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def plain_text(safe_html: str) -> str:
    """The words of rendered HTML, for the full-text index and excerpts."""
    text = nh3.clean(re.sub(r"<(/p|br|/li|/h\d|/tr|/pre)>", r"<\1> ", safe_html), tags=set())
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def excerpt(text: str, limit: int = 200) -> str:
    """The start of a text, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


def tenant_language(session: Session, tenant_id: uuid.UUID) -> str:
    """The tenant's text-search language (``settings["kb_language"]``), English by default."""
    tenant = session.get(Tenant, tenant_id)
    lang = str((tenant.settings or {}).get("kb_language", "english")) if tenant else "english"
    return lang if lang in LANGUAGES else "english"


def search_scope(tenant_id: uuid.UUID, status: str, visibility: str) -> str:
    """Words naming who may find an article: ``s<tenant>agent`` once it is published (staff see
    agents-only articles too) and ``s<tenant>public`` when end users may also see it."""
    if status != "published":
        return ""
    words = [f"s{tenant_id.hex}agent"]
    if visibility == "public":
        words.append(f"s{tenant_id.hex}public")
    return " ".join(words)


@dataclass
class ArticleFields:
    """What an author writes; None (in an update) means unchanged."""

    title: str | None = None
    body: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    status: str | None = None
    visibility: str | None = None
    changed: set[str] = field(default_factory=set)


def _clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if not tag:
            continue
        if len(tag) > 50:
            raise Invalid("a tag is at most 50 characters", field="tags")
        if tag not in out:
            out.append(tag)
    if len(out) > 20:
        raise Invalid("at most 20 tags", field="tags")
    return out


def _apply(article: KbArticle, data: ArticleFields) -> None:
    if data.title is not None:
        title = data.title.strip()
        if not title:
            raise Invalid("title must not be empty", field="title")
        article.title = title[:255]
    if data.body is not None:
        article.body = data.body
        article.body_html = render_markdown(data.body)
        article.body_text = plain_text(article.body_html)
    if data.category is not None:
        if not data.category.strip():
            raise Invalid("category must not be empty", field="category")
        article.category = data.category.strip()[:50]
    if data.tags is not None:
        article.tags = _clean_tags(data.tags)
        article.tags_text = " ".join(article.tags)[:1000]
    if data.status is not None:
        if data.status not in ARTICLE_STATUSES:
            raise Invalid(f"status must be one of {', '.join(ARTICLE_STATUSES)}", field="status")
        if data.status == "published" and article.published_at is None:
            article.published_at = now()
        article.status = data.status
    if data.visibility is not None:
        if data.visibility not in VISIBILITIES:
            raise Invalid(
                f"visibility must be one of {', '.join(VISIBILITIES)}", field="visibility"
            )
        article.visibility = data.visibility
    article.search_scope = search_scope(article.tenant_id, article.status, article.visibility)


def _revision(session: Session, article: KbArticle, actor: Actor) -> None:
    session.add(
        KbRevision(
            tenant_id=article.tenant_id,
            article_id=article.id,
            version=article.version,
            title=article.title,
            body=article.body,
            category=article.category,
            tags=list(article.tags),
            status=article.status,
            visibility=article.visibility,
            edited_by=actor.user_id,
            created_at=article.updated_at,
        )
    )


def create_article(session: Session, actor: Actor, data: ArticleFields) -> KbArticle:
    """A new article (version 1) written by an agent or admin."""
    require_staff(actor, "write knowledge-base articles")
    if not data.title or data.body is None:
        raise Invalid("title and body are required", field="title" if not data.title else "body")
    at = now()
    article = KbArticle(
        tenant_id=actor.tenant_id,
        title="",
        body="",
        body_html="",
        body_text="",
        category="General",
        tags=[],
        tags_text="",
        status="draft",
        visibility="public",
        language=tenant_language(session, actor.tenant_id),
        version=1,
        created_by=actor.user_id,
        updated_by=actor.user_id,
        created_at=at,
        updated_at=at,
    )
    _apply(article, data)
    session.add(article)
    session.flush()
    _revision(session, article, actor)
    _audit(session, actor, KB_CREATED, article)
    return article


def update_article(
    session: Session, actor: Actor, article_id: int, data: ArticleFields
) -> KbArticle:
    """Edit an article; every edit that changes something is kept as a new revision."""
    require_staff(actor, "edit knowledge-base articles")
    article = get_article(session, actor, article_id)
    before = (
        article.title,
        article.body,
        article.category,
        list(article.tags),
        article.status,
        article.visibility,
    )
    _apply(article, data)
    after = (
        article.title,
        article.body,
        article.category,
        list(article.tags),
        article.status,
        article.visibility,
    )
    article.language = tenant_language(session, actor.tenant_id)
    if before != after:
        article.version += 1
        article.updated_by = actor.user_id
        article.updated_at = now()
        session.flush()
        _revision(session, article, actor)
        _audit(session, actor, KB_UPDATED, article)
    return article


def delete_article(session: Session, actor: Actor, article_id: int) -> None:
    """Remove an article with its history (its index row goes with it)."""
    require_staff(actor, "delete knowledge-base articles")
    article = get_article(session, actor, article_id)
    _audit(session, actor, KB_DELETED, article)
    session.delete(article)
    session.flush()


def _audit(session: Session, actor: Actor, action: str, article: KbArticle) -> None:
    """A tenant audit row naming the article and its version (not its text)."""
    audit.by_actor(
        session,
        actor,
        action,
        details={"id": article.id, "title": article.title, "version": article.version},
    )


def visible(stmt: Select[Any], audience: str) -> Select[Any]:
    """``stmt`` narrowed to the articles ``audience`` may read."""
    if audience == PUBLIC:
        return stmt.where(KbArticle.status == "published", KbArticle.visibility == "public")
    return stmt


def audience_of(actor: Actor) -> str:
    """End users read published public articles; staff and managers read everything."""
    return PUBLIC if actor.role == END_USER else AGENT_AUDIENCE


def get_article(session: Session, actor: Actor, article_id: int) -> KbArticle:
    """One article the caller may read; 404 otherwise (also for other tenants' ids)."""
    stmt = visible(
        select(KbArticle).where(KbArticle.id == article_id, KbArticle.tenant_id == actor.tenant_id),
        audience_of(actor),
    )
    article = session.scalar(stmt)
    if article is None:
        raise NotFound("no such article")
    return article


def public_article(session: Session, tenant_id: uuid.UUID, article_id: int) -> KbArticle | None:
    """A published public article, for anonymous readers (chat links)."""
    return session.scalar(
        visible(
            select(KbArticle).where(KbArticle.id == article_id, KbArticle.tenant_id == tenant_id),
            PUBLIC,
        )
    )


def list_articles(
    session: Session,
    actor: Actor,
    *,
    category: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[KbArticle], int]:
    """Articles the caller may read, newest edit first, with the total count."""
    stmt = visible(
        select(KbArticle).where(KbArticle.tenant_id == actor.tenant_id), audience_of(actor)
    )
    if category:
        stmt = stmt.where(KbArticle.category == category)
    if status:
        stmt = stmt.where(KbArticle.status == status)
    if tag:
        # Narrowed in SQL by the joined tag text, then kept only on an exact tag.
        stmt = stmt.where(KbArticle.tags_text.contains(tag.lower()))
        rows = [
            r
            for r in session.scalars(
                stmt.order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
            )
            if tag.lower() in (r.tags or [])
        ]
        return rows[offset : offset + limit], len(rows)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        session.scalars(
            stmt.order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return rows, int(total)


def revisions(session: Session, actor: Actor, article_id: int) -> list[KbRevision]:
    """An article's edit history, oldest first (staff and managers)."""
    if actor.role == END_USER:
        raise Forbidden("the edit history is for agents, admins and managers")
    article = get_article(session, actor, article_id)
    return list(
        session.scalars(
            select(KbRevision)
            .where(KbRevision.article_id == article.id, KbRevision.tenant_id == actor.tenant_id)
            .order_by(KbRevision.version)
        )
    )


def restore_revision(session: Session, actor: Actor, article_id: int, version: int) -> KbArticle:
    """Make an earlier version the current one again; the restore is itself a new revision
    (history is never rewritten)."""
    require_staff(actor, "restore knowledge-base articles")
    article = get_article(session, actor, article_id)
    old = session.scalar(
        select(KbRevision).where(
            KbRevision.article_id == article.id,
            KbRevision.tenant_id == actor.tenant_id,
            KbRevision.version == version,
        )
    )
    if old is None:
        raise NotFound(f"article {article_id} has no version {version}")
    return update_article(
        session,
        actor,
        article.id,
        ArticleFields(
            title=old.title,
            body=old.body,
            category=old.category,
            tags=list(old.tags),
            status=old.status,
            visibility=old.visibility,
        ),
    )


def body_diff(before: str, after: str) -> list[tuple[str, str]]:
    """The lines of two Markdown sources as ("same" | "added" | "removed", line), in order."""
    out: list[tuple[str, str]] = []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            out.append(("same", text))
        elif tag == "+ ":
            out.append(("added", text))
        elif tag == "- ":
            out.append(("removed", text))
    return out
