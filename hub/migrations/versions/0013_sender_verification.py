"""support_comments.unverified_sender: a comment whose sender the channel could not authenticate

Revision ID: 0013_sender_verification
Revises: 0002_core_indexes
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sender_verification"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("support_comments",
                  sa.Column("unverified_sender", sa.Boolean(), nullable=False,
                            server_default=sa.text("false")))


def downgrade() -> None:
    op.drop_column("support_comments", "unverified_sender")
