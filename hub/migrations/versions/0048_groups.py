"""agent groups and tiers: agent_groups, agent_group_members, support_tickets.group_id and the
report facts' agent_group

Revision ID: 0048_groups
Revises: 0022_report_rollups
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0048_groups"
down_revision = "0022_report_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_groups",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("last_assigned_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_agent_groups_tenant_id_name"),
    )
    op.create_index("ix_agent_groups_tenant_id", "agent_groups", ["tenant_id"])
    op.create_table(
        "agent_group_members",
        sa.Column(
            "group_id",
            sa.Integer(),
            sa.ForeignKey("agent_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_index("ix_agent_group_members_user_id", "agent_group_members", ["user_id"])
    with op.batch_alter_table("support_tickets") as batch:
        batch.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_support_tickets_group_id", "agent_groups", ["group_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index(
        "ix_support_tickets_tenant_group_id", "support_tickets", ["tenant_id", "group_id", "id"]
    )
    with op.batch_alter_table("report_ticket_facts") as batch:
        batch.add_column(sa.Column("agent_group", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_ticket_facts") as batch:
        batch.drop_column("agent_group")
    op.drop_index("ix_support_tickets_tenant_group_id", "support_tickets")
    with op.batch_alter_table("support_tickets") as batch:
        batch.drop_constraint("fk_support_tickets_group_id", type_="foreignkey")
        batch.drop_column("group_id")
    op.drop_table("agent_group_members")
    op.drop_table("agent_groups")
