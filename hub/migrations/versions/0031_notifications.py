"""notifications: per-person preferences, tenant defaults and the record of deliveries

Revision ID: 0031_notifications
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import JSONType, UTCDateTime

revision = "0031_notifications"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notification_settings",
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey(
                "tenants.id",
                ondelete="CASCADE",
                name="fk_notification_settings_tenant_id_tenants",
            ),
        ),
        sa.Column("unassigned", sa.String(20), nullable=False),
        sa.Column("defaults", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_notification_settings"),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey(
                "tenants.id",
                ondelete="CASCADE",
                name="fk_notification_preferences_tenant_id_tenants",
            ),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "auth_user.id",
                ondelete="CASCADE",
                name="fk_notification_preferences_user_id_auth_user",
            ),
            nullable=False,
        ),
        sa.Column("choices", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_preferences"),
        sa.UniqueConstraint(
            "tenant_id", "user_id", name="uq_notification_preferences_tenant_id_user_id"
        ),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column(
            "tenant_id",
            sa.Uuid(),
            sa.ForeignKey(
                "tenants.id",
                ondelete="CASCADE",
                name="fk_notification_deliveries_tenant_id_tenants",
            ),
            nullable=False,
        ),
        sa.Column("event_id", BIG, nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "auth_user.id",
                ondelete="CASCADE",
                name="fk_notification_deliveries_user_id_auth_user",
            ),
            nullable=False,
        ),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
        sa.UniqueConstraint(
            "event_id",
            "user_id",
            "channel",
            name="uq_notification_deliveries_event_id_user_id_channel",
        ),
    )
    op.create_index(
        "ix_notification_deliveries_tenant_id_created_at",
        "notification_deliveries",
        ["tenant_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_notification_deliveries_tenant_id_created_at", table_name="notification_deliveries"
    )
    op.drop_table("notification_deliveries")
    op.drop_table("notification_preferences")
    op.drop_table("notification_settings")
