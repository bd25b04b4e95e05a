"""The database handle: URL mapping to async drivers, and read/write transactions.

SQLite allows one writer at a time. Rather than letting writers collide and retry, lockhub gives
every process a single writer connection that opens transactions with BEGIN IMMEDIATE, and a pool
of reader connections (WAL mode lets them read while the writer writes). On PostgreSQL both
handles share one pool.

On SQLite both run on the event loop's own thread (plain sqlite3 under a sync engine), not on
aiosqlite's worker threads: an indexed statement takes tens of microseconds, while each aiosqlite
call costs a thread hand-off and a loop wake-up (BEGIN, each execute and fetch, COMMIT). Profiles
showed those hand-offs as the largest cost of reads, and the single writer connection, held
through every hand-off, capped the engine at ~50 access codes/s. A WAL read never waits for a
lock. The writer is taken in turn through an asyncio lock, so waiting for it never blocks the
loop, and BEGIN IMMEDIATE does not wait inside SQLite (busy_timeout 0): if another process holds
the write lock, it is retried after an asyncio sleep, for up to WRITE_WAIT_SECONDS.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

# JSON columns are encoded and decoded by msgspec (several times faster than the json module
# on the rows lists return).
_JSON_CODEC: dict[str, Any] = {
    "json_serializer": lambda value: msgspec.json.encode(value).decode(),
    "json_deserializer": msgspec.json.decode,
}

# How long a writer waits for the database (another process's write, or this process's queue).
WRITE_WAIT_SECONDS = 120.0


def async_url(url: str) -> str:
    """Map `sqlite:///path` and `postgresql://...` to their async drivers."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")


def ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from the driver so BEGIN is ours to issue.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # The writer retries BEGIN IMMEDIATE itself (Database._begin), never blocking the loop.
        cursor.execute(f"PRAGMA busy_timeout={0 if immediate else 30000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class InlineConnection:
    """A sync SQLite connection behind AsyncConnection's `execute`: the call completes before
    the first await returns, with no thread hand-off."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._conn.execute(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Any:
        return self._conn.exec_driver_sql(statement, parameters)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        ensure_sqlite_dir(url)
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self._async: AsyncEngine | None = None
        self._inline_writer: Engine | None = None
        self._inline_reader: Engine | None = None
        if self.is_sqlite:
            sync_target = str(make_url(url).set(drivername="sqlite+pysqlite"))
            self._write_turn = asyncio.Lock()
            self._inline_writer = create_engine(sync_target, pool_size=1, max_overflow=0,
                                                connect_args={"check_same_thread": False},
                                                hide_parameters=True, **_JSON_CODEC)
            # No overflow limit: a read block may await other work while it holds its
            # connection, and a checkout that waited would block the loop itself.
            self._inline_reader = create_engine(
                sync_target, pool_size=int(os.environ.get("LOCKHUB_SQLITE_READERS", "4")),
                max_overflow=-1, connect_args={"check_same_thread": False},
                hide_parameters=True, **_JSON_CODEC)
            _configure_sqlite(self._inline_writer, immediate=True)
            _configure_sqlite(self._inline_reader, immediate=False)
        else:
            self._async = create_async_engine(async_url(url), pool_size=10, max_overflow=10,
                                              hide_parameters=True)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One all-or-nothing write transaction."""
        if self._inline_writer is None:
            assert self._async is not None
            async with self._async.begin() as conn:
                yield conn
            return
        deadline = time.monotonic() + WRITE_WAIT_SECONDS
        async with asyncio.timeout(WRITE_WAIT_SECONDS):
            await self._write_turn.acquire()
        try:
            with self._inline_writer.connect() as sync_conn:
                await _begin(sync_conn, deadline)
                try:
                    yield InlineConnection(sync_conn)  # type: ignore[misc]
                except BaseException:
                    sync_conn.rollback()
                    raise
                sync_conn.commit()
        finally:
            self._write_turn.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        if self._inline_reader is None:
            assert self._async is not None
            async with self._async.begin() as conn:
                yield conn
            return
        with self._inline_reader.begin() as sync_conn:
            yield InlineConnection(sync_conn)  # type: ignore[misc]

    async def dispose(self) -> None:
        if self._async is not None:
            await self._async.dispose()
        for engine in (self._inline_writer, self._inline_reader):
            if engine is not None:
                engine.dispose()


async def _begin(conn: Connection, deadline: float) -> None:
    """BEGIN IMMEDIATE, waiting (without blocking the loop) while another process writes."""
    delay = 0.001
    while True:
        try:
            conn.begin()
            return
        except OperationalError as exc:
            if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
