"""support_tags, support_ticket_tags, support_custom_fields, support_ticket_field_values

Revision ID: 0041_tags_fields
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import JSONType, UTCDateTime

revision = "0041_tags_fields"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tenant() -> sa.Column:
    return sa.Column(
        "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def _ticket() -> sa.Column:
    return sa.Column(
        "ticket_id",
        _ID,
        sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "support_tags",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_support_tags_tenant_id_name"),
    )
    op.create_table(
        "support_ticket_tags",
        _ticket(),
        sa.Column(
            "tag_id", _ID, sa.ForeignKey("support_tags.id", ondelete="CASCADE"), primary_key=True
        ),
        _tenant(),
    )
    op.create_index(
        "ix_support_ticket_tags_tag_ticket", "support_ticket_tags", ["tag_id", "ticket_id"]
    )
    op.create_table(
        "support_custom_fields",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("options", JSONType, nullable=False),
        sa.Column("required_categories", JSONType, nullable=False),
        sa.Column("show_on_ticket", sa.Boolean(), nullable=False),
        sa.Column("show_on_portal", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "key", name="uq_support_custom_fields_tenant_id_key"),
        sa.CheckConstraint(
            "type IN ('text', 'number', 'date', 'dropdown', 'multiselect', 'checkbox')",
            name="ck_support_custom_fields_field_type",
        ),
    )
    op.create_index(
        "ix_support_custom_fields_tenant_position",
        "support_custom_fields",
        ["tenant_id", "position"],
    )
    op.create_table(
        "support_ticket_field_values",
        _ticket(),
        sa.Column(
            "field_id",
            _ID,
            sa.ForeignKey("support_custom_fields.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _tenant(),
        sa.Column("value", JSONType, nullable=True),
        sa.Column("value_text", sa.String(500), nullable=False),
    )
    op.create_index(
        "ix_support_ticket_field_values_field_text",
        "support_ticket_field_values",
        ["field_id", "value_text", "ticket_id"],
    )


def downgrade() -> None:
    op.drop_table("support_ticket_field_values")
    op.drop_table("support_custom_fields")
    op.drop_table("support_ticket_tags")
    op.drop_table("support_tags")
