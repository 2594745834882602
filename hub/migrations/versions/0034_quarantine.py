"""Attachment scan verdicts and quarantine: support_attachments gains scan_status,
scan_signature, scanned_at, held, released_by and released_at; tenant_scan_settings holds what a
tenant wants when the scanner is down.

Revision ID: 0034_quarantine
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0034_quarantine"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("support_attachments") as batch:
        batch.add_column(sa.Column("scan_status", sa.String(20), nullable=False,
                                   server_default="not_scanned"))
        batch.add_column(sa.Column("scan_signature", sa.String(255), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("scanned_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("held", sa.String(20), nullable=True))
        batch.add_column(sa.Column("released_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("released_at", UTCDateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_support_attachments_released_by", "auth_user",
                                 ["released_by"], ["id"], ondelete="SET NULL")
    op.create_index("ix_support_attachments_held", "support_attachments", ["tenant_id", "held"],
                    postgresql_where=sa.text("held IS NOT NULL"),
                    sqlite_where=sa.text("held IS NOT NULL"))
    op.create_table(
        "tenant_scan_settings",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("when_down", sa.String(10), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tenant_scan_settings")
    op.drop_index("ix_support_attachments_held", table_name="support_attachments")
    with op.batch_alter_table("support_attachments") as batch:
        batch.drop_constraint("fk_support_attachments_released_by", type_="foreignkey")
        for column in ("released_at", "released_by", "held", "scanned_at", "scan_signature",
                       "scan_status"):
            batch.drop_column(column)
