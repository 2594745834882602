"""chatbot: chat sessions and messages

Revision ID: 0009_chatbot
Revises: 0001_foundation
Create Date: 2026-11-26
"""

from alembic import op
import sqlalchemy as sa
import core.api

revision = '0009_chatbot'
down_revision = '0001_foundation'
branch_labels = ('chatbot',)
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('chatbot_sessions',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', BIGID, nullable=True),
    sa.Column('unanswered', sa.Integer(), nullable=False),
    sa.Column('offered', core.api.JSONType, nullable=False),
    sa.Column('last_question', sa.Text(), nullable=False),
    sa.Column('created_at', core.api.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.api.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_chatbot_sessions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['auth_user.id'], name=op.f('fk_chatbot_sessions_user_id_auth_user')),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_tickets.id'], name=op.f('fk_chatbot_sessions_ticket_id_support_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chatbot_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_chatbot_sessions_token_hash')),
    )
    op.create_index('ix_chatbot_sessions_tenant_ticket', 'chatbot_sessions', ['tenant_id', 'ticket_id'])
    op.create_index('ix_chatbot_sessions_tenant_address_created', 'chatbot_sessions',
                    ['tenant_id', 'address', 'created_at'])
    op.create_table('chatbot_messages',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('session_id', BIGID, nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', core.api.JSONType, nullable=False),
    sa.Column('event_id', BIGID, nullable=True),
    sa.Column('created_at', core.api.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_chatbot_messages_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['chatbot_sessions.id'], name=op.f('fk_chatbot_messages_session_id_chatbot_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chatbot_messages')),
    sa.UniqueConstraint('session_id', 'event_id', name=op.f('uq_chatbot_messages_session_id_event_id')),
    )
    op.create_index('ix_chatbot_messages_session_id_id', 'chatbot_messages', ['session_id', 'id'])
    op.create_index('ix_chatbot_messages_tenant_created', 'chatbot_messages', ['tenant_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_chatbot_messages_tenant_created', table_name='chatbot_messages')
    op.drop_index('ix_chatbot_messages_session_id_id', table_name='chatbot_messages')
    op.drop_table('chatbot_messages')
    op.drop_index('ix_chatbot_sessions_tenant_address_created', table_name='chatbot_sessions')
    op.drop_index('ix_chatbot_sessions_tenant_ticket', table_name='chatbot_sessions')
    op.drop_table('chatbot_sessions')
