"""table versions: a counter per table that inserts bump (devices, access codes, events), so a
process can drop the list pages it remembered when a row joins them

Updates and deletes are logged row by row in row_changes (0010); an insert only needs to say
that the table changed, which one in-place counter update says for about a quarter of the cost
of a log row. Only SQLite gets the triggers (the read model runs on SQLite).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COUNTED = ('devices', 'access_codes', 'events')


def upgrade() -> None:
    op.create_table(
        'table_versions',
        sa.Column('table_name', sa.String(), primary_key=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.bulk_insert(sa.table('table_versions', sa.column('table_name', sa.String()),
                            sa.column('version', sa.Integer())),
                   [{'table_name': table, 'version': 0} for table in COUNTED])
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in COUNTED:
        op.execute(
            f'CREATE TRIGGER table_versions_{table}_insert AFTER INSERT ON {table} '
            f"BEGIN UPDATE table_versions SET version = version + 1 "
            f"WHERE table_name = '{table}'; END")
    # Events are never updated; deleted only with their workspace, which counts too.
    op.execute(
        "CREATE TRIGGER table_versions_events_delete AFTER DELETE ON events "
        "BEGIN UPDATE table_versions SET version = version + 1 "
        "WHERE table_name = 'events'; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for table in COUNTED:
            op.execute(f'DROP TRIGGER IF EXISTS table_versions_{table}_insert')
        op.execute('DROP TRIGGER IF EXISTS table_versions_events_delete')
    op.drop_table('table_versions')
