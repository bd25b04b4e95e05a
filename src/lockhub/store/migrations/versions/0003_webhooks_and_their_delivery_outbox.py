"""webhooks and their delivery outbox

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import lockhub.store.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhooks',
    sa.Column('webhook_id', sa.String(), nullable=False),
    sa.Column('workspace_id', sa.String(), nullable=False),
    sa.Column('url', sa.String(), nullable=False),
    sa.Column('event_types', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('secret_encrypted', sa.String(), nullable=False),
    sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'], name=op.f('fk_webhooks_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('webhook_id', name=op.f('pk_webhooks'))
    )
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhooks_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('delivery_id', sa.String(), nullable=False),
    sa.Column('workspace_id', sa.String(), nullable=False),
    sa.Column('webhook_id', sa.String(), nullable=False),
    sa.Column('event_id', sa.String(), nullable=False),
    sa.Column('event_type', sa.String(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('attempt_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('attempts', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('next_attempt_at', lockhub.store.types.UtcDateTime(), nullable=True),
    sa.Column('delivered_at', lockhub.store.types.UtcDateTime(), nullable=True),
    sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.webhook_id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'], name=op.f('fk_webhook_deliveries_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('delivery_id', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_webhook', ['webhook_id', 'created_at'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_workspace_created', ['workspace_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_workspace_created')
        batch_op.drop_index('ix_webhook_deliveries_webhook')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhooks_workspace_id'))

    op.drop_table('webhooks')
