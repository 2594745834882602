"""Index tickets by the ticket they were merged into (the ticket page lists merged tickets).

Revision ID: 0002_core_indexes
Revises: 0001_foundation
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_core_indexes"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_support_tickets_merged_into_id", "support_tickets", ["merged_into_id"],
                    postgresql_where=sa.text("merged_into_id IS NOT NULL"),
                    sqlite_where=sa.text("merged_into_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_support_tickets_merged_into_id", table_name="support_tickets")
