"""Finding tickets by their text, ranking them, and saying where each matched.

Every item of the query must be in one source of the ticket (its own row: subject, description,
requester and other fields; or one comment). End users match their tickets' public text only;
internal notes are never searched for them. Both databases answer from their own index
(PostgreSQL: ``tsv @@ to_tsquery`` on the GIN index with the tenant's configuration, the same
one the rows were indexed with; SQLite: FTS5 ``MATCH``)."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    bindparam,
    cast,
    column,
    false,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from core.models import Comment
from core.permissions import Actor
from core.search.index import MARK_END, MARK_START, config_name, language
from core.search.models import SearchEntry
from core.search.query import Query, parse

# The FTS5 table (no model: a virtual table of migration 0040_search).
FTS = table("search_fts", column("rowid"))


@dataclass(frozen=True)
class Search:
    """A parsed query bound to a tenant's configuration and the asker's visibility."""

    query: Query
    tenant_id: uuid.UUID
    config: str
    dialect: str
    staff: bool

    @property
    def text(self) -> str:
        return self.query.tsquery() if self.dialect == "postgresql" else self.query.fts5()


def prepare(session: Session, actor: Actor, q: str) -> Search:
    """Parse ``q`` (``Invalid`` on ``q`` when it has no word) for this actor's tenant."""
    return Search(
        query=parse(q),
        tenant_id=actor.tenant_id,
        config=config_name(language(session, actor.tenant_id)),
        dialect=session.get_bind().dialect.name,
        staff=actor.reads_all_tickets,
    )


def _tsquery(search: Search) -> ColumnElement[Any]:
    return func.to_tsquery(
        cast(bindparam("search_config", search.config), REGCONFIG),
        bindparam("search_query", search.text),
    )


def _entries(search: Search) -> Select[int, int]:
    """The matching entries (id, ticket_id) of the tenant that the asker may read."""
    e = SearchEntry
    stmt = select(e.id, e.ticket_id).where(e.tenant_id == search.tenant_id)
    if search.dialect == "postgresql":
        stmt = stmt.where(literal_column("search_entries.tsv").op("@@")(_tsquery(search)))
    else:
        hits = select(FTS.c.rowid).where(
            literal_column("search_fts").op("MATCH")(bindparam("search_query", search.text))
        )
        stmt = stmt.where(e.id.in_(hits))
    if not search.staff:
        stmt = stmt.where(e.is_internal.is_(false()))
    return stmt


def condition(search: Search, ticket_id: Any) -> ColumnElement[bool]:
    """``ticket_id IN (tickets with a matching entry)``, for ``ticket_query``."""
    return ticket_id.in_(_entries(search).with_only_columns(SearchEntry.ticket_id))


def ranks(search: Search) -> Select[Any]:
    """(ticket_id, rank) of every matching ticket, higher ranks better: the best source's
    ``ts_rank`` (PostgreSQL) or BM25 (SQLite). For the ``relevance`` sort."""
    e = SearchEntry
    if search.dialect == "postgresql":
        score = func.ts_rank(literal_column("search_entries.tsv"), _tsquery(search))
        stmt = _entries(search).with_only_columns(e.ticket_id, cast(score, Float).label("rank"))
    else:
        stmt = (
            select(e.ticket_id, (-func.bm25(literal_column("search_fts"))).label("rank"))
            .select_from(FTS)
            .join(e, e.id == FTS.c.rowid)
            .where(
                literal_column("search_fts").op("MATCH")(bindparam("search_query", search.text)),
                e.tenant_id == search.tenant_id,
            )
        )
        if not search.staff:
            stmt = stmt.where(e.is_internal.is_(false()))
        # bm25() only works where the MATCH is: a LIMIT keeps SQLite from flattening this
        # subquery into the aggregate around it.
        stmt = stmt.limit(-1)
    inner = stmt.subquery()
    return select(inner.c.ticket_id, func.max(inner.c.rank).label("rank")).group_by(
        inner.c.ticket_id
    )


@dataclass(frozen=True)
class Match:
    """Where a ticket matched: ``where`` is subject, description, requester, fields, reply or
    internal note; ``number`` the reply's (or note's) place among the ticket's replies (or
    notes); ``snippet`` HTML: the text escaped, the matched words in ``<mark>``."""

    where: str
    snippet: str
    comment_id: int | None = None
    number: int | None = None

    @property
    def label(self) -> str:
        if self.number is not None:
            return f"{self.where} #{self.number}"
        return self.where


_FIELDS = ("title", "body", "person", "more")
_WHERE = {"title": "subject", "body": "description", "person": "requester", "more": "fields"}
_HEADLINE = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=8, "
    'MaxFragments=2, FragmentDelimiter=" … ", HighlightAll=false'
)

