"""Deflections: a problem an article solved without a ticket, counted per channel and article."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import NotFound
from core.kb.articles import PUBLIC, audience_of, visible
from core.models import KbArticle, KbDeflection
from core.permissions import Actor, require_reader, require_writer


def record_deflection(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    article_id: int,
    user_id: int | None,
    channel: str,
    query: str = "",
    audience: str = PUBLIC,
) -> KbDeflection:
    """Count one problem solved by an article without a ticket; the article must be readable."""
    article = session.scalar(
        visible(
            select(KbArticle).where(KbArticle.id == article_id, KbArticle.tenant_id == tenant_id),
            audience,
        )
    )
    if article is None:
        raise NotFound("no such article")
    row = KbDeflection(
        tenant_id=tenant_id,
        article_id=article.id,
        user_id=user_id,
        channel=channel[:20],
        query=query[:2000],
        created_at=now(),
    )
    session.add(row)
    session.flush()
    return row


def deflect(
    session: Session, actor: Actor, *, article_id: int, query: str, channel: str
) -> KbDeflection:
    """The caller marks a suggested article as having solved the problem."""
    require_writer(actor)
    return record_deflection(
        session,
        actor.tenant_id,
        article_id=article_id,
        user_id=actor.user_id,
        channel=channel,
        query=query,
        audience=audience_of(actor),
    )


def deflection_report(
    session: Session, actor: Actor, *, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """Deflections in [start, end): the total, by channel and by article (for reports)."""
    require_reader(actor, "reports")
    conds = [KbDeflection.tenant_id == actor.tenant_id]
    if start:
        conds.append(KbDeflection.created_at >= start)
    if end:
        conds.append(KbDeflection.created_at < end)
    by_channel = dict(
        session.execute(
            select(KbDeflection.channel, func.count()).where(*conds).group_by(KbDeflection.channel)
        )
        .tuples()
        .all()
    )
    by_article = session.execute(
        select(KbDeflection.article_id, KbArticle.title, func.count())
        .outerjoin(KbArticle, KbArticle.id == KbDeflection.article_id)
        .where(*conds)
        .group_by(KbDeflection.article_id, KbArticle.title)
        .order_by(func.count().desc())
    ).all()
    return {
        "start": start,
        "end": end,
        "total": sum(by_channel.values()),
        "by_channel": by_channel,
        "by_article": [{"article_id": a, "title": t, "count": n} for a, t, n in by_article],
    }
