"""Vacuum the SLA clock table often: the sweep updates it like a queue.

Revision ID: sla_0002
Revises: sla_0001
Create Date: 2026-11-26
"""

from alembic import op

revision = 'sla_0002'
down_revision = 'sla_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL only (SQLite has no autovacuum settings per table). Dead index entries at the
    # due end of ix_support_sla_states_next_check_at are what a sweep with nothing due reads.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE support_sla_states SET (autovacuum_vacuum_scale_factor = 0.01, "
                   "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE support_sla_states RESET (autovacuum_vacuum_scale_factor, "
                   "autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor)")
