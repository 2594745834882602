"""person_locale: each person's language and time zone, and what their browser last said

Revision ID: 0045_person_locale
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0045_person_locale"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_locale",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("browser_locale", sa.String(16), nullable=True),
        sa.Column("browser_time_zone", sa.String(64), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("person_locale")
