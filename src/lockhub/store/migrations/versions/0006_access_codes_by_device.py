"""access codes by device

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_access_codes_device', 'access_codes', ['device_id', 'device_slot'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_access_codes_device', table_name='access_codes')
