"""webhook delivery: one job per webhook instead of one per delivery, and pending deliveries
found by webhook without scanning delivered ones

Revision ID: 0011
Revises: 0010
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import lockhub.store.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

KIND = 'webhook_delivery'
jobs = sa.table(
    'jobs', sa.column('job_id', sa.String()), sa.column('workspace_id', sa.String()),
    sa.column('kind', sa.String()), sa.column('key', sa.String()),
    sa.column('payload', lockhub.store.types.Json),
    sa.column('run_at', lockhub.store.types.UtcDateTime()),
    sa.column('attempts', sa.Integer()), sa.column('generation', sa.Integer()),
    sa.column('created_at', lockhub.store.types.UtcDateTime()))
deliveries = sa.table(
    'webhook_deliveries', sa.column('delivery_id', sa.String()),
    sa.column('workspace_id', sa.String()), sa.column('webhook_id', sa.String()),
    sa.column('status', sa.String()))


def _one_job_each(owner: sa.ColumnClause, key_prefix: str) -> None:
    """Replace the delivery jobs by one per `owner` of a pending delivery, due at once (each
    run re-checks what is due)."""
    bind = op.get_bind()
    bind.execute(jobs.delete().where(jobs.c.kind == KIND))
    now = datetime.now(UTC)
    rows = bind.execute(sa.select(deliveries.c.workspace_id, owner).distinct().where(
        deliveries.c.status == 'pending')).all()
    for workspace_id, owner_id in rows:
        bind.execute(jobs.insert().values(
            job_id=f'{KIND}:{owner_id}', workspace_id=workspace_id, kind=KIND,
            key=f'{key_prefix}:{owner_id}', payload={owner.name: owner_id}, run_at=now,
            attempts=0, generation=0, created_at=now))


def upgrade() -> None:
    op.create_index('ix_webhook_deliveries_pending', 'webhook_deliveries',
                    ['webhook_id', 'created_at'], unique=False,
                    sqlite_where=sa.text("status = 'pending'"),
                    postgresql_where=sa.text("status = 'pending'"))
    _one_job_each(deliveries.c.webhook_id, 'webhook')


def downgrade() -> None:
    _one_job_each(deliveries.c.delivery_id, 'delivery')
    op.drop_index('ix_webhook_deliveries_pending', table_name='webhook_deliveries')
