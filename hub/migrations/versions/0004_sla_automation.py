"""SLA state per ticket, policy warning threshold, automation rules, settings, runs, macros.

Revision ID: sla_0001
Revises: 0001_foundation
Create Date: 2026-11-26
"""

from alembic import op
import sqlalchemy as sa
import core.db

revision = 'sla_0001'
down_revision = '0001_foundation'
branch_labels = ('sla',)
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('support_sla_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warning_percent', sa.Integer(), server_default=sa.text('80'),
                                      nullable=False))

    op.create_table('support_sla_states',
    sa.Column('ticket_id', BIGID, nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('policy_id', BIGID, nullable=True),
    sa.Column('response_minutes', sa.Integer(), nullable=False),
    sa.Column('resolution_minutes', sa.Integer(), nullable=False),
    sa.Column('warning_percent', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('cycle_started_at', TS, nullable=False),
    sa.Column('last_status', sa.String(length=20), nullable=False),
    sa.Column('paused_since', TS, nullable=True),
    sa.Column('paused_seconds', sa.Float(), nullable=False),
    sa.Column('response_warn_at', TS, nullable=True),
    sa.Column('response_due_at', TS, nullable=True),
    sa.Column('resolution_warn_at', TS, nullable=True),
    sa.Column('resolution_due_at', TS, nullable=True),
    sa.Column('response_warned_at', TS, nullable=True),
    sa.Column('response_breached_at', TS, nullable=True),
    sa.Column('resolution_warned_at', TS, nullable=True),
    sa.Column('resolution_breached_at', TS, nullable=True),
    sa.Column('next_check_at', TS, nullable=True),
    sa.Column('updated_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['support_sla_policies.id'], name=op.f('fk_support_sla_states_policy_id_support_sla_policies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_support_sla_states_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_tickets.id'], name=op.f('fk_support_sla_states_ticket_id_support_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_support_sla_states'))
    )
    op.create_index('ix_support_sla_states_next_check_at', 'support_sla_states', ['next_check_at'],
                    unique=False, postgresql_where=sa.text('next_check_at IS NOT NULL'),
                    sqlite_where=sa.text('next_check_at IS NOT NULL'))
    op.create_index('ix_support_sla_states_tenant_id', 'support_sla_states', ['tenant_id'])

    op.create_table('support_automation_rules',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('trigger', sa.String(length=30), nullable=False),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('conditions', core.db.JSONType, nullable=False),
    sa.Column('actions', core.db.JSONType, nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('swept_until', TS, nullable=True),
    sa.Column('swept_id', BIGID, nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("trigger IN ('ticket.created', 'ticket.updated', 'comment.added', 'time.no_update')", name=op.f('ck_support_automation_rules_trigger')),
    sa.ForeignKeyConstraint(['created_by'], ['auth_user.id'], name=op.f('fk_support_automation_rules_created_by_auth_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_support_automation_rules_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_automation_rules')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_support_automation_rules_tenant_id_name'))
    )
    op.create_index('ix_support_automation_rules_tenant_trigger', 'support_automation_rules',
                    ['tenant_id', 'trigger'])

    op.create_table('support_automation_settings',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('assign_mode', sa.String(length=20), nullable=False),
    sa.Column('auto_close_hours', sa.Float(), nullable=True),
    sa.Column('auto_respond', sa.Boolean(), nullable=False),
    sa.Column('last_assigned_user_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("assign_mode IN ('round_robin', 'skill', 'off')", name=op.f('ck_support_automation_settings_assign_mode')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_support_automation_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_support_automation_settings'))
    )

    op.create_table('support_automation_runs',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('ticket_id', BIGID, nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_support_automation_runs_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_tickets.id'], name=op.f('fk_support_automation_runs_ticket_id_support_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_automation_runs')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_support_automation_runs_dedupe_key'))
    )
    op.create_index(op.f('ix_support_automation_runs_tenant_id'), 'support_automation_runs', ['tenant_id'])
    op.create_index(op.f('ix_support_automation_runs_ticket_id'), 'support_automation_runs', ['ticket_id'])

    op.create_table('support_macros',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('is_internal', sa.Boolean(), nullable=False),
    sa.Column('changes', core.db.JSONType, nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['auth_user.id'], name=op.f('fk_support_macros_created_by_auth_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_support_macros_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_macros')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_support_macros_tenant_id_name'))
    )
    op.create_index(op.f('ix_support_macros_tenant_id'), 'support_macros', ['tenant_id'])

    op.create_index('ix_support_tickets_resolved_at', 'support_tickets', ['resolved_at'],
                    unique=False, postgresql_where=sa.text("status = 'Resolved'"),
                    sqlite_where=sa.text("status = 'Resolved'"))


def downgrade() -> None:
    op.drop_index('ix_support_tickets_resolved_at', table_name='support_tickets')
    op.drop_table('support_macros')
    op.drop_table('support_automation_runs')
    op.drop_table('support_automation_settings')
    op.drop_table('support_automation_rules')
    op.drop_table('support_sla_states')
    with op.batch_alter_table('support_sla_policies', schema=None) as batch_op:
        batch_op.drop_column('warning_percent')
