"""channel keys: one tenant owns an inbound key (support address, Slack team, Teams app)

Existing keys move from the plugin settings into the registry. A key that exactly one tenant
names is kept as verified (it was taking that tenant's traffic); a key that several tenants
name is pending for each of them, so it routes nothing until one proves control.

Revision ID: 0010_channel_keys
Revises: 0002_core_indexes
Create Date: 2026-12-02
"""

import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0010_channel_keys"
down_revision = "0002_core_indexes"
branch_labels = None
depends_on = None

VERIFIED = sa.text("verified_at IS NOT NULL")


def upgrade() -> None:
    table = op.create_table(
        "support_channel_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("verified_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_support_channel_keys_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_channel_keys")),
        sa.UniqueConstraint("tenant_id", "plugin", "key",
                            name=op.f("uq_support_channel_keys_tenant_id_plugin_key")),
    )
    op.create_index("uq_support_channel_keys_owner", "support_channel_keys", ["plugin", "key"],
                    unique=True, sqlite_where=VERIFIED, postgresql_where=VERIFIED)
    _backfill(table)


def _keys(plugin: str, settings: dict) -> list[str]:
    if plugin == "email":
        return [str(a).strip().lower() for a in settings.get("addresses") or []]
    field = {"slack": "team_id", "teams": "app_id"}.get(plugin)
    value = str(settings.get(field) or "").strip() if field else ""
    return [value] if value else []


def _backfill(table: sa.Table) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT tenant_id, plugin, settings FROM tenant_plugins "
        "WHERE plugin IN ('email', 'slack', 'teams')")).all()
    claims: dict[tuple[str, str], set] = defaultdict(set)
    for tenant_id, plugin, settings in rows:
        if isinstance(settings, str):
            settings = json.loads(settings or "{}")
        for key in dict.fromkeys(_keys(plugin, settings or {})):
            claims[(plugin, key)].add(tenant_id if isinstance(tenant_id, uuid.UUID)
                                      else uuid.UUID(str(tenant_id)))
    at = datetime.now(UTC)
    values = [{"tenant_id": tenant_id, "plugin": plugin, "key": key[:320], "token_hash": None,
               "verified_at": at if len(tenants) == 1 else None, "created_at": at}
              for (plugin, key), tenants in claims.items() for tenant_id in tenants]
    if values:
        op.bulk_insert(table, values)


def downgrade() -> None:
    op.drop_index("uq_support_channel_keys_owner", table_name="support_channel_keys")
    op.drop_table("support_channel_keys")
