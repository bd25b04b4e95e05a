"""Bulk rows straight into lockhub's tables (SQLAlchemy Core executemany, one transaction per
batch), for workspaces far larger than the API could fill in a benchmark's time. Through
lockhub's own async drivers (`store.db.async_url`: aiosqlite, asyncpg), so a SQLite file and a
PostgreSQL database are filled the same way (no sync PostgreSQL driver is installed).

Rows copy the shapes the services write (services/access_codes.insert_code,
services/connected_accounts for devices): codes are managed, ongoing and `set` with no engine
job, as if long since programmed; devices are clones of a seeded lock, each with its own
virtual lock row so the sandbox provider can operate them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import create_async_engine

from lockhub.store import tables as t
from lockhub.store.db import async_url

BATCH = 20_000
WORKSPACE = "seed_workspace_1"


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(url: str, table: Any, rows: Iterator[dict[str, Any]]) -> None:
    async def insert() -> None:
        engine = create_async_engine(async_url(url))
        try:
            for batch in _batches(rows):
                async with engine.begin() as conn:
                    await conn.execute(table.insert(), batch)
        finally:
            await engine.dispose()

    asyncio.run(insert())


def _one(url: str, statement: Select[Any]) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        engine = create_async_engine(async_url(url))
        try:
            async with engine.connect() as conn:
                return (await conn.execute(statement)).one()._asdict()
        finally:
            await engine.dispose()

    return asyncio.run(read())


def add_codes(url: str, device_ids: list[str], per_device: int, *, prefix: str = "bench",
              ids: list[str] | None = None) -> None:
    """`per_device` codes on each device; created_at steps by 1 ms so pages have a stable order.
    `ids`, if given, are the codes' ids in order (callers that need them pick them)."""
    start = datetime.now(UTC) - timedelta(days=30)
    given = iter(ids or [])

    def rows() -> Iterator[dict[str, Any]]:
        n = 0
        for device_id in device_ids:
            for i in range(per_device):
                n += 1
                yield dict(
                    access_code_id=next(given, None) or str(uuid.uuid4()), workspace_id=WORKSPACE,
                    device_id=device_id, is_managed=True, name=f"{prefix} code {i}",
                    code=f"{i % 900_000 + 100_000}", status="set", deleting=False,
                    is_external_modification_allowed=False, is_one_time_use=False,
                    is_offline_access_code=False, is_backup=False, use_backup_pool=False,
                    prefer_native_scheduling=True, is_scheduled_on_device=False, errors=[],
                    warnings=[], pending_mutations=[], failures=0,
                    created_at=start + timedelta(milliseconds=n))

    _insert(url, t.access_codes, rows())


def add_devices(url: str, count: int, template: str = "august_device_1") -> list[str]:
    """`count` clones of a seeded lock (device row + its virtual lock); returns their ids."""
    device = _one(url, select(t.devices).where(t.devices.c.device_id == template))
    lock = _one(url, select(t.sandbox_devices).where(
        t.sandbox_devices.c.sandbox_device_id == device["provider_device_id"]))
    start = datetime.now(UTC) - timedelta(days=60)
    ids = [str(uuid.uuid4()) for _ in range(count)]

    def locks() -> Iterator[dict[str, Any]]:
        for n, device_id in enumerate(ids):
            yield {**lock, "sandbox_device_id": device_id, "name": f"Bench lock {n}",
                   "serial_number": f"BENCH{n:08d}", "created_at": start}

    def views() -> Iterator[dict[str, Any]]:
        for n, device_id in enumerate(ids):
            yield {**device, "device_id": device_id, "provider_device_id": device_id,
                   "nickname": f"Bench lock {n}", "display_name": f"Bench lock {n}",
                   "created_at": start + timedelta(milliseconds=n)}

    _insert(url, t.sandbox_devices, locks())
    _insert(url, t.devices, views())
    return ids
