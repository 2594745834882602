"""kb_feedback: "Was this helpful?" answers per article and reader

Revision ID: 0036_kb_feedback
Revises: 0008_kb
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0036_kb_feedback"
down_revision = "0008_kb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_feedback",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "article_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("kb_articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("voter", sa.String(64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("article_id", "voter", name="uq_kb_feedback_article_id_voter"),
    )
    op.create_index("ix_kb_feedback_tenant_created", "kb_feedback", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_table("kb_feedback")
