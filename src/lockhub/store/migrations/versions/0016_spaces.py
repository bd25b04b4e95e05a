"""spaces: groups of devices, directly and through connected accounts

Membership rows go with the device, account or space they name (ON DELETE CASCADE); a deleted
parent space leaves its children without a parent (SET NULL).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

import lockhub.store.types

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'spaces',
        sa.Column('space_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('space_key', sa.String(), nullable=True),
        sa.Column('customer_key', sa.String(), nullable=True),
        sa.Column('parent_space_id', sa.String(), nullable=True),
        sa.Column('customer_data', lockhub.store.types.Json, nullable=False),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'],
                                name=op.f('fk_spaces_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['parent_space_id'], ['spaces.space_id'],
                                name=op.f('fk_spaces_parent_space_id_spaces'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('space_id', name=op.f('pk_spaces')),
    )
    op.create_index('ix_spaces_workspace_created', 'spaces',
                    ['workspace_id', 'created_at', 'space_id'])
    op.create_index('uq_spaces_key', 'spaces', ['workspace_id', 'space_key'], unique=True)
    op.create_index('ix_spaces_parent', 'spaces', ['parent_space_id'])
    op.create_table(
        'space_devices',
        sa.Column('space_id', sa.String(), nullable=False),
        sa.Column('device_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['space_id'], ['spaces.space_id'],
                                name=op.f('fk_space_devices_space_id_spaces'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['device_id'], ['devices.device_id'],
                                name=op.f('fk_space_devices_device_id_devices'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('space_id', 'device_id', name=op.f('pk_space_devices')),
    )
    op.create_index('ix_space_devices_device', 'space_devices', ['device_id'])
    op.create_table(
        'space_connected_accounts',
        sa.Column('space_id', sa.String(), nullable=False),
        sa.Column('connected_account_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['space_id'], ['spaces.space_id'],
                                name=op.f('fk_space_connected_accounts_space_id_spaces'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['connected_account_id'], ['connected_accounts.connected_account_id'],
            # The conventional name is longer than PostgreSQL's 63 characters.
            name=op.f('fk_space_connected_accounts_account'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('space_id', 'connected_account_id',
                                name=op.f('pk_space_connected_accounts')),
    )
    op.create_index('ix_space_connected_accounts_account', 'space_connected_accounts',
                    ['connected_account_id'])


def downgrade() -> None:
    op.drop_table('space_connected_accounts')
    op.drop_table('space_devices')
    op.drop_table('spaces')
