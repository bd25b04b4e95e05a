"""row changes: inserts of devices, access codes and events are logged too, so a process can
drop the list pages it remembered when a row joins them

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# table -> the column that names a row in the log
LOGGED = {
    'devices': 'device_id',
    'access_codes': 'access_code_id',
    'events': 'event_id',
}


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table, key in LOGGED.items():
        op.execute(
            f'CREATE TRIGGER row_changes_{table}_insert AFTER INSERT ON {table} '
            f"BEGIN INSERT INTO row_changes (table_name, row_key) VALUES ('{table}', "
            f'NEW.{key}); END')
    # Events were never updated or deleted except with their workspace; log that too.
    op.execute(
        "CREATE TRIGGER row_changes_events_delete AFTER DELETE ON events "
        "BEGIN INSERT INTO row_changes (table_name, row_key) VALUES ('events', "
        "OLD.event_id); END")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in LOGGED:
        op.execute(f'DROP TRIGGER IF EXISTS row_changes_{table}_insert')
    op.execute('DROP TRIGGER IF EXISTS row_changes_events_delete')
