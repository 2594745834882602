"""support_reply_drafts: the reply each person is typing on a ticket

Revision ID: 0046_drafts
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0046_drafts"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_reply_drafts",
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
        sa.Column(
            "ticket_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "uq_support_reply_drafts_tenant_user_ticket",
        "support_reply_drafts",
        ["tenant_id", "user_id", "ticket_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_support_reply_drafts_tenant_user_ticket", table_name="support_reply_drafts")
    op.drop_table("support_reply_drafts")
