"""The default knowledge-base ranker: the database's own full-text search, as a ``trylast`` plugin.

SQLite: FTS5 with Porter stemming and BM25 (title weighted 10, tags 4, body 1); the index also
holds each article's tenant and audience as words, so ranking stays inside the index.
PostgreSQL: ``search_vector`` (title A, tags B, body C) with the tenant's text-search
configuration, matched through the GIN index and ranked with ``ts_rank``.
The user's words are OR-ed (a question rarely repeats an article's exact words); common words are
dropped first. Scores are mapped to (0, 1) so that lists from several rankers can be merged.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from core.hookspecs import hookimpl
from core.kb.articles import PUBLIC, excerpt, search_scope, tenant_language
from core.textcap import search_text
from core.types import Capability, HubContext, PluginInfo, Suggestion

NAME = "kb-fulltext"
MAX_TERMS = 24
# Words that carry no topic in support questions; FTS5 has no stop list of its own.
_STOP_TEXT = """
a about above after again against all am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
down during each few for from further get gets got had hadn't has hasn't have haven't having he her
here hers herself him himself his how i i'm i've if in into is isn't it it's its itself just let me
more most my myself no nor not now of off on once only or other ought our ours ourselves out over
own please same she should shouldn't so some still such than thank thanks that the their theirs
them themselves then there these they this those through to too under until up us very was wasn't
we were weren't what when where which while who whom why will with won't would wouldn't you your
yours yourself hi hello hey help need want wants trying try tried anyone anybody something thing
things way ok okay also already really even s t d ll m re ve
"""
STOPWORDS = frozenset(_STOP_TEXT.split())

# The index filters on the tenant and audience itself (``search_scope`` words), so only the few
# best rows are joined to their articles.
SQLITE_SQL = sql_text("""
SELECT a.id, a.title, a.body_text, r.rank
FROM (SELECT rowid AS id, bm25(kb_articles_fts, 10.0, 1.0, 4.0, 0.0) AS rank
      FROM kb_articles_fts WHERE kb_articles_fts MATCH :query ORDER BY rank LIMIT :limit) AS r
JOIN kb_articles AS a ON a.id = r.id
WHERE a.tenant_id = :tenant_id {visible}
ORDER BY r.rank
""")

# PostgreSQL's planner statistics know how often each lexeme occurs (after ANALYZE). Lexemes in
# more than COMMON_SHARE of the articles are left out of the query (unless they are all there is):
# ts_rank has no IDF, so they would only blur the ranking, and they make most articles a match.
PG_SQL = """
WITH stats AS (
    SELECT e.lexeme, e.freq
    FROM pg_stats AS s,
         unnest(CAST(CAST(s.most_common_elems AS text) AS text[]), s.most_common_elem_freqs)
             AS e(lexeme, freq)
    WHERE s.tablename = 'kb_articles' AND s.attname = 'search_vector'
      AND s.schemaname = current_schema()
), words AS (
    SELECT w.lexeme, coalesce(st.freq, 0) AS freq,
           row_number() OVER (ORDER BY coalesce(st.freq, 0), w.lexeme) AS n
    FROM unnest(tsvector_to_array(to_tsvector(CAST(:language AS regconfig), :words))) AS w(lexeme)
    LEFT JOIN stats AS st ON st.lexeme = w.lexeme
), big AS (
    SELECT coalesce(max(reltuples), 0) > :big_table AS yes
    FROM pg_class WHERE oid = to_regclass('kb_articles')
), q AS (
    SELECT CAST(string_agg(quote_literal(lexeme), ' | ') AS tsquery) AS query,
           coalesce(CAST(string_agg(quote_literal(lexeme), ' | ')
                         FILTER (WHERE freq < :rare AND big.yes) AS tsquery),
                    CAST(string_agg(quote_literal(lexeme), ' | ') AS tsquery)) AS candidates
    FROM words, big WHERE (freq < :common OR n <= 2) AND n <= :max_terms
)
SELECT a.id, a.title, a.body_text,
       ts_rank('{{0.1, 0.3, 0.6, 1.0}}', a.search_vector, q.query, 1) AS rank
