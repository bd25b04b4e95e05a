"""access codes: the provider's reference to the stored PIN (a string) instead of a slot number

Slot-based locks keep their slot number as text ("7"); cloud locks will store their own ids.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_ref', sa.String(), nullable=True))
    op.execute('UPDATE access_codes SET device_ref = CAST(device_slot AS TEXT) '
               'WHERE device_slot IS NOT NULL')
    op.drop_index('ix_access_codes_device', table_name='access_codes')
    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.drop_column('device_slot')
    op.create_index('ix_access_codes_device', 'access_codes', ['device_id', 'device_ref'],
                    unique=False)


def downgrade() -> None:
    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_slot', sa.Integer(), nullable=True))
    # Only slot numbers fit the old column; other references are dropped.
    codes = sa.table('access_codes', sa.column('access_code_id', sa.String()),
                     sa.column('device_ref', sa.String()),
                     sa.column('device_slot', sa.Integer()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(codes.c.access_code_id, codes.c.device_ref).where(
        codes.c.device_ref.is_not(None))).all()
    for access_code_id, ref in rows:
        if ref.isascii() and ref.isdigit():
            bind.execute(codes.update().where(codes.c.access_code_id == access_code_id)
                         .values(device_slot=int(ref)))
    op.drop_index('ix_access_codes_device', table_name='access_codes')
    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.drop_column('device_ref')
    op.create_index('ix_access_codes_device', 'access_codes', ['device_id', 'device_slot'],
                    unique=False)