# The page's entries are read first (MATERIALIZED: by ticket id, a page's worth of rows) and
# only then matched: left to itself, the planner may answer a phrase of common words from the
# GIN index, i.e. from every entry of the tenant holding both words (0.8 s at 1,000,000 tickets).
_PG_SNIPPETS = """
WITH q AS (SELECT to_tsquery(CAST(:search_config AS regconfig), :search_query) AS query),
page AS MATERIALIZED (
    SELECT e.id, e.ticket_id, e.comment_id, e.is_internal, e.title, e.body, e.person, e.more,
           e.tsv
    FROM search_entries AS e
    WHERE e.tenant_id = :tenant_id AND e.ticket_id IN :ids {visible}
),
best AS (
    SELECT DISTINCT ON (e.ticket_id) e.ticket_id, e.comment_id, e.is_internal,
           e.title, e.body, e.person, e.more
    FROM page AS e, q
    WHERE e.tsv @@ q.query
    ORDER BY e.ticket_id, ts_rank(e.tsv, q.query) DESC, e.id
)
SELECT b.ticket_id, b.comment_id, b.is_internal,
       ts_headline(CAST(:search_config AS regconfig), b.title, q.query, :opts) AS title,
       ts_headline(CAST(:search_config AS regconfig), b.body, q.query, :opts) AS body,
       ts_headline(CAST(:search_config AS regconfig), b.person, q.query, :opts) AS person,
       ts_headline(CAST(:search_config AS regconfig), b.more, q.query, :opts) AS more
FROM best AS b, q
"""

_SQLITE_SNIPPETS = """
SELECT e.ticket_id, e.comment_id, e.is_internal, bm25(search_fts) AS score,
       snippet(search_fts, 0, :start, :end, ' … ', 16) AS title,
       snippet(search_fts, 1, :start, :end, ' … ', 16) AS body,
       snippet(search_fts, 2, :start, :end, ' … ', 16) AS person,
       snippet(search_fts, 3, :start, :end, ' … ', 16) AS more
FROM search_fts JOIN search_entries AS e ON e.id = search_fts.rowid
WHERE search_fts MATCH :search_query AND e.tenant_id = :tenant_id AND e.ticket_id IN :ids
      {visible}
ORDER BY e.ticket_id, score, e.id
"""


def highlight(raw: str) -> str:
    """Escape a snippet and turn its markers into ``<mark>``: the only markup it keeps."""
    escaped = html.escape(raw, quote=True)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def matches(session: Session, search: Search, ticket_ids: list[int]) -> dict[int, Match]:
    """Where each of these tickets matched, with its snippet: one query (two with replies)."""
    if not ticket_ids:
        return {}
    visible = "" if search.staff else "AND NOT e.is_internal"
    params: dict[str, Any] = {
        "search_query": search.text,
        "tenant_id": search.tenant_id,
        "ids": list(ticket_ids),
    }
    if search.dialect == "postgresql":
        stmt = sql_text(_PG_SNIPPETS.format(visible=visible))
        params |= {"search_config": search.config, "opts": _HEADLINE}
    else:
        stmt = sql_text(_SQLITE_SNIPPETS.format(visible=visible))
        params |= {"start": MARK_START, "end": MARK_END}
    stmt = stmt.bindparams(
        bindparam("ids", expanding=True), bindparam("tenant_id", type_=SearchEntry.tenant_id.type)
    )
    best: dict[int, Any] = {}
    for row in session.execute(stmt, params):
        best.setdefault(row.ticket_id, row)
    numbers = _numbers(session, [r.comment_id for r in best.values() if r.comment_id], search)
    out: dict[int, Match] = {}
    for ticket_id, row in best.items():
        if row.comment_id is not None:
            where = "internal note" if row.is_internal else "reply"
            out[ticket_id] = Match(
                where, highlight(row.body or ""), row.comment_id, numbers.get(row.comment_id)
            )
            continue
        chosen = next((f for f in _FIELDS if MARK_START in (getattr(row, f) or "")), "body")
        out[ticket_id] = Match(_WHERE[chosen], highlight(getattr(row, chosen) or ""))
    return out


def _numbers(session: Session, comment_ids: list[int], search: Search) -> dict[int, int]:
    """Each comment's place among its ticket's replies (or notes), counted from 1."""
    if not comment_ids:
        return {}
    other = Comment.__table__.alias("other")
    place = (
        select(func.count())
        .select_from(other)
        .where(
            other.c.ticket_id == Comment.ticket_id,
            other.c.id <= Comment.id,
            other.c.is_internal == Comment.is_internal,
        )
        .scalar_subquery()
    )
    rows = session.execute(select(Comment.id, place).where(Comment.id.in_(comment_ids)))
    return {cid: int(n) for cid, n in rows}
