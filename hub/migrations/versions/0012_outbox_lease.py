"""Outbox rows carry the token of the delivery that holds their lease.

A row is taken one at a time by a conditional UPDATE that writes a fresh token, renewed while
its holder works; only the holder may record the outcome. A pending row with a token and a
lease in the future is in flight (the per-tenant concurrency limit counts them).

Revision ID: 0012_outbox_lease
Revises: 0002_core_indexes
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_outbox_lease"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events") as batch:
        batch.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_column("lease_token")
