"""report sums for the standard reports without filters: report_duration_bins, report_sla_days,
report_created_days, report_rating_days, report_agent_days, report_agent_bins, and the facts'
duration indexes

Revision ID: 0049_report_summaries
Revises: 0048_groups
Create Date: 2026-12-03

The sums are filled from the facts already there (``core.reports.summaries.refill``).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0049_report_summaries"
down_revision = "0048_groups"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DURATIONS = (
    ("first_response_minutes", "created_day"),
    ("first_response_business", "created_day"),
    ("resolution_minutes", "resolved_day"),
    ("resolution_business", "resolved_day"),
)


def _tenant() -> sa.Column:
    return sa.Column(
        "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "report_duration_bins",
        _tenant(),
        sa.Column("measure", sa.String(4), nullable=False),
        sa.Column("span", sa.String(1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        _count("count"),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "measure", "span", "day", "bin"),
    )
    op.create_table(
        "report_sla_days",
        _tenant(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("policy_id", BIG, nullable=False),
        *(
            _count(c)
            for c in ("tickets", "responded", "response_met", "resolved", "resolution_met")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", "policy_id"),
    )
    op.create_table(
        "report_created_days",
        _tenant(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        _count("count"),
        sa.PrimaryKeyConstraint("tenant_id", "day", "category", "priority", "channel"),
    )
    op.create_table(
        "report_rating_days",
        _tenant(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        _count("count"),
        sa.PrimaryKeyConstraint("tenant_id", "day", "agent", "category", "rating"),
    )
    op.create_table(
        "report_agent_days",
        _tenant(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent", sa.Integer(), nullable=False),
        *(
            _count(c)
            for c in ("assigned", "resolved", "finished", "reopened", "rating_sum", "rated")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", "agent"),
    )
    op.create_table(
        "report_agent_bins",
        _tenant(),
        sa.Column("agent", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(4), nullable=False),
        sa.Column("span", sa.String(1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        _count("count"),
        sa.PrimaryKeyConstraint("tenant_id", "span", "day", "agent", "measure", "bin"),
    )
    for column, _day in DURATIONS:
        op.create_index(
            f"ix_report_ticket_facts_tenant_agent_{column}",
            "report_ticket_facts",
            ["tenant_id", "agent", column],
            postgresql_include=["created_day"],
        )
    for column, day in DURATIONS:
        op.create_index(
            f"ix_report_ticket_facts_tenant_{column}",
            "report_ticket_facts",
            ["tenant_id", column],
            postgresql_include=[day, "merged"],
        )
    from core.reports import summaries

    with Session(bind=op.get_bind()) as session:
        summaries.refill(session)
        session.flush()


def downgrade() -> None:
    for column, _day in DURATIONS:
        op.drop_index(f"ix_report_ticket_facts_tenant_{column}", table_name="report_ticket_facts")
        op.drop_index(
            f"ix_report_ticket_facts_tenant_agent_{column}", table_name="report_ticket_facts"
        )
    for table in (
        "report_agent_bins",
        "report_agent_days",
        "report_rating_days",
        "report_created_days",
        "report_sla_days",
        "report_duration_bins",
    ):
        op.drop_table(table)
