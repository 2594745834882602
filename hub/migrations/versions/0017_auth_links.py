"""auth_links: invitations, password resets and requesters' sign-in links (token hashes only)

Revision ID: 0017_auth_links
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0017_auth_links"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("auth_user.id", ondelete="SET NULL"),
                  nullable=True),
        sa.CheckConstraint(
            "purpose IN ('invitation', 'password_reset', 'signin')",
            name=op.f("ck_auth_links_purpose"),
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_links_token_hash")),
    )
    op.create_index("ix_auth_links_tenant_purpose", "auth_links", ["tenant_id", "purpose"])
    op.create_index("ix_auth_links_user_id", "auth_links", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_auth_links_user_id", table_name="auth_links")
    op.drop_index("ix_auth_links_tenant_purpose", table_name="auth_links")
    op.drop_table("auth_links")
