"""audit_chain: both audit trails become per-tenant hash chains, append-only on PostgreSQL

Adds ``seq``, ``prev_hash`` and ``row_hash`` to ``support_ticket_audit`` and ``tenant_audit``
(filled by the sealer, core.audit_chain), the ``audit_chain_heads`` table, and drops the foreign
key of ``support_ticket_audit.ticket_id`` (its ON DELETE CASCADE would silently cut the chain
when a ticket is deleted; the rows keep the ticket's id). On PostgreSQL a trigger refuses UPDATE
and DELETE of audit rows, except the sealer's one-time filling of the chain fields, audit
retention (``hub.audit_prune`` set for the transaction) and the deletion of a whole tenant.

Revision ID: 0033_audit_chain
Revises: 0016_tenant_audit (it alters that table)
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0033_audit_chain"
down_revision = "0016_tenant_audit"
branch_labels = None
depends_on = None

TABLES = ("support_ticket_audit", "tenant_audit")

GUARD = """
CREATE OR REPLACE FUNCTION hub_audit_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    -- The sealer fills the chain fields once; nothing else of a row ever changes.
    IF OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'row_hash')
           = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'row_hash') THEN
      RETURN NEW;
    END IF;
  ELSE
    IF current_setting('hub.audit_prune', true) = 'on' THEN
      RETURN OLD;  -- audit retention (core.audit_chain.prune_audit), which leaves a checkpoint
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id) THEN
      RETURN OLD;  -- the tenant itself is being deleted, and its whole trail with it
    END IF;
  END IF;
  RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
            batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
            batch.add_column(sa.Column("row_hash", sa.String(64), nullable=True))
            if table == "support_ticket_audit":
                batch.drop_constraint(
                    "fk_support_ticket_audit_ticket_id_support_tickets", type_="foreignkey"
                )
        op.create_index(f"uq_{table}_tenant_id_seq", table, ["tenant_id", "seq"], unique=True)
        op.create_index(
            f"ix_{table}_unsealed",
            table,
            ["id"],
            postgresql_where=sa.text("seq IS NULL"),
            sqlite_where=sa.text("seq IS NULL"),
        )
    op.create_table(
        "audit_chain_heads",
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("chain", sa.String(10), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("pruned_seq", sa.BigInteger(), nullable=False),
        sa.Column("pruned_hash", sa.String(64), nullable=False),
        sa.Column("pruned_count", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_mac", sa.String(64), nullable=False),
        sa.Column("checkpoint_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "chain", name="pk_audit_chain_heads"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARD)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION hub_audit_guard()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS hub_audit_guard()")
    op.drop_table("audit_chain_heads")
    for table in TABLES:
        op.drop_index(f"ix_{table}_unsealed", table_name=table)
        op.drop_index(f"uq_{table}_tenant_id_seq", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("row_hash")
            batch.drop_column("prev_hash")
            batch.drop_column("seq")
            if table == "support_ticket_audit":
                batch.create_foreign_key(
                    "fk_support_ticket_audit_ticket_id_support_tickets",
                    "support_tickets",
                    ["ticket_id"],
                    ["id"],
                    ondelete="CASCADE",
                )
