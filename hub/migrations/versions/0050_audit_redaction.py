"""audit_redaction: an erasure may redact audit rows without breaking their hash chain

Adds ``salt`` (a random value the sealer puts into each new row's hash, so that once a redaction
drops it, the old hash can no longer confirm a guessed address) and ``redacted_by`` (the
redaction, named in its erasure's own audit row, that rewrote the row) to both audit trails;
neither is part of a row's hashed content (see core.audit_chain.redact). On PostgreSQL the
append-only trigger is replaced: besides sealing, retention and a tenant's deletion it lets
through one more UPDATE, the sanctioned redaction (``hub.audit_redact`` set for the transaction),
which may change only the columns that can name a person (the trigger's arguments), must set
``redacted_by`` and clear ``salt``, and leaves the chain fields alone.

Revision ID: 0050_audit_redaction
Revises: 0033_audit_chain (it alters the trails and the trigger that revision made)
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0050_audit_redaction"
down_revision = "0033_audit_chain"
branch_labels = None
depends_on = None

# The columns a redaction may rewrite, per trail (core.audit_chain.chain.PERSONAL).
PERSONAL = {
    "support_ticket_audit": ("performed_by", "old_value", "new_value", "details"),
    "tenant_audit": ("actor_id", "actor_email", "ip", "target_email", "details"),
}

GUARD = """
CREATE OR REPLACE FUNCTION hub_audit_guard() RETURNS trigger AS $$
DECLARE
  chain_fields text[] := ARRAY['seq', 'prev_hash', 'row_hash', 'salt', 'redacted_by'];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    -- The sealer fills the chain fields once (its salt among them); nothing else changes.
    IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.redacted_by IS NULL
       AND (to_jsonb(NEW) - chain_fields) = (to_jsonb(OLD) - chain_fields) THEN
      RETURN NEW;
    END IF;
    -- An erasure's redaction (core.audit_chain.redact): only the columns that can name a
    -- person (the trigger's arguments) change; the row stays where it is in the chain.
    IF current_setting('hub.audit_redact', true) = 'on'
       AND OLD.seq IS NOT NULL AND NEW.seq = OLD.seq
       AND NEW.prev_hash = OLD.prev_hash AND NEW.row_hash = OLD.row_hash
       AND NEW.redacted_by IS NOT NULL AND NEW.salt IS NULL
       AND (to_jsonb(NEW) - chain_fields - TG_ARGV) = (to_jsonb(OLD) - chain_fields - TG_ARGV)
    THEN
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

OLD_GUARD = """
CREATE OR REPLACE FUNCTION hub_audit_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'row_hash')
           = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'row_hash') THEN
      RETURN NEW;
    END IF;
  ELSE
    IF current_setting('hub.audit_prune', true) = 'on' THEN
      RETURN OLD;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    for table in PERSONAL:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("salt", sa.String(32), nullable=True))
            batch.add_column(sa.Column("redacted_by", sa.String(32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARD)
        for table, columns in PERSONAL.items():
            args = ", ".join(f"'{c}'" for c in columns)
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION hub_audit_guard({args})"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(OLD_GUARD)
        for table in PERSONAL:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION hub_audit_guard()"
            )
    for table in PERSONAL:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("redacted_by")
            batch.drop_column("salt")
