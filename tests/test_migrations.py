"""Existing databases upgrade with their data, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from lockhub.store.db import Database, async_url
from lockhub.store.migrate import alembic_config
from lockhub.store.tables import (
    access_codes,
    connected_accounts,
    devices,
    jobs,
    space_connected_accounts,
    space_devices,
    spaces,
    webhook_deliveries,
    webhooks,
    workspaces,
)
from lockhub.store.types import Json, UtcDateTime
from tests.databases import database_url

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T = TypeVar("T")

# access_codes as revision 0008 left it (only the columns a row needs).
codes_0008 = sa.Table(
    "access_codes", sa.MetaData(),
    sa.Column("access_code_id", sa.String, primary_key=True),
    sa.Column("workspace_id", sa.String), sa.Column("device_id", sa.String),
    sa.Column("is_managed", sa.Boolean), sa.Column("code", sa.String),
    sa.Column("status", sa.String), sa.Column("device_slot", sa.Integer),
    sa.Column("errors", Json), sa.Column("warnings", Json),
    sa.Column("pending_mutations", Json), sa.Column("created_at", UtcDateTime),
)




@pytest.fixture
def url(tmp_path: Path) -> str:
    """Each test starts from an empty database, at the revision it needs."""
    return database_url(tmp_path, "old")


async def _migrate(url: str, revision: str) -> None:
    # Alembic's env runs its own event loop: off this one.
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


async def _at(url: str, revision: str, rows: list[tuple[sa.Table, dict[str, Any]]]) -> None:
    """A database at `revision` holding a workspace "ws" and then `rows`."""
    await _migrate(url, revision)
    db = Database(url)
    try:
        async with db.write() as conn:
            await conn.execute(workspaces.insert().values(
                workspace_id="ws", name="Old", company_name="Old", is_sandbox=True,
                connect_webview_customization={}, created_at=T0))
            for table, values in rows:
                await conn.execute(table.insert().values(**values))
    finally:
        await db.dispose()


async def _upgraded(url: str, read: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Upgrade to the head revision, then what `read` reads."""
    await _migrate(url, "head")
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as conn:
            return await read(conn)
    finally:
        await engine.dispose()


async def test_codes_keep_their_place_on_the_lock_as_a_reference(url: str) -> None:
    await _at(url, "0008", [
        (connected_accounts, dict(
            connected_account_id="ca", workspace_id="ws", account_type="august",
            provider="sandbox", user_identifier={}, credentials={}, custom_metadata={},
            errors=[], warnings=[], created_at=T0)),
        (devices, dict(
            device_id="dev", workspace_id="ws", connected_account_id="ca",
            provider_device_id="p1", device_type="august_lock", manufacturer="august",
            brand="august", model="m", display_name="Front", custom_metadata={},
            state={}, errors=[], warnings=[], created_at=T0)),
        *((codes_0008, dict(
            access_code_id=access_code_id, workspace_id="ws", device_id="dev",
            is_managed=True, code="1234", status="set", device_slot=slot, errors=[],
            warnings=[], pending_mutations=[], created_at=T0))
          for access_code_id, slot in (("on_lock", 7), ("waiting", None)))])

    async def read(conn: AsyncConnection) -> tuple[Any, Any, Any]:
        refs = dict((await conn.execute(sa.select(
            access_codes.c.access_code_id, access_codes.c.device_ref))).all())
        columns = await conn.run_sync(
            lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("access_codes")})
        indexes = await conn.run_sync(
            lambda sync: {i["name"]: i["column_names"]
                          for i in sa.inspect(sync).get_indexes("access_codes")})
        return refs, columns, indexes

    refs, columns, indexes = await _upgraded(url, read)
    assert refs == {"on_lock": "7", "waiting": None}
    assert "device_slot" not in columns
    assert indexes["ix_access_codes_device"] == ["device_id", "device_ref"]
    # The table's other indexes survive the rebuild SQLite needs to drop a column.
    assert {"ix_access_codes_device_created", "ix_access_codes_common_key"} <= set(indexes)


async def test_delivery_jobs_become_one_job_per_webhook_with_pending_deliveries(
    url: str,
) -> None:
    deliveries = (("d1", "busy", "pending"), ("d2", "busy", "pending"),
                  ("d3", "idle", "delivered"))
    await _at(url, "0010", [
        *((webhooks, dict(webhook_id=webhook_id, workspace_id="ws", url="https://example.com/",
                          event_types=["*"], secret_encrypted="x", created_at=T0))
          for webhook_id in ("busy", "idle")),
        *((webhook_deliveries, dict(
            delivery_id=delivery_id, workspace_id="ws", webhook_id=webhook_id,
            event_id=f"e_{delivery_id}", event_type="lock.locked", payload="{}",
            status=status, attempt_count=0, attempts=[], created_at=T0))
          for delivery_id, webhook_id, status in deliveries),
        # Revision 0010's jobs: one per pending delivery.
        *((jobs, dict(job_id=f"webhook_delivery:{delivery_id}", workspace_id="ws",
                      kind="webhook_delivery", key=f"delivery:{delivery_id}",
                      payload={"delivery_id": delivery_id}, run_at=T0, attempts=0,
                      created_at=T0))
          for delivery_id, _, status in deliveries if status == "pending")])

    async def read(conn: AsyncConnection) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in (await conn.execute(
            sa.select(jobs.c.job_id, jobs.c.key, jobs.c.payload)
            .where(jobs.c.kind == "webhook_delivery"))).all()]

    assert await _upgraded(url, read) == [
        ("webhook_delivery:busy", "webhook:busy", {"webhook_id": "busy"})]


async def test_space_memberships_go_with_the_account_and_device_they_name(url: str) -> None:
    """Revision 0016's foreign keys: deleting an account deletes its devices (as before) and
    every space membership naming either; the space stays."""
    await _at(url, "0015", [
        (connected_accounts, dict(
            connected_account_id="ca", workspace_id="ws", account_type="august",
            provider="sandbox", user_identifier={}, credentials={}, custom_metadata={},
            errors=[], warnings=[], created_at=T0)),
        (devices, dict(
            device_id="dev", workspace_id="ws", connected_account_id="ca",
            provider_device_id="p1", device_type="august_lock", manufacturer="august",
            brand="august", model="m", display_name="Front", custom_metadata={},
            state={}, errors=[], warnings=[], created_at=T0))])
    await _migrate(url, "head")
    db = Database(url)
    try:
        async with db.write() as conn:
            await conn.execute(spaces.insert().values(
                space_id="unit", workspace_id="ws", name="Unit 1", customer_data={},
                created_at=T0))
            await conn.execute(space_devices.insert().values(
                space_id="unit", device_id="dev", workspace_id="ws", created_at=T0))
            await conn.execute(space_connected_accounts.insert().values(
                space_id="unit", connected_account_id="ca", workspace_id="ws", created_at=T0))
            await conn.execute(connected_accounts.delete())
        async with db.read() as conn:
            left = [(await conn.execute(sa.select(sa.func.count()).select_from(table)))
                    .scalar_one() for table in (spaces, space_devices, space_connected_accounts)]
    finally:
        await db.dispose()
    assert left == [1, 0, 0]
