"""person data: legal holds, person-data exports, retention runs; indexes retention reads

Revision ID: 0035_gdpr
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import JSONType, UTCDateTime

revision = "0035_gdpr"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tenant() -> sa.Column:
    return sa.Column(
        "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "privacy_legal_holds",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "ticket_id", BIG, sa.ForeignKey("support_tickets.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.Integer(), nullable=True),
    )
    op.create_index(
        "ix_privacy_legal_holds_tenant_released",
        "privacy_legal_holds",
        ["tenant_id", "released_at"],
    )
    op.create_table(
        "privacy_exports",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("blob_key", sa.String(255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_privacy_exports_tenant_user_id", "privacy_exports", ["tenant_id", "user_id", "id"]
    )
    op.create_index("ix_privacy_exports_status", "privacy_exports", ["status"])
    op.create_index("ix_privacy_exports_expires_at", "privacy_exports", ["expires_at"])
    op.create_table(
        "privacy_retention_runs",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("counts", JSONType, nullable=False),
        sa.Column("notes", JSONType, nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(500), nullable=False),
    )
    op.create_index(
        "ix_privacy_retention_runs_tenant_id_id", "privacy_retention_runs", ["tenant_id", "id"]
    )
    op.create_index(
        "ix_inbound_keys_tenant_id_created_at", "inbound_keys", ["tenant_id", "created_at"]
    )
    op.create_index(
        "ix_support_tickets_tenant_closed_at", "support_tickets", ["tenant_id", "closed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_support_tickets_tenant_closed_at", table_name="support_tickets")
    op.drop_index("ix_inbound_keys_tenant_id_created_at", table_name="inbound_keys")
    op.drop_table("privacy_retention_runs")
    op.drop_table("privacy_exports")
    op.drop_table("privacy_legal_holds")
