"""search_entries: full-text search over every message of a ticket, built for existing rows

PostgreSQL: the ``unaccent`` extension, one ``hub_<language>`` text-search configuration per
language (the language's own, with ``unaccent`` before its stemmer: accents and case folded),
a generated, weighted ``tsv`` column and its GIN index. SQLite: the FTS5 table ``search_fts``
(``unicode61 remove_diacritics 2``) over the entries, kept by triggers.

Revision ID: 0040_search
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0040_search"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None

# core.search.LANGUAGES, frozen here: a later change to the list needs its own migration.
LANGUAGES = (
    "simple",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "turkish",
)
MAX_TEXT = 20000  # core.textcap.MAX_SEARCH_TEXT
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_TSV = """
ALTER TABLE search_entries ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector(config, coalesce(title, '')), 'A') ||
    setweight(to_tsvector(config, coalesce(body, '')), 'B') ||
    setweight(to_tsvector(config, coalesce(person, '')), 'C') ||
    setweight(to_tsvector(config, coalesce(more, '')), 'D')
) STORED
"""

_FTS_COLUMNS = "title, body, person, more"
_SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, person, more, "
    "content='search_entries', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN
        INSERT INTO search_fts(rowid, {_FTS_COLUMNS})
        VALUES (new.id, new.title, new.body, new.person, new.more);
    END""",
    f"""CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, old.title, old.body, old.person, old.more);
    END""",
    f"""CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, old.title, old.body, old.person, old.more);
        INSERT INTO search_fts(rowid, {_FTS_COLUMNS})
        VALUES (new.id, new.title, new.body, new.person, new.more);
    END""",
]


def backfill_statements(config: str) -> list[str]:
    """The two INSERT ... SELECT statements that index every ticket and comment (also run by
    bench/search.py after its bulk load)."""
    person = (
        "substr(coalesce(u.full_name, '') || ' ' || u.email || ' ' || "
        f"replace(replace(u.email, '@', ' '), '.', ' '), 1, {MAX_TEXT})"
    )
    return [
        "INSERT INTO search_entries "
        "(tenant_id, ticket_id, comment_id, is_internal, title, body, person, more, config) "
        f"SELECT t.tenant_id, t.id, NULL, false, t.subject, substr(t.description, 1, {MAX_TEXT}), "
        f"{person}, '', {config} "
        "FROM support_tickets AS t JOIN auth_user AS u ON u.id = t.created_by",
        "INSERT INTO search_entries "
        "(tenant_id, ticket_id, comment_id, is_internal, title, body, person, more, config) "
        f"SELECT c.tenant_id, c.ticket_id, c.id, c.is_internal, '', substr(c.comment, 1, {MAX_TEXT}), "
        f"'', '', {config} FROM support_comments AS c",
    ]


def _backfill(config: str) -> None:
    for statement in backfill_statements(config):
        op.execute(statement)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        for lang in LANGUAGES:
            name = f"hub_{lang}"
            op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")
            op.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{lang})")
            stem = "simple" if lang == "simple" else f"{lang}_stem"
            op.execute(
                f"ALTER TEXT SEARCH CONFIGURATION {name} "
                f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stem}"
            )
    config_type = sa.String(63)
    op.create_table(
        "search_entries",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "ticket_id",
            _ID,
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "comment_id",
            _ID,
            sa.ForeignKey("support_comments.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("more", sa.Text(), nullable=False),
        sa.Column("config", config_type, nullable=False),
    )
    if postgres:
        op.execute(
            "ALTER TABLE search_entries ALTER COLUMN config TYPE regconfig USING config::regconfig"
        )
        op.execute(_TSV)
    else:
        for statement in _SQLITE:
            op.execute(statement)
    _backfill("CAST('hub_english' AS regconfig)" if postgres else "'hub_english'")
    if postgres:
        op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")
    op.create_index(
        "ix_search_entries_ticket_comment", "search_entries", ["ticket_id", "comment_id"]
    )
    op.create_index(
        "ix_search_entries_comment_id",
        "search_entries",
        ["comment_id"],
        postgresql_where=sa.text("comment_id IS NOT NULL"),
        sqlite_where=sa.text("comment_id IS NOT NULL"),
    )
    op.create_index("ix_search_entries_tenant_id", "search_entries", ["tenant_id"])


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if not postgres:
        for name in ("search_entries_ai", "search_entries_ad", "search_entries_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_entries")
    if postgres:
        for lang in LANGUAGES:
            op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS hub_{lang}")
