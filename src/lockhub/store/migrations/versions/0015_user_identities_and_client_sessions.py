"""user identities (with the devices granted to each) and client sessions

A client session is a credential: its updates and deletes are logged to row_changes (SQLite),
so every process forgets a remembered session at once when it is revoked, changed or deleted.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import lockhub.store.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_identities',
        sa.Column('user_identity_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('user_identity_key', sa.String(), nullable=True),
        sa.Column('email_address', sa.String(), nullable=True),
        sa.Column('phone_number', sa.String(), nullable=True),
        sa.Column('full_name', sa.String(), nullable=True),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'],
                                name=op.f('fk_user_identities_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_identity_id', name=op.f('pk_user_identities')),
    )
    op.create_index('ix_user_identities_workspace_created', 'user_identities',
                    ['workspace_id', 'created_at', 'user_identity_id'])
    op.create_index('uq_user_identities_key', 'user_identities',
                    ['workspace_id', 'user_identity_key'], unique=True)
    op.create_index('uq_user_identities_email', 'user_identities',
                    ['workspace_id', 'email_address'], unique=True)
    op.create_index('uq_user_identities_phone', 'user_identities',
                    ['workspace_id', 'phone_number'], unique=True)
    op.create_table(
        'user_identity_devices',
        sa.Column('user_identity_id', sa.String(), nullable=False),
        sa.Column('device_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_identity_id'], ['user_identities.user_identity_id'],
                                name=op.f('fk_user_identity_devices_user_identity_id_user_identities'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['device_id'], ['devices.device_id'],
                                name=op.f('fk_user_identity_devices_device_id_devices'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_identity_id', 'device_id',
                                name=op.f('pk_user_identity_devices')),
    )
    op.create_index('ix_user_identity_devices_device', 'user_identity_devices', ['device_id'])
    op.create_table(
        'client_sessions',
        sa.Column('client_session_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('token_digest', sa.String(), nullable=False),
        sa.Column('token_sealed', sa.Text(), nullable=False),
        sa.Column('user_identifier_key', sa.String(), nullable=True),
        sa.Column('customer_key', sa.String(), nullable=True),
        sa.Column('connected_account_ids', lockhub.store.types.Json, nullable=False),
        sa.Column('connect_webview_ids', lockhub.store.types.Json, nullable=False),
        sa.Column('user_identity_ids', lockhub.store.types.Json, nullable=False),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.Column('expires_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.Column('revoked_at', lockhub.store.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'],
                                name=op.f('fk_client_sessions_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('client_session_id', name=op.f('pk_client_sessions')),
        sa.UniqueConstraint('token_digest', name=op.f('uq_client_sessions_token_digest')),
    )
    op.create_index('ix_client_sessions_workspace_created', 'client_sessions',
                    ['workspace_id', 'created_at', 'client_session_id'])
    op.create_index('uq_client_sessions_user_identifier_key', 'client_sessions',
                    ['workspace_id', 'user_identifier_key'], unique=True)
    if op.get_bind().dialect.name == 'sqlite':
        for change in ('UPDATE', 'DELETE'):
            op.execute(
                f'CREATE TRIGGER row_changes_client_sessions_{change.lower()} AFTER {change} '
                f"ON client_sessions BEGIN INSERT INTO row_changes (table_name, row_key) "
                f"VALUES ('client_sessions', OLD.client_session_id); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for change in ('update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS row_changes_client_sessions_{change}')
    op.drop_table('client_sessions')
    op.drop_table('user_identity_devices')
    op.drop_table('user_identities')
