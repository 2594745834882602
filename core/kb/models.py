"""Knowledge-base tables: articles, their edit history, and deflections (problems solved by one).

The full-text index is not a model: on SQLite it is the FTS5 table ``kb_articles_fts`` (external
content, kept in sync by triggers, so deleting an article deletes its index row); on PostgreSQL it
is the ``search_vector`` tsvector column with a GIN index, filled by a trigger that uses the
article's ``language``. Both are created by the ``kb`` migration.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import now
from core.db import Base, BigId, JSONType

ARTICLE_STATUSES = ("draft", "published")
VISIBILITIES = ("public", "agents")


class KbArticle(Base):
    """One help article of a tenant: Markdown source, its safe HTML and its plain text."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published')", name="status"),
        CheckConstraint("visibility IN ('public', 'agents')", name="visibility"),
        Index("ix_kb_articles_tenant_status_visibility", "tenant_id", "status", "visibility"),
        Index("ix_kb_articles_tenant_category", "tenant_id", "category"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Plain text of the rendered body: what the full-text index and excerpts read.
    body_text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(50), default="General")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Tags joined by spaces, indexed with the title and body.
    tags_text: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    # Who may find the article, as words the SQLite full-text index filters on (see
    # core.kb.articles.search_scope): the ranking then needs no join per matching article.
    search_scope: Mapped[str] = mapped_column(String(200), default="")
    # PostgreSQL text-search configuration used to index this article ("english", "german", ...).
    language: Mapped[str] = mapped_column(String(20), default="english")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(Integer, ForeignKey("auth_user.id"))
    updated_by: Mapped[int | None] = mapped_column(Integer, ForeignKey("auth_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class KbRevision(Base):
    """An article as it was after one edit (version 1 is the creation)."""

    __tablename__ = "kb_article_revisions"
    __table_args__ = (Index("ix_kb_article_revisions_article_version", "article_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(50))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(20))
    visibility: Mapped[str] = mapped_column(String(20))
    edited_by: Mapped[int | None] = mapped_column(Integer, ForeignKey("auth_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)


class KbDeflection(Base):
    """A user said a suggested article solved their problem, so no ticket was opened."""

    __tablename__ = "kb_deflections"
    __table_args__ = (Index("ix_kb_deflections_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    article_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("kb_articles.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("auth_user.id"))
    channel: Mapped[str] = mapped_column(String(20), default="web")
    query: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)


class KbFeedback(Base):
    """One reader's answer to "Was this helpful?" on an article: the latest answer counts.

    ``voter`` is ``u<user id>`` for a signed-in person and ``a<random id>`` (a cookie) for an
    anonymous reader of a public help centre, so each counts once per article."""

    __tablename__ = "kb_feedback"
    __table_args__ = (
        UniqueConstraint("article_id", "voter", name="uq_kb_feedback_article_id_voter"),
        Index("ix_kb_feedback_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_articles.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=now)
