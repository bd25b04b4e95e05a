"""access grants and access methods; access codes remember the access method that made them

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

import lockhub.store.types

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'access_grants',
        sa.Column('access_grant_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('user_identity_id', sa.String(), nullable=False),
        sa.Column('access_grant_key', sa.String(), nullable=True),
        sa.Column('reservation_key', sa.String(), nullable=True),
        sa.Column('name', sa.String(), nullable=True),
        sa.Column('space_ids', lockhub.store.types.Json, nullable=False),
        sa.Column('device_ids', lockhub.store.types.Json, nullable=False),
        sa.Column('requested_access_methods', lockhub.store.types.Json, nullable=False),
        sa.Column('starts_at', lockhub.store.types.UtcDateTime(), nullable=True),
        sa.Column('ends_at', lockhub.store.types.UtcDateTime(), nullable=True),
        sa.Column('warnings', lockhub.store.types.Json, nullable=False),
        sa.Column('errors', lockhub.store.types.Json, nullable=False),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.workspace_id'],
                                name=op.f('fk_access_grants_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('access_grant_id', name=op.f('pk_access_grants')),
    )
    op.create_index('ix_access_grants_user_identity_id', 'access_grants', ['user_identity_id'])
    op.create_index('ix_access_grants_workspace_created', 'access_grants',
                    ['workspace_id', 'created_at', 'access_grant_id'])
    op.create_index('uq_access_grants_key', 'access_grants',
                    ['workspace_id', 'access_grant_key'], unique=True)
    op.create_table(
        'access_methods',
        sa.Column('access_method_id', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=False),
        sa.Column('access_grant_id', sa.String(), nullable=False),
        sa.Column('mode', sa.String(), nullable=False),
        sa.Column('code', sa.String(), nullable=True),
        sa.Column('issued_at', lockhub.store.types.UtcDateTime(), nullable=True),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['access_grant_id'], ['access_grants.access_grant_id'],
                                name=op.f('fk_access_methods_access_grant_id_access_grants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('access_method_id', name=op.f('pk_access_methods')),
    )
    op.create_index('ix_access_methods_access_grant_id', 'access_methods', ['access_grant_id'])
    op.create_index('ix_access_methods_workspace_created', 'access_methods',
                    ['workspace_id', 'created_at', 'access_method_id'])
    # Plain ALTER TABLE (a batch operation would rebuild the table on SQLite and lose its
    # row_changes and table_versions triggers).
    op.add_column('access_codes', sa.Column('access_method_id', sa.String(), nullable=True))
    op.add_column('access_codes', sa.Column('access_grant_id', sa.String(), nullable=True))
    op.create_index('ix_access_codes_access_method_id', 'access_codes', ['access_method_id'])


def downgrade() -> None:
    op.drop_index('ix_access_codes_access_method_id', 'access_codes')
    op.execute('ALTER TABLE access_codes DROP COLUMN access_grant_id')
    op.execute('ALTER TABLE access_codes DROP COLUMN access_method_id')
    op.drop_table('access_methods')
    op.drop_table('access_grants')
