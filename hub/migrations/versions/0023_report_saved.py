"""report_saved: standard reports saved by name, per person or shared with the tenant

Revision ID: 0023_report_saved
Revises: 0022_report_rollups
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import JSONType, UTCDateTime

revision = "0023_report_saved"
down_revision = "0022_report_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_saved",
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
            "user_id",
            sa.Integer(),
            sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("report", sa.String(40), nullable=False),
        sa.Column("query", JSONType, nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "user_id", "name", name="uq_report_saved_tenant_id_user_id_name"
        ),
    )


def downgrade() -> None:
    op.drop_table("report_saved")
