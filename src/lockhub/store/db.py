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
the write lock, it is retried after an asyncio sleep, for up to the busy timeout.

Group commit: a COMMIT costs more than most transactions' statements, so writers that take their
turn while a transaction is open share it. Each writer's changes sit in a savepoint (a writer
that fails takes back only its own), the transaction is committed once the turn is free (or when
it carries _MAX_GROUP writers), and every writer in it returns only after that COMMIT: nothing
is acknowledged before it is committed, and a failed COMMIT fails every writer in the group.

A database that cannot take a request (busy past the busy timeout, read-only, full, unreachable,
or its file deleted) raises ServiceUnavailable, which the API answers with a 503 and Retry-After.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from lockhub.errors import ServiceUnavailable
from lockhub.store import sqlite_file
from lockhub.store.read_model import ReadModel

# JSON columns are encoded and decoded by msgspec (several times faster than the json module
# on the rows lists return).
_JSON_CODEC: dict[str, Any] = {
    "json_serializer": lambda value: msgspec.json.encode(value).decode(),
    "json_deserializer": msgspec.json.decode,
}


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


# What a COMMIT waits for (LOCKHUB_SQLITE_SYNCHRONOUS). In WAL mode, NORMAL (the default) syncs
# the log only at checkpoints: a committed write survives the process being killed, and a power
# cut or OS crash may roll back the last commits. FULL syncs the log on every COMMIT, so an
# acknowledged write survives those too, at the cost of one fsync per (group) commit.
SYNCHRONOUS_LEVELS = ("NORMAL", "FULL", "EXTRA")


def sqlite_synchronous() -> str:
    level = os.environ.get("LOCKHUB_SQLITE_SYNCHRONOUS", "NORMAL").strip().upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise ValueError(f"LOCKHUB_SQLITE_SYNCHRONOUS must be one of "
                         f"{', '.join(SYNCHRONOUS_LEVELS)}, not {level!r}")
    return level


def _configure_sqlite(engine: Engine, immediate: bool, busy_timeout: float) -> None:
    synchronous = sqlite_synchronous()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from the driver so BEGIN is ours to issue.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # The writer retries BEGIN IMMEDIATE itself (Database._begin), never blocking the loop.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
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


# Writers whose changes one COMMIT may carry at most (group commit, see Database.write).
_MAX_GROUP = 32


class _Group:
    """One SQLite write transaction shared by the writers that took their turn while it was
    open; each writer's changes sit in their own savepoint."""

    def __init__(self, conn: Connection, done: asyncio.Future[None]) -> None:
        self.conn = conn
        self.done = done
        self.members = 0
        self.failed: BaseException | None = None


