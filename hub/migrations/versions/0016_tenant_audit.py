"""tenant_audit: the tenant-level trail of sign-ins, members and roles, with the client address

Revision ID: 0016_tenant_audit
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import JSONType, UTCDateTime

revision = "0016_tenant_audit"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("auth_user.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("actor_email", sa.String(254), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("target_email", sa.String(254), nullable=False),
        sa.Column("details", JSONType, nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tenant_audit_tenant_id_id", "tenant_audit", ["tenant_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_tenant_audit_tenant_id_id", table_name="tenant_audit")
    op.drop_table("tenant_audit")
