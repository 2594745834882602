"""web: each person's queue density

Revision ID: 0702_web_queue_prefs
Revises: 0701_web_saved_views
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0702_web_queue_prefs"
down_revision = "0701_web_saved_views"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_queue_prefs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("density", sa.String(length=12), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_web_queue_prefs_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="CASCADE",
                                name=op.f("fk_web_queue_prefs_user_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_queue_prefs")),
        sa.UniqueConstraint("tenant_id", "user_id", name=op.f("uq_web_queue_prefs_tenant_id_user_id")),
    )


def downgrade() -> None:
    op.drop_table("web_queue_prefs")
