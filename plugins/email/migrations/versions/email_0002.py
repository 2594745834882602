"""Email plugin: failing addresses per tenant (a bounce silences one tenant's mail, not all)

Revision ID: email_0002
Revises: email_0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import core.api

revision = "email_0002"
down_revision = "email_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_failing_addresses",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("last_bounce_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name=op.f("fk_email_failing_addresses_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_failing_addresses")),
        sa.UniqueConstraint(
            "tenant_id", "address", name=op.f("uq_email_failing_addresses_tenant_id_address")
        ),
    )


def downgrade() -> None:
    op.drop_table("email_failing_addresses")
