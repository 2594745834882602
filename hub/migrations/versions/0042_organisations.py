"""organisations: customer companies of a tenant, their email domains, who belongs where

Revision ID: 0042_organisations
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0042_organisations"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "support_organisations",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_support_organisations_tenant_name", "support_organisations", ["tenant_id", "name"]
    )
    op.create_table(
        "support_organisation_domains",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "organisation_id",
            BIG,
            sa.ForeignKey("support_organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "domain", name="uq_support_organisation_domains_tenant_id_domain"
        ),
    )
    op.create_index(
        "ix_support_organisation_domains_organisation_id",
        "support_organisation_domains",
        ["organisation_id"],
    )
    op.create_table(
        "support_organisation_people",
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "organisation_id",
            BIG,
            sa.ForeignKey("support_organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("how", sa.String(10), nullable=False),
        sa.Column("joined_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_support_organisation_people_org",
        "support_organisation_people",
        ["organisation_id", "user_id"],
    )


def downgrade() -> None:
    op.drop_table("support_organisation_people")
    op.drop_table("support_organisation_domains")
    op.drop_table("support_organisations")
