"""The help centre: published articles by section, for end users, staff and (where the tenant
allows) anyone with the link; and the "Was this helpful?" answers counted per article.

Sections are the articles' ``category``. A reader's audience decides what they see: ``public``
(end users and anonymous readers) reads published public articles; ``agent`` (staff and
managers) also reads published agents-only articles. Drafts are never in the help centre.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.automation.rule_admin import tenant_audit
from core.clock import now
from core.errors import NotFound
from core.kb.articles import PUBLIC
from core.models import KbArticle, KbFeedback, Tenant
from core.permissions import Actor, require_admin

# Tenant setting: whether people who are not signed in may read the public articles.
PUBLIC_SETTING = "kb_public"
SECTION_PREVIEW = 5


@dataclass
class Section:
    """A section of the help centre: its name, how many articles it has, the first few titles."""

    name: str
    count: int
    articles: list[tuple[int, str]] = field(default_factory=list)


def is_public(session: Session, tenant_id: uuid.UUID) -> bool:
    """Whether the tenant's help centre is open to readers who are not signed in (the default,
    as on Zendesk Guide and Freshdesk; a tenant may restrict it to its signed-in people)."""
    tenant = session.get(Tenant, tenant_id)
    return bool((tenant.settings or {}).get(PUBLIC_SETTING, True)) if tenant else False


def set_public(session: Session, actor: Actor, value: bool) -> None:
    """Open the help centre to anyone, or restrict it to signed-in people (admins)."""
    require_admin(actor, "change the help centre's visibility")
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    tenant.settings = {**(tenant.settings or {}), PUBLIC_SETTING: bool(value)}
    tenant_audit(session, actor, "Help Centre Visibility", "", {"public": bool(value)})


def _published(tenant_id: uuid.UUID, audience: str) -> list[Any]:
    conds: list[Any] = [KbArticle.tenant_id == tenant_id, KbArticle.status == "published"]
    if audience == PUBLIC:
        conds.append(KbArticle.visibility == "public")
    return conds


def sections(session: Session, tenant_id: uuid.UUID, audience: str) -> list[Section]:
    """Every section with published articles the audience may read, by name, each with its
    count and its first titles (one query: a window over the section's articles)."""
    ranked = (
        select(
            KbArticle.id,
            KbArticle.title,
            KbArticle.category,
            func.row_number()
            .over(partition_by=KbArticle.category, order_by=(KbArticle.title, KbArticle.id))
            .label("n"),
            func.count().over(partition_by=KbArticle.category).label("total"),
        )
        .where(*_published(tenant_id, audience))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.id, ranked.c.title, ranked.c.category, ranked.c.total)
        .where(ranked.c.n <= SECTION_PREVIEW)
        .order_by(ranked.c.category, ranked.c.n)
    ).all()
    out: dict[str, Section] = {}
    for article_id, title, category, total in rows:
        section = out.setdefault(category, Section(category, int(total)))
        section.articles.append((article_id, title))
    return list(out.values())


def section_articles(
    session: Session,
    tenant_id: uuid.UUID,
    audience: str,
    name: str,
    *,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[KbArticle], int]:
    """A section's published articles the audience may read, by title, with their count."""
    conds = [*_published(tenant_id, audience), KbArticle.category == name]
    total = session.scalar(select(func.count()).select_from(KbArticle).where(*conds)) or 0
    rows = session.scalars(
        select(KbArticle)
        .where(*conds)
        .order_by(KbArticle.title, KbArticle.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


def readable(stmt: Select[Any], audience: str) -> Select[Any]:
    """``stmt`` narrowed to the published articles ``audience`` may read in the help centre."""
    stmt = stmt.where(KbArticle.status == "published")
    if audience == PUBLIC:
        stmt = stmt.where(KbArticle.visibility == "public")
    return stmt


def article(
    session: Session, article_id: int, audience: str, tenant_id: uuid.UUID | None
) -> KbArticle:
    """One published article the audience may read. ``tenant_id`` is the reader's tenant; None
    for an anonymous reader, who reads only a public article of a tenant whose help centre is
    public. Anything else is a 404, whoever asks (no hint that the article exists)."""
    stmt = readable(select(KbArticle).where(KbArticle.id == article_id), audience)
    if tenant_id is not None:
        stmt = stmt.where(KbArticle.tenant_id == tenant_id)
    found = session.scalar(stmt)
    if found is None or (tenant_id is None and not is_public(session, found.tenant_id)):
        raise NotFound("no such article")
    return found


def record_feedback(
    session: Session,
    tenant_id: uuid.UUID,
    article_id: int,
    *,
    voter: str,
    helpful: bool,
    audience: str,
) -> KbFeedback:
    """Count one reader's answer to "Was this helpful?"; answering again replaces the answer."""
    found = article(session, article_id, audience, tenant_id)
    row = session.scalar(
        select(KbFeedback).where(KbFeedback.article_id == found.id, KbFeedback.voter == voter)
    )
    if row is None:
        row = KbFeedback(tenant_id=tenant_id, article_id=found.id, voter=voter[:64])
        session.add(row)
    row.helpful = helpful
    row.created_at = now()
    session.flush()
    return row


def feedback_counts(
    session: Session, tenant_id: uuid.UUID, article_ids: list[int]
) -> dict[int, tuple[int, int]]:
    """(helpful, not helpful) per article, for the given articles (one grouped query)."""
    if not article_ids:
        return {}
    rows = session.execute(
        select(KbFeedback.article_id, KbFeedback.helpful, func.count())
        .where(KbFeedback.tenant_id == tenant_id, KbFeedback.article_id.in_(article_ids))
        .group_by(KbFeedback.article_id, KbFeedback.helpful)
    ).all()
    out: dict[int, tuple[int, int]] = {}
    for article_id, helpful, count in rows:
        yes, no = out.get(article_id, (0, 0))
        out[article_id] = (yes + count, no) if helpful else (yes, no + count)
    return out
