"""provider connections: who holds each live connected account

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import lockhub.store.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'provider_connections',
        sa.Column('connected_account_id', sa.String(), sa.ForeignKey(
            'connected_accounts.connected_account_id', ondelete='CASCADE'), primary_key=True),
        sa.Column('holder', sa.String(), nullable=True),
        sa.Column('lease_until', lockhub.store.types.UtcDateTime(), nullable=True),
        sa.Column('connected', sa.Boolean(), nullable=False, server_default='0'),
        sa.Column('last_error', sa.String(), nullable=True),
        sa.Column('updated_at', lockhub.store.types.UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('provider_connections')
