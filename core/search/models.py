"""``search_entries``: one row per source of a ticket's text (its own row and one per comment).

The row holds the text it indexes, in four fields a match is named by: ``title`` (the subject),
``body`` (the description or the comment), ``person`` (the requester's name and address) and
``more`` (what other features add through ``register_ticket_text``). The index itself is the
database's: on PostgreSQL a generated ``tsv`` column (weights A to D, the row's ``config``, a
``hub_<language>`` configuration that folds accents with ``unaccent``) under a GIN index; on
SQLite the FTS5 table ``search_fts`` over these columns (``unicode61 remove_diacritics 2``), kept
by triggers. Both are made by migration ``0040_search``, not by the model.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId

_TICKET_FK = BigInteger().with_variant(Integer(), "sqlite")


class SearchEntry(Base):
    __tablename__ = "search_entries"
    __table_args__ = (
        Index("ix_search_entries_ticket_comment", "ticket_id", "comment_id"),
        Index(
            "ix_search_entries_comment_id",
            "comment_id",
            postgresql_where=text("comment_id IS NOT NULL"),
            sqlite_where=text("comment_id IS NOT NULL"),
        ),
        Index("ix_search_entries_tenant_id", "tenant_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(
        _TICKET_FK, ForeignKey("support_tickets.id", ondelete="CASCADE")
    )
    # None: the ticket's own row (subject, description, requester, other fields).
    comment_id: Mapped[int | None] = mapped_column(
        _TICKET_FK, ForeignKey("support_comments.id", ondelete="CASCADE"), default=None
    )
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    person: Mapped[str] = mapped_column(Text, default="")
    more: Mapped[str] = mapped_column(Text, default="")
    # The text-search configuration (``hub_english``...); PostgreSQL only reads it.
    config: Mapped[str] = mapped_column(
        String(63).with_variant(REGCONFIG(), "postgresql"), default="hub_english"
    )
