"""console sessions: who is signed in to the web console, with their credential encrypted

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

import lockhub.store.types

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'console_sessions',
        sa.Column('session_id', sa.String(), nullable=False),
        sa.Column('credential_sealed', sa.String(), nullable=False),
        sa.Column('workspace_id', sa.String(), nullable=True),
        sa.Column('created_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.Column('expires_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_console_sessions')),
    )
    op.create_index('ix_console_sessions_expires_at', 'console_sessions', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_console_sessions_expires_at', table_name='console_sessions')
    op.drop_table('console_sessions')
