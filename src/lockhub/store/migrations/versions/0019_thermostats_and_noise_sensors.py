"""thermostats and noise sensors: a device's kind and the settings lockhub keeps for it,
the virtual devices' physical state, thermostat schedules and noise thresholds

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

import lockhub.store.types

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch rebuild of `devices` would drop the read model's triggers.
    op.add_column('devices', sa.Column('kind', sa.String(), nullable=False,
                                       server_default='lock'))
    op.add_column('devices', sa.Column('settings', lockhub.store.types.Json, nullable=True))
    op.create_index('ix_devices_workspace_kind_created', 'devices',
                    ['workspace_id', 'kind', 'created_at', 'device_id'])
    op.add_column('sandbox_devices', sa.Column('climate', lockhub.store.types.Json,
                                               nullable=True))
    op.add_column('sandbox_devices', sa.Column('noise', lockhub.store.types.Json,
                                               nullable=True))
    op.create_table(
        'thermostat_schedules',
        sa.Column('thermostat_schedule_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('device_id', sa.String(), nullable=False),
        sa.Column('name', sa.String(), nullable=True),
        sa.Column('climate_preset_key', sa.String(), nullable=False),
        sa.Column('starts_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.Column('ends_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.Column('is_override_allowed', sa.Boolean(), nullable=True),
        sa.Column('max_override_period_minutes', sa.Integer(), nullable=True),
        sa.Column('errors', lockhub.store.types.Json, nullable=False),
        sa.Column('user_identifier_key', sa.String(), nullable=True),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'],
                                name=op.f('fk_thermostat_schedules_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['device_id'], ['devices.device_id'],
                                name=op.f('fk_thermostat_schedules_device_id_devices'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('thermostat_schedule_id', name=op.f('pk_thermostat_schedules')),
    )
    op.create_index('ix_thermostat_schedules_device_starts', 'thermostat_schedules',
                    ['device_id', 'starts_at'])
    op.create_table(
        'noise_thresholds',
        sa.Column('noise_threshold_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('device_id', sa.String(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('starts_daily_at', sa.String(), nullable=False),
        sa.Column('ends_daily_at', sa.String(), nullable=False),
        sa.Column('noise_threshold_decibels', sa.Float(), nullable=False),
        sa.Column('noise_threshold_nrs', sa.Float(), nullable=True),
        sa.Column('is_programmed', sa.Boolean(), nullable=False),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'],
                                name=op.f('fk_noise_thresholds_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['device_id'], ['devices.device_id'],
                                name=op.f('fk_noise_thresholds_device_id_devices'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('noise_threshold_id', name=op.f('pk_noise_thresholds')),
    )
    op.create_index('ix_noise_thresholds_device_created', 'noise_thresholds',
                    ['device_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_noise_thresholds_device_created', table_name='noise_thresholds')
    op.drop_table('noise_thresholds')
    op.drop_index('ix_thermostat_schedules_device_starts', table_name='thermostat_schedules')
    op.drop_table('thermostat_schedules')
    with op.batch_alter_table('sandbox_devices') as batch:
        batch.drop_column('noise')
        batch.drop_column('climate')
    op.drop_index('ix_devices_workspace_kind_created', table_name='devices')
    with op.batch_alter_table('devices') as batch:
        batch.drop_column('settings')
        batch.drop_column('kind')