class Database:
    def __init__(self, url: str, *, busy_timeout_seconds: float = 5.0) -> None:
        self.url = url
        self.busy_timeout = busy_timeout_seconds
        ensure_sqlite_dir(url)
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self._async: AsyncEngine | None = None
        self._async_reader: AsyncEngine | None = None
        self._inline_writer: Engine | None = None
        self._inline_reader: Engine | None = None
        self._path = sqlite_file.sqlite_path(url)
        self._identity: sqlite_file.Identity | None = None
        # The last write refused as unavailable (monotonic time, reason), until a write commits.
        self._write_failure: tuple[float, str] | None = None
        self._wrote = False
        # The served JSON of hot rows (see read_model.py); SQLite files only.
        self.read_model = ReadModel(
            self._path, int(os.environ.get("LOCKHUB_READ_MODEL_ENTRIES", "10000")))
        if self.is_sqlite:
            target = make_url(url).set(drivername="sqlite+pysqlite")
            if self._path is not None:
                # mode=rw: a connection never creates the file (after a deletion, an empty new
                # database would take the old one's place).
                target = target.set(database="file:" + quote(str(self._path)),
                                    query={"mode": "rw", "uri": "true"})
            sync_target = target.render_as_string(hide_password=False)
            self._write_turn = asyncio.Lock()
            self._group: _Group | None = None
            self._inline_writer = create_engine(sync_target, pool_size=1, max_overflow=0,
                                                connect_args={"check_same_thread": False},
                                                hide_parameters=True, **_JSON_CODEC)
            # No overflow limit: a read block may await other work while it holds its
            # connection, and a checkout that waited would block the loop itself.
            self._inline_reader = create_engine(
                sync_target, pool_size=int(os.environ.get("LOCKHUB_SQLITE_READERS", "4")),
                max_overflow=-1, connect_args={"check_same_thread": False},
                hide_parameters=True, **_JSON_CODEC)
            _configure_sqlite(self._inline_writer, immediate=True, busy_timeout=0)
            # Readers run on the loop's thread: a WAL read rarely waits, and never for long.
            _configure_sqlite(self._inline_reader, immediate=False,
                              busy_timeout=min(self.busy_timeout, 1.0))
            event.listen(self._inline_writer, "connect", self._record_identity)
        else:
            timeout = max(self.busy_timeout, 0.1)
            self._async = create_async_engine(
                async_url(url), pool_size=10, max_overflow=10, pool_timeout=timeout,
                connect_args={"timeout": timeout, "server_settings": {
                    "lock_timeout": str(int(timeout * 1000))}},
                hide_parameters=True)
            # Reads without BEGIN and COMMIT (two of a read's three round trips): under READ
            # COMMITTED, PostgreSQL's default, each statement takes its own snapshot whether or
            # not a transaction is open, so an explicit one would make no read more consistent.
            self._async_reader = self._async.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def driver_connection(self) -> AsyncIterator[Any]:
        """A pooled connection's driver object (asyncpg), held outside any transaction: for
        LISTEN (engine/wakeups.py). PostgreSQL only."""
        if self._async is None:
            raise RuntimeError("driver connections are for PostgreSQL databases")
        async with self._async.connect() as conn:
            yield (await conn.get_raw_connection()).driver_connection

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One all-or-nothing write transaction; ServiceUnavailable if the database cannot take
        it within the busy timeout."""
        in_body = False
        try:
            async with self._write_transaction() as conn:
                in_body = True
                yield conn
                in_body = False
        except Exception as exc:
            unavailable = _unavailable(exc, connecting=not in_body)
            if unavailable is None:
                raise
            self._write_failure = (time.monotonic(), unavailable.message)
            if unavailable is exc:
                raise
            raise unavailable from exc
        if self._wrote:
            self._write_failure = None
        self.read_model.written()

    @asynccontextmanager
    async def _write_transaction(self) -> AsyncIterator[AsyncConnection]:
        self._wrote = True
        if self._inline_writer is None:
            assert self._async is not None
            async with self._async.begin() as conn:
                yield conn
            return
        deadline = time.monotonic() + self.busy_timeout
        try:
            async with asyncio.timeout(self.busy_timeout):
                await self._write_turn.acquire()
        except TimeoutError:
            raise ServiceUnavailable(_BUSY) from None
        group: _Group | None = None
        try:
            group = self._group
            if group is None:
                group = await self._open_group(deadline)
            group.members += 1
            conn = group.conn
            dbapi = conn.connection.dbapi_connection
            changes = dbapi.total_changes  # type: ignore[union-attr]
            conn.exec_driver_sql("SAVEPOINT lockhub_write")
            try:
                yield InlineConnection(conn)  # type: ignore[misc]
            except BaseException:
                self._undo_member(group)
                raise
            conn.exec_driver_sql("RELEASE lockhub_write")
            # A transaction that changed nothing writes nothing: it proves no recovery.
            wrote = dbapi.total_changes != changes  # type: ignore[union-attr]
        finally:
            full = group is not None and group.members >= _MAX_GROUP
            if full:
                self._commit_group()
            self._write_turn.release()
            if group is not None and not full:
                # After the release: a writer it woke runs first and joins the group.
                asyncio.get_running_loop().call_soon(self._flush_group)
        await asyncio.shield(group.done)  # acknowledged only once committed
        self._wrote = wrote

    async def _open_group(self, deadline: float) -> _Group:
        conn = self._inline_writer.connect()  # type: ignore[union-attr]
        try:
            await _begin(conn, deadline)
        except BaseException:
            conn.close()
            raise
        self._group = _Group(conn, asyncio.get_running_loop().create_future())
        return self._group

    def _undo_member(self, group: _Group) -> None:
        """Take back one writer's changes; if SQLite already rolled back the whole transaction
        (disk full, I/O error), the whole group fails."""
        try:
            group.conn.exec_driver_sql("ROLLBACK TO lockhub_write")
            group.conn.exec_driver_sql("RELEASE lockhub_write")
        except Exception as exc:
            group.failed = exc

    def _flush_group(self) -> None:
        """Commit the open group unless a writer is in it now (that writer commits it or
        schedules this again when it is done)."""
        if self._group is not None and not self._write_turn.locked():
            self._commit_group()

    def _commit_group(self) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        try:
            if group.failed is not None:
                raise group.failed
            self._check_file()
            group.conn.commit()
        except BaseException as exc:
            try:
                group.conn.rollback()
            except Exception:
                pass
            group.done.set_exception(exc)
            group.done.exception()  # marked retrieved: each waiting writer re-raises it
        else:
            group.done.set_result(None)
        finally:
            group.conn.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        in_body = False
        try:
            if self._inline_reader is None:
                assert self._async_reader is not None
                async with self._async_reader.connect() as conn:
                    in_body = True
                    yield conn
                    return
            with self._inline_reader.begin() as sync_conn:
                in_body = True
                yield InlineConnection(sync_conn)  # type: ignore[misc]
        except Exception as exc:
            unavailable = _unavailable(exc, connecting=not in_body)
            if unavailable is None or unavailable is exc:
                raise
            raise unavailable from exc

    async def check(self) -> None:
        """Raise ServiceUnavailable unless the database answers and takes writes (for /health):
        its file is the one opened, a read succeeds, and the last write was not refused."""
        self._check_file()
        failure = self._write_failure
        if failure is not None and time.monotonic() - failure[0] < _FAILURE_MEMORY_SECONDS:
            raise ServiceUnavailable(failure[1])
        async with self.read() as conn:
            await conn.exec_driver_sql("SELECT 1")

    def _record_identity(self, _dbapi_conn: Any, _record: Any) -> None:
        if self._path is not None and self._identity is None:
            self._identity = sqlite_file.identity(self._path)

    def _check_file(self) -> None:
        """The database file must still be the one opened: SQLite would go on writing to a
        deleted (or replaced) file, and every write would be lost."""
        if self._identity is None:
            return
        if sqlite_file.identity(self._path) != self._identity:  # type: ignore[arg-type]
            raise ServiceUnavailable(
                f"The database file {self._path} was deleted or replaced while lockhub was "
                f"running; writes are refused. Restore it and restart lockhub.", retry_after=30)

    async def dispose(self) -> None:
        self.read_model.close()
        if self._async is not None:
            await self._async.dispose()
        for engine in (self._inline_writer, self._inline_reader):
            if engine is not None:
                engine.dispose()


_BUSY = "The database is busy (another process holds its write lock); try again shortly."
# How long a refused write keeps /health unhealthy when no write has succeeded since.
_FAILURE_MEMORY_SECONDS = 30.0
# SQLite primary result codes that mean the database cannot take the request now.
_SQLITE_UNAVAILABLE = {
    5: _BUSY,  # SQLITE_BUSY
    6: _BUSY,  # SQLITE_LOCKED
    8: "The database is read-only.",  # SQLITE_READONLY
    10: "The database could not be read or written (disk I/O error).",  # SQLITE_IOERR
    13: "The database's disk is full.",  # SQLITE_FULL
    14: "The database file cannot be opened.",  # SQLITE_CANTOPEN
}
# PostgreSQL SQLSTATE prefixes: connection exceptions, insufficient resources (disk full, too
# many connections), operator intervention (shutdown, cannot connect now), lock timeout.
_POSTGRES_UNAVAILABLE = ("08", "53", "57P", "55P03")


def _unavailable(exc: BaseException, *, connecting: bool) -> ServiceUnavailable | None:
    """The ServiceUnavailable an exception from the database stands for, or None. OSErrors
    count only while connecting or committing: inside a transaction they are the caller's."""
    if isinstance(exc, ServiceUnavailable):
        return exc
    if isinstance(exc, SQLAlchemyTimeoutError):
        return ServiceUnavailable("The database has no free connection; try again shortly.")
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        message = _SQLITE_UNAVAILABLE.get(getattr(orig, "sqlite_errorcode", 0) & 0xFF)
        if message is None:
            return None
        return ServiceUnavailable(message, retry_after=1 if message == _BUSY else 5)
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_POSTGRES_UNAVAILABLE):
        return ServiceUnavailable(f"The database is unavailable ({sqlstate}); try again shortly.",
                                  retry_after=5)
    if connecting and isinstance(exc, OSError):
        return ServiceUnavailable(f"The database cannot be reached ({exc.strerror or exc}); "
                                  f"try again shortly.", retry_after=5)
    return None


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
