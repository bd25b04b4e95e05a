"""connect webviews

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import lockhub.store.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'connect_webviews',
        sa.Column('connect_webview_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('auth_token', sa.String(), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('login_successful', sa.Boolean(), nullable=False),
        sa.Column('connected_account_id', sa.String(), nullable=True),
        sa.Column('authorized_at', lockhub.store.types.UtcDateTime(), nullable=True),
        sa.Column('selected_provider', sa.String(), nullable=True),
        sa.Column('accepted_providers', _JSON, nullable=False),
        sa.Column('any_provider_allowed', sa.Boolean(), nullable=False),
        sa.Column('accepted_capabilities', _JSON, nullable=False),
        sa.Column('device_selection_mode', sa.String(), nullable=False),
        sa.Column('custom_redirect_url', sa.String(), nullable=True),
        sa.Column('custom_redirect_failure_url', sa.String(), nullable=True),
        sa.Column('custom_metadata', _JSON, nullable=False),
        sa.Column('customer_key', sa.String(), nullable=True),
        sa.Column('automatically_manage_new_devices', sa.Boolean(), nullable=False),
        sa.Column('wait_for_device_creation', sa.Boolean(), nullable=False),
        sa.Column('pending_login', sa.Text(), nullable=True),
        sa.Column('failed_attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'],
                                name=op.f('fk_connect_webviews_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('connect_webview_id', name=op.f('pk_connect_webviews')),
    )
    op.create_index(op.f('ix_connect_webviews_workspace_id'), 'connect_webviews',
                    ['workspace_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_connect_webviews_workspace_id'), table_name='connect_webviews')
    op.drop_table('connect_webviews')
