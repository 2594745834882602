"""report rollups: report_ticket_facts (a row per ticket), report_moves (counted changes), report_daily

Revision ID: 0022_report_rollups
Revises: 0002_core_indexes
Create Date: 2026-12-02

The tables start empty; ``hub reports rebuild`` fills them from the existing tickets (a ticket
changed before that is replayed on its first change).
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0022_report_rollups"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_ticket_facts",
        sa.Column(
            "ticket_id",
            BIG,
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("requester", sa.Integer(), nullable=False),
        sa.Column("agent", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("policy_id", BIG, nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("created_week", sa.Date(), nullable=False),
        sa.Column("created_month", sa.Date(), nullable=False),
        sa.Column("resolved_day", sa.Date(), nullable=True),
        sa.Column("resolved_week", sa.Date(), nullable=True),
        sa.Column("resolved_month", sa.Date(), nullable=True),
        sa.Column("first_response_minutes", sa.Float(), nullable=True),
        sa.Column("first_response_business", sa.Float(), nullable=True),
        sa.Column("resolution_minutes", sa.Float(), nullable=True),
        sa.Column("resolution_business", sa.Float(), nullable=True),
        sa.Column("response_target", sa.Integer(), nullable=False),
        sa.Column("resolution_target", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("has_feedback", sa.Boolean(), nullable=False),
        sa.Column("last_status", sa.String(20), nullable=False),
        sa.Column("stopped_since", UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_business", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_report_ticket_facts_tenant_created_day",
        "report_ticket_facts",
        ["tenant_id", "created_day"],
    )
    op.create_index(
        "ix_report_ticket_facts_tenant_resolved_day",
        "report_ticket_facts",
        ["tenant_id", "resolved_day"],
    )
    op.create_index(
        "ix_report_ticket_facts_tenant_status", "report_ticket_facts", ["tenant_id", "status"]
    )
    op.create_table(
        "report_moves",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "ticket_id",
            BIG,
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("backlog", sa.Integer(), nullable=False),
    )
    op.create_index("ix_report_moves_tenant_day", "report_moves", ["tenant_id", "day"])
    op.create_table(
        "report_daily",
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "day", "kind", "actor_id", name="pk_report_daily"),
    )


def downgrade() -> None:
    op.drop_table("report_daily")
    op.drop_index("ix_report_moves_tenant_day", table_name="report_moves")
    op.drop_table("report_moves")
    op.drop_index("ix_report_ticket_facts_tenant_status", table_name="report_ticket_facts")
    op.drop_index("ix_report_ticket_facts_tenant_resolved_day", table_name="report_ticket_facts")
    op.drop_index("ix_report_ticket_facts_tenant_created_day", table_name="report_ticket_facts")
    op.drop_table("report_ticket_facts")
