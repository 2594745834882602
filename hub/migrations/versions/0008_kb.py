"""knowledge base: articles, revisions, deflections and the full-text index

Revision ID: 0008_kb
Revises: 0001_foundation
Create Date: 2026-11-26

SQLite: an FTS5 table with external content (``kb_articles``), kept in sync by triggers, Porter
stemming. PostgreSQL: a ``search_vector`` tsvector column filled by a trigger with the article's
text-search configuration (title weight A, tags B, body C) and a GIN index.
"""

from alembic import op
import sqlalchemy as sa
import core.db

revision = '0008_kb'
down_revision = '0001_foundation'
branch_labels = ('kb',)
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

SQLITE_UP = [
    "CREATE VIRTUAL TABLE kb_articles_fts USING fts5(title, body_text, tags_text, search_scope, "
    "content='kb_articles', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER kb_articles_fts_ai AFTER INSERT ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(rowid, title, body_text, tags_text, search_scope) "
    "VALUES (new.id, new.title, new.body_text, new.tags_text, new.search_scope); END",
    "CREATE TRIGGER kb_articles_fts_ad AFTER DELETE ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(kb_articles_fts, rowid, title, body_text, tags_text, search_scope) "
    "VALUES ('delete', old.id, old.title, old.body_text, old.tags_text, old.search_scope); END",
    "CREATE TRIGGER kb_articles_fts_au AFTER UPDATE ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(kb_articles_fts, rowid, title, body_text, tags_text, search_scope) "
    "VALUES ('delete', old.id, old.title, old.body_text, old.tags_text, old.search_scope); "
    "INSERT INTO kb_articles_fts(rowid, title, body_text, tags_text, search_scope) "
    "VALUES (new.id, new.title, new.body_text, new.tags_text, new.search_scope); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS kb_articles_fts_au",
    "DROP TRIGGER IF EXISTS kb_articles_fts_ad",
    "DROP TRIGGER IF EXISTS kb_articles_fts_ai",
    "DROP TABLE IF EXISTS kb_articles_fts",
]
PG_UP = [
    "ALTER TABLE kb_articles ADD COLUMN search_vector tsvector",
    """CREATE FUNCTION kb_articles_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector(NEW.language::regconfig, coalesce(NEW.title, '')), 'A') ||
    setweight(to_tsvector(NEW.language::regconfig, coalesce(NEW.tags_text, '')), 'B') ||
    setweight(to_tsvector(NEW.language::regconfig, coalesce(NEW.body_text, '')), 'C');
  RETURN NEW;
END $$""",
    "CREATE TRIGGER kb_articles_search_vector BEFORE INSERT OR UPDATE OF title, body_text, "
    "tags_text, language ON kb_articles FOR EACH ROW EXECUTE FUNCTION kb_articles_search_vector()",
    "CREATE INDEX ix_kb_articles_search_vector ON kb_articles USING GIN (search_vector)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_kb_articles_search_vector",
    "DROP TRIGGER IF EXISTS kb_articles_search_vector ON kb_articles",
    "DROP FUNCTION IF EXISTS kb_articles_search_vector()",
    "ALTER TABLE kb_articles DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    op.create_table('kb_articles',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('tags', core.db.JSONType, nullable=False),
    sa.Column('tags_text', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('visibility', sa.String(length=20), nullable=False),
    sa.Column('search_scope', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'published')", name=op.f('ck_kb_articles_status')),
    sa.CheckConstraint("visibility IN ('public', 'agents')", name=op.f('ck_kb_articles_visibility')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_kb_articles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['auth_user.id'], name=op.f('fk_kb_articles_created_by_auth_user')),
    sa.ForeignKeyConstraint(['updated_by'], ['auth_user.id'], name=op.f('fk_kb_articles_updated_by_auth_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_articles')),
    )
    op.create_index('ix_kb_articles_tenant_status_visibility', 'kb_articles',
                    ['tenant_id', 'status', 'visibility'])
    op.create_index('ix_kb_articles_tenant_category', 'kb_articles', ['tenant_id', 'category'])
    op.create_table('kb_article_revisions',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('article_id', BIGID, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('tags', core.db.JSONType, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('visibility', sa.String(length=20), nullable=False),
    sa.Column('edited_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_kb_article_revisions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_article_revisions_article_id_kb_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['edited_by'], ['auth_user.id'], name=op.f('fk_kb_article_revisions_edited_by_auth_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_revisions')),
    )
    op.create_index('ix_kb_article_revisions_article_version', 'kb_article_revisions',
                    ['article_id', 'version'])
    op.create_table('kb_deflections',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('article_id', BIGID, nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_kb_deflections_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_deflections_article_id_kb_articles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'], name=op.f('fk_kb_deflections_user_id_auth_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_deflections')),
    )
    op.create_index('ix_kb_deflections_tenant_created', 'kb_deflections', ['tenant_id', 'created_at'])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == 'sqlite' else PG_UP if dialect == 'postgresql' else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == 'sqlite' else PG_DOWN if dialect == 'postgresql' else []:
        op.execute(statement)
    op.drop_index('ix_kb_deflections_tenant_created', table_name='kb_deflections')
    op.drop_table('kb_deflections')
    op.drop_index('ix_kb_article_revisions_article_version', table_name='kb_article_revisions')
    op.drop_table('kb_article_revisions')
    op.drop_index('ix_kb_articles_tenant_category', table_name='kb_articles')
    op.drop_index('ix_kb_articles_tenant_status_visibility', table_name='kb_articles')
    op.drop_table('kb_articles')
