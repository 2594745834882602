"""web: saved queue views

Revision ID: 0701_web_saved_views
Revises: 0001_foundation
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0701_web_saved_views"
down_revision = "0001_foundation"
branch_labels = ("web",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_saved_views",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.String(length=2000), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_web_saved_views_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="CASCADE",
                                name=op.f("fk_web_saved_views_user_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_saved_views")),
    )
    op.create_index("ix_web_saved_views_tenant_user", "web_saved_views", ["tenant_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_web_saved_views_tenant_user", table_name="web_saved_views")
    op.drop_table("web_saved_views")
