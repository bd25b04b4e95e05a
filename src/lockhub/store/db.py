"""The database handle: URL mapping to async drivers, and read/write transactions.

SQLite allows one writer at a time. Rather than letting writers collide and retry, lockhub gives
every process a single writer connection that opens transactions with BEGIN IMMEDIATE, and a pool
of reader connections (WAL mode lets them read while the writer writes). On PostgreSQL both
handles share one pool.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def async_url(url: str) -> str:
    """Map `sqlite:///path` and `postgresql://...` to their async drivers."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")


def sync_url(url: str) -> str:
    """The URL Alembic runs migrations with (it drives the async engine itself)."""
    return async_url(url)


def ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from the driver so BEGIN is ours to issue.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        ensure_sqlite_dir(url)
        target = async_url(url)
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self._writer = create_async_engine(target, pool_size=1, max_overflow=0, pool_timeout=120)
            self._reader = create_async_engine(target, pool_size=int(os.environ.get(
                "LOCKHUB_SQLITE_READERS", "4")), max_overflow=0, pool_timeout=120)
            _configure_sqlite(self._writer, immediate=True)
            _configure_sqlite(self._reader, immediate=False)
        else:
            self._writer = create_async_engine(target, pool_size=10, max_overflow=10)
            self._reader = self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One all-or-nothing write transaction."""
        async with self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()
