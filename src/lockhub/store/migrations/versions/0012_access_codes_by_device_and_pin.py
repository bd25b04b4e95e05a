"""access codes: an index on (device, PIN), so checking a new PIN is unique on its lock is one
look-up however many codes the lock holds

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_access_codes_device_code', 'access_codes', ['device_id', 'code'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_access_codes_device_code', table_name='access_codes')
