"""access codes and sandbox clock

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import lockhub.store.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sandbox_codes',
    sa.Column('sandbox_device_id', sa.String(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('starts_at', lockhub.store.types.UtcDateTime(), nullable=True),
    sa.Column('ends_at', lockhub.store.types.UtcDateTime(), nullable=True),
    sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sandbox_device_id'], ['sandbox_devices.sandbox_device_id'], name=op.f('fk_sandbox_codes_sandbox_device_id_sandbox_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sandbox_device_id', 'slot', name=op.f('pk_sandbox_codes'))
    )
    op.create_table('access_codes',
    sa.Column('access_code_id', sa.String(), nullable=False),
    sa.Column('workspace_id', sa.String(), nullable=False),
    sa.Column('device_id', sa.String(), nullable=False),
    sa.Column('is_managed', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('code', sa.String(), nullable=True),
    sa.Column('common_code_key', sa.String(), nullable=True),
    sa.Column('starts_at', lockhub.store.types.UtcDateTime(), nullable=True),
    sa.Column('ends_at', lockhub.store.types.UtcDateTime(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('deleting', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('is_external_modification_allowed', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('is_one_time_use', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('is_offline_access_code', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('is_backup', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('backup_for_access_code_id', sa.String(), nullable=True),
    sa.Column('use_backup_pool', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('pulled_backup_access_code_id', sa.String(), nullable=True),
    sa.Column('prefer_native_scheduling', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('is_scheduled_on_device', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('device_slot', sa.Integer(), nullable=True),
    sa.Column('on_device', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('errors', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('warnings', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('pending_mutations', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.device_id'], name=op.f('fk_access_codes_device_id_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'], name=op.f('fk_access_codes_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('access_code_id', name=op.f('pk_access_codes'))
    )
    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.create_index('ix_access_codes_common_key', ['workspace_id', 'common_code_key'], unique=False)
        batch_op.create_index('ix_access_codes_device_created', ['workspace_id', 'device_id', 'is_managed', 'created_at', 'access_code_id'], unique=False)

    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backup_pool_enabled', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reported_code_lengths', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True))

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clock_offset_seconds', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('clock_frozen_at', lockhub.store.types.UtcDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('reported_code_lengths')
        batch_op.drop_column('backup_pool_enabled')

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('clock_frozen_at')
        batch_op.drop_column('clock_offset_seconds')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('generation')

    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_access_codes_device_created')
        batch_op.drop_index('ix_access_codes_common_key')

    op.drop_table('access_codes')
    op.drop_table('sandbox_codes')
