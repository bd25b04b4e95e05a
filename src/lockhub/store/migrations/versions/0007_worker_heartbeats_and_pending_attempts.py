"""worker heartbeats; pending action attempts by age

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import lockhub.store.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'workers',
        sa.Column('worker_id', sa.String(), nullable=False),
        sa.Column('host', sa.String(), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('process_key', sa.String(), nullable=True),
        sa.Column('started_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.Column('heartbeat_at', lockhub.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_workers')),
    )
    op.create_index('ix_action_attempts_pending', 'action_attempts', ['created_at'],
                    unique=False, sqlite_where=sa.text("status = 'pending'"),
                    postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('ix_action_attempts_pending', table_name='action_attempts')
    op.drop_table('workers')
