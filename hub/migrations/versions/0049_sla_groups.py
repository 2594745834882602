"""SLA policies per agent group: support_sla_policies.group_id, and one policy per tenant, group,
category and priority (NULL counting as "every")

Revision ID: 0049_sla_groups
Revises: 0048_groups
Create Date: 2026-12-03

The old UNIQUE (tenant_id, category, priority) would refuse a Tier 2 policy beside the general
one of the same priority, and (NULL being distinct) never refused two "every category" rows.
It becomes a unique index over (tenant_id, coalesce(group_id, 0), coalesce(category, ''),
priority), which both PostgreSQL and SQLite enforce. SQLite does not reflect expression indexes:
a later batch_alter_table of this table must create the index again (hence depends_on sla_0001,
whose batch rebuilds the table, so that it runs first).
"""

import sqlalchemy as sa
from alembic import op

revision = "0049_sla_groups"
down_revision = "0048_groups"
branch_labels = None
depends_on = "sla_0001"

SCOPE = "uq_support_sla_policies_scope"


def _scope_index() -> None:
    op.create_index(
        SCOPE,
        "support_sla_policies",
        [
            "tenant_id",
            sa.text("coalesce(group_id, 0)"),
            sa.text("coalesce(category, '')"),
            "priority",
        ],
        unique=True,
    )


def upgrade() -> None:
    with op.batch_alter_table("support_sla_policies") as batch:
        batch.drop_constraint("uq_support_sla_policies_tenant_id_category_priority", type_="unique")
        batch.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_support_sla_policies_group_id_agent_groups",
            "agent_groups",
            ["group_id"],
            ["id"],
            ondelete="CASCADE",
        )
    _scope_index()


def downgrade() -> None:
    op.drop_index(SCOPE, "support_sla_policies")
    op.execute("DELETE FROM support_sla_policies WHERE group_id IS NOT NULL")
    with op.batch_alter_table("support_sla_policies") as batch:
        batch.drop_constraint("fk_support_sla_policies_group_id_agent_groups", type_="foreignkey")
        batch.drop_column("group_id")
        batch.create_unique_constraint(
            "uq_support_sla_policies_tenant_id_category_priority",
            ["tenant_id", "category", "priority"],
        )
