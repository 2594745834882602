"""access control: per-membership deactivation, API token scope, expiry and last use

Revision ID: 0018_access_control
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0018_access_control"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenant_memberships") as batch:
        batch.add_column(sa.Column("deactivated_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        # Tokens made before scopes existed keep what they could do: whatever the owner's role
        # allows ("admin" scope is bounded by the role on every request).
        batch.add_column(
            sa.Column("scope", sa.String(10), nullable=False, server_default="admin")
        )
        batch.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
        batch.drop_column("scope")
    with op.batch_alter_table("tenant_memberships") as batch:
        batch.drop_column("deactivated_at")
