"""workspaces: the routes of a simulated outage (Seam's fake's /_fake/simulate_workspace_outage),
so every process sharing the database answers them 503 until the outage ends

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import lockhub.store.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite >= 3.35 drops columns): a batch operation would
# rebuild the table on SQLite and lose its row_changes triggers (migration 0010).
def upgrade() -> None:
    op.add_column('workspaces', sa.Column('outage_routes', lockhub.store.types.Json,
                                          nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE workspaces DROP COLUMN outage_routes')
