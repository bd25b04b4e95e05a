"""row changes: a log of updated and deleted rows, written by triggers, so every process can
drop what it cached of a row when any process changes it

Only SQLite gets the triggers: lockhub's per-process read model runs on SQLite, where a
reader learns that something was committed from `PRAGMA data_version` and then reads this
log. Inserts are not logged (nothing can be cached of a row that did not exist).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# table -> the column that names a row in the log
LOGGED = {
    'devices': 'device_id',
    'access_codes': 'access_code_id',
    'action_attempts': 'action_attempt_id',
    'api_keys': 'api_key_id',
    'workspaces': 'workspace_id',
    'personal_access_tokens': 'token_id',
    'workspace_members': 'user_id',
}


def upgrade() -> None:
    op.create_table(
        'row_changes',
        sa.Column('seq', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('table_name', sa.String(), nullable=False),
        sa.Column('row_key', sa.String(), nullable=False),
        sqlite_autoincrement=True,
    )
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table, key in LOGGED.items():
        for change in ('UPDATE', 'DELETE'):
            op.execute(
                f'CREATE TRIGGER row_changes_{table}_{change.lower()} AFTER {change} ON {table} '
                f"BEGIN INSERT INTO row_changes (table_name, row_key) VALUES ('{table}', "
                f'OLD.{key}); END')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for table in LOGGED:
            for change in ('update', 'delete'):
                op.execute(f'DROP TRIGGER IF EXISTS row_changes_{table}_{change}')
    op.drop_table('row_changes')