FROM kb_articles AS a, q
WHERE a.tenant_id = :tenant_id AND a.search_vector @@ q.candidates {visible}
ORDER BY rank DESC, a.id
LIMIT :limit
"""
COMMON_SHARE = 0.2
MAX_PG_TERMS = 10
# In a large knowledge base (more rows than BIG_TABLE), candidates are the articles with one of
# the question's rare lexemes (in under RARE_SHARE of the articles), when it has any; they are
# then ranked on all its lexemes. This bounds the ranking work that dominates the latency.
BIG_TABLE, RARE_SHARE = 2000, 0.05

VISIBLE_PUBLIC = "AND a.status = 'published' AND a.visibility = 'public'"
VISIBLE_AGENT = "AND a.status = 'published'"


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def terms(question: str) -> list[str]:
    """The distinct content words of a question, in order, at most ``MAX_TERMS``.

    Linear in the (capped) text: words are scanned lazily and the scan stops at ``MAX_TERMS``.
    """
    out: dict[str, None] = {}  # insertion-ordered set
    for match in _WORD.finditer(search_text(question).lower()):
        word = match.group()
        if word in STOPWORDS or len(word) < 2:
            continue
        out.setdefault(word.replace("'", ""))
        if len(out) >= MAX_TERMS:
            break
    return list(out)


def _uuid_param(session: Session, tenant_id: uuid.UUID) -> Any:
    # SQLAlchemy stores Uuid as 32 hex characters on SQLite; text() needs the same form.
    return tenant_id.hex if session.get_bind().dialect.name == "sqlite" else tenant_id


def rank(
    session: Session, tenant_id: uuid.UUID, question: str, *, limit: int, audience: str
) -> list[tuple[int, str, str, float]]:
    """(id, title, body text, score in (0, 1)) of the best published articles for a question."""
    words = terms(question)
    if not words or limit <= 0:
        return []
    visible = VISIBLE_PUBLIC if audience == PUBLIC else VISIBLE_AGENT
    params: dict[str, Any] = {"tenant_id": _uuid_param(session, tenant_id), "limit": limit}
    if session.get_bind().dialect.name == "postgresql":
        params.update(
            words=" ".join(words),
            language=tenant_language(session, tenant_id),
            common=COMMON_SHARE,
            max_terms=MAX_PG_TERMS,
            big_table=BIG_TABLE,
            rare=RARE_SHARE,
        )
        rows = session.execute(sql_text(PG_SQL.format(visible=visible)), params).all()
        # ts_rank with normalisation 1 is small and unbounded; x/(x+0.1) maps it to (0, 1).
        return [(r.id, r.title, r.body_text, r.rank / (r.rank + 0.1)) for r in rows if r.rank > 0]
    scope = search_scope(tenant_id, "published", "public" if audience == PUBLIC else "agents")
    params["query"] = (
        f'search_scope : "{scope.split()[-1]}" AND (' + " OR ".join(f'"{w}"' for w in words) + ")"
    )
    rows = session.execute(sql_text(SQLITE_SQL.text.format(visible=visible)), params).all()
    # bm25() is negative, better when lower; -x/(-x+5) maps it to (0, 1).
    return [(r.id, r.title, r.body_text, -r.rank / (-r.rank + 5.0)) for r in rows]


def article_url(hub: HubContext, article_id: int) -> str:
    """Where a person reads an article in the portal."""
    return f"{hub.base_url}/kb/articles/{article_id}"


@hookimpl
def hub_plugin_info() -> PluginInfo:
    """The built-in full-text ranker."""
    return PluginInfo(
        name=NAME,
        title="Knowledge-base full-text search",
        description="Ranks articles with the database's own full-text search.",
        capabilities=(Capability.SUGGEST,),
    )


@hookimpl(trylast=True)
def hub_kb_suggest(
    tenant_id: uuid.UUID, text: str, limit: int, audience: str, hub: HubContext
) -> list[Suggestion]:
    """Published articles of the tenant ranked for ``text`` within the audience's visibility."""
    with hub.session() as session:
        found = rank(session, tenant_id, text, limit=limit, audience=audience)
    return [
        Suggestion(
            article_id=i,
            title=title,
            excerpt=excerpt(body),
            url=article_url(hub, i),
            score=max(round(score, 6), 1e-6),
            source="kb",
        )
        for i, title, body, score in found
    ]
