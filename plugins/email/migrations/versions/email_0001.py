"""Email plugin: parked messages, mailbox leases, sent mail, bounces.

Revision ID: email_0001
Revises: 0001_foundation
Create Date: 2026-11-26
"""

from alembic import op
import sqlalchemy as sa
import core.api

revision = 'email_0001'
down_revision = '0001_foundation'
branch_labels = ('email',)
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = core.api.UTCDateTime(timezone=True)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE',
                                   name=op.f(f'fk_{table}_tenant_id_tenants'))


def upgrade() -> None:
    op.create_table(
        'email_parked_messages',
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=False),
        sa.Column('uid', sa.Integer(), nullable=True),
        sa.Column('message_id', sa.String(length=500), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('raw_path', sa.String(length=255), nullable=True),
        sa.Column('created_at', TS, nullable=False),
        _tenant_fk('email_parked_messages'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_parked_messages')),
    )
    op.create_index('ix_email_parked_messages_tenant_id_created_at', 'email_parked_messages',
                    ['tenant_id', 'created_at'])
    op.create_table(
        'email_mailbox_leases',
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('mailbox', sa.String(length=300), nullable=False),
        sa.Column('holder', sa.String(length=100), nullable=False),
        sa.Column('expires_at', TS, nullable=False),
        _tenant_fk('email_mailbox_leases'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_mailbox_leases')),
        sa.UniqueConstraint('tenant_id', 'mailbox',
                            name=op.f('uq_email_mailbox_leases_tenant_id_mailbox')),
    )
    op.create_table(
        'email_sent',
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('event_id', BIGID, nullable=False),
        sa.Column('ticket_id', BIGID, nullable=True),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('message_id', sa.String(length=500), nullable=False),
        sa.Column('automatic', sa.Boolean(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        _tenant_fk('email_sent'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_sent')),
        sa.UniqueConstraint('tenant_id', 'event_id', name=op.f('uq_email_sent_tenant_id_event_id')),
    )
    op.create_index('ix_email_sent_tenant_id_recipient_created_at', 'email_sent',
                    ['tenant_id', 'recipient', 'created_at'])
    op.create_table(
        'email_bounces',
        sa.Column('id', BIGID, autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=300), nullable=False),
        sa.Column('recipients', core.api.JSONType, nullable=False),
        sa.Column('marked', core.api.JSONType, nullable=False),
        sa.Column('created_at', TS, nullable=False),
        _tenant_fk('email_bounces'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_bounces')),
        sa.UniqueConstraint('tenant_id', 'dedupe_key',
                            name=op.f('uq_email_bounces_tenant_id_dedupe_key')),
    )


def downgrade() -> None:
    op.drop_table('email_bounces')
    op.drop_index('ix_email_sent_tenant_id_recipient_created_at', table_name='email_sent')
    op.drop_table('email_sent')
    op.drop_table('email_mailbox_leases')
    op.drop_index('ix_email_parked_messages_tenant_id_created_at',
                  table_name='email_parked_messages')
    op.drop_table('email_parked_messages')
