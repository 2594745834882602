"""Likely duplicates: support_duplicate_flags (an ordered pair of a tenant's tickets, its score,
reason and status) and support_duplicate_settings (on/off and the look-back window per tenant)

Revision ID: 0043_duplicates
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0043_duplicates"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "support_duplicate_flags",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "first_ticket_id",
            BIG,
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "second_ticket_id",
            BIG,
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "decided_by",
            sa.Integer(),
            sa.ForeignKey("auth_user.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint(
            "tenant_id",
            "first_ticket_id",
            "second_ticket_id",
            name=op.f("uq_support_duplicate_flags_pair"),
        ),
        sa.CheckConstraint(
            "first_ticket_id < second_ticket_id", name=op.f("ck_support_duplicate_flags_ordered")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'dismissed', 'merged')", name=op.f("ck_support_duplicate_flags_status")
        ),
    )
    op.create_index(
        "ix_support_duplicate_flags_tenant_second",
        "support_duplicate_flags",
        ["tenant_id", "second_ticket_id"],
    )
    op.create_table(
        "support_duplicate_settings",
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("window_days", sa.Integer(), nullable=False, server_default="14"),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("support_duplicate_settings")
    op.drop_index("ix_support_duplicate_flags_tenant_second", "support_duplicate_flags")
    op.drop_table("support_duplicate_flags")
