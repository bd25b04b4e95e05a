"""The per-process read model: the served JSON of hot rows, kept correct across processes.

Clients poll `devices/get` and `action_attempts/get` by design, and building a row's JSON costs
more than reading it. Each process keeps the encoded JSON of the rows it served (devices, access
codes, action attempts) and the principals of the credentials it checked, and drops an entry as
soon as any process changes its row:

- SQLite triggers (migration 0010) log every UPDATE and DELETE of those tables into
  `row_changes`, in the very transaction that makes the change;
- before each use the model asks a dedicated connection for `PRAGMA data_version`, which
  changes whenever another connection (this process's writer, or any other process) committed;
  only then does it read the log past the last position it processed and drop those entries.

So a hot read is one PRAGMA and a dictionary hit, and a read that follows a committed write, in
any process, never sees the old JSON.

List pages (devices, access codes, events) are kept the same way, whole, and dropped when any
row of their table is inserted, updated or deleted (updates and deletes from the log; inserts
from `table_versions`, a counter per table that triggers bump, migration 0013): which rows a
filter matches can change with any of them. A page's JSON is that of its
rows, which depends on nothing but those rows, so it is exactly as current as the row entries. An entry is only stored if no change was processed since
the reader synced (`put` takes the `sync` token): a row read before a concurrent change cannot
be cached after that change was processed. Log rows are pruned by the engine
(`prune_row_changes`); a process that fell behind the pruned part drops everything.

PostgreSQL has no such trigger yet: there the model is disabled and every read goes to the
database.
"""

from __future__ import annotations

import sqlite3
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.store.tables import row_changes

# Tables whose changes invalidate the credentials cache.
CREDENTIAL_TABLES = frozenset({"api_keys", "workspaces", "personal_access_tokens",
                               "workspace_members", "client_sessions"})
DEFAULT_ENTRIES = 10_000  # per table: the encoded JSON of a device is about 1.5 KB
PAGE_BYTES = 8 * 1024 * 1024  # per table, for whole list pages (4,000 codes are about 2 MB)
KEEP_LOG_ROWS = 50_000


class BoundedCache(dict[Any, Any]):
    """A dict that forgets its oldest entries past `limit` (insertion order)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key: Any, value: Any) -> None:
        self.pop(key, None)
        self[key] = value
        while len(self) > self.limit:
            del self[next(iter(self))]


class PageCache:
    """Whole list pages of one table, bounded by their size in bytes (oldest forgotten first)."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._pages: dict[Any, tuple[Any, int]] = {}
        self._size = 0

    def get(self, key: Any) -> Any:
        entry = self._pages.get(key)
        return entry[0] if entry is not None else None

    def remember(self, key: Any, value: Any, size: int) -> None:
        if size > self.limit_bytes:
            return
        old = self._pages.pop(key, None)
        if old is not None:
            self._size -= old[1]
        self._pages[key] = (value, size)
        self._size += size
        while self._size > self.limit_bytes:
            oldest = next(iter(self._pages))
            self._size -= self._pages.pop(oldest)[1]

    def clear(self) -> None:
        self._pages.clear()
        self._size = 0


# The token of the sync a request made when it started (see ReadModel.request_token).
_REQUEST_TOKEN: ContextVar[int | None] = ContextVar("read_model_request_token", default=None)


class ReadModel:
    def __init__(self, path: Path | None, entries: int = DEFAULT_ENTRIES) -> None:
        self._entries = entries
        self._watch: sqlite3.Connection | None = None
        self._path = path
        self._version: int | None = None
        self._seq = 0  # the last row_changes entry processed
        # Moves whenever something is dropped: the token `put` compares (see sync).
        self._generation = 0
        self._tables: dict[str, BoundedCache] = {}
        self._pages: dict[str, PageCache] = {}
        self._table_versions: dict[str, int] = {}
        self.principals = BoundedCache(entries)
        self.enabled = path is not None and entries > 0

    def _connect(self) -> sqlite3.Connection:
        if self._watch is None:
            uri = f"file:{self._path}?mode=ro"
            self._watch = sqlite3.connect(uri, uri=True, isolation_level=None,
                                          check_same_thread=False)
        return self._watch

    def sync(self) -> int | None:
        """Drop whatever another connection changed since the last call; returns the token
        `put` needs (None when the model is disabled or cannot read its log)."""
        if not self.enabled:
            return None
        try:
            watch = self._connect()
            version = watch.execute("PRAGMA data_version").fetchone()[0]
            if version == self._version:
                return self._generation
            self._apply(watch)
            self._version = version
        except sqlite3.Error:
            self.clear()
            self._close()
            return None
        return self._generation

    def start_request(self) -> None:
        """Sync once for a request (each request runs in its own task and context): a change
        committed before the request arrived is processed here, which is all a request needs to
        read its writes; later reads in the request reuse this token."""
        _REQUEST_TOKEN.set(self.sync())

    def written(self) -> None:
        """This task committed a write: its next read syncs again (and so sees the write)."""
        _REQUEST_TOKEN.set(None)

    def request_token(self) -> int | None:
        """The request's token, or a fresh sync outside a request."""
        token = _REQUEST_TOKEN.get()
        return token if token is not None else self.sync()

    def _apply(self, watch: sqlite3.Connection) -> None:
        versions = dict(watch.execute("SELECT table_name, version FROM table_versions"))
        if self._version is None:  # first use: nothing cached yet, start at the log's end
            self._seq = watch.execute("SELECT coalesce(max(seq), 0) FROM row_changes"
                                      ).fetchone()[0]
            self._table_versions = versions
            return
        for table, version in versions.items():
            if self._table_versions.get(table) != version:
                pages = self._pages.get(table)
                if pages is not None:
                    pages.clear()
        if versions != self._table_versions:
            self._table_versions = versions
            self._generation += 1
        rows = watch.execute("SELECT seq, table_name, row_key FROM row_changes WHERE seq > ? "
                             "ORDER BY seq", (self._seq,)).fetchall()
        if rows and rows[0][0] != self._seq + 1:
            # Log rows this process never saw were pruned: anything may have changed.
            self.clear()
        credentials_changed = False
        for _seq, table, key in rows:
            cached = self._tables.get(table)
            if cached is not None:
                cached.pop(key, None)
            pages = self._pages.get(table)
            if pages is not None:
                pages.clear()
            credentials_changed = credentials_changed or table in CREDENTIAL_TABLES
        if credentials_changed:
            self.principals.clear()
        if rows:
            self._seq = rows[-1][0]
            self._generation += 1

    def get(self, table: str, key: str) -> Any:
        cached = self._tables.get(table)
        return cached.get(key) if cached is not None else None

    def put(self, table: str, key: str, value: Any, token: int | None) -> None:
        """Remember `value` for the row if no change was processed since `sync` gave `token`."""
        if token is None or token != self._generation:
            return
        cached = self._tables.get(table)
        if cached is None:
            cached = self._tables[table] = BoundedCache(self._entries)
        cached.remember(key, value)

    def get_page(self, table: str, key: Any) -> Any:
        pages = self._pages.get(table)
        return pages.get(key) if pages is not None else None

    def put_page(self, table: str, key: Any, value: Any, size: int, token: int | None) -> None:
        """Remember a page of `table` (`size` bytes) if no change was processed since `sync`
        gave `token`; `key` must name the workspace and every parameter of the page."""
        if token is None or token != self._generation:
            return
        pages = self._pages.get(table)
        if pages is None:
            pages = self._pages[table] = PageCache(PAGE_BYTES)
        pages.remember(key, value, size)

    def remember_principal(self, key: Any, value: Any, token: int | None) -> None:
        if token is not None and token == self._generation:
            self.principals.remember(key, value)

    def clear(self) -> None:
        for cached in self._tables.values():
            cached.clear()
        for pages in self._pages.values():
            pages.clear()
        self.principals.clear()
        self._generation += 1

    def _close(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._watch = None
        self._version = None

    def close(self) -> None:
        self.clear()
        self._close()


async def prune_row_changes(conn: AsyncConnection, keep: int = KEEP_LOG_ROWS) -> int:
    """Forget all but the newest `keep` log rows; returns how many were deleted."""
    newest = (await conn.execute(select(func.max(row_changes.c.seq)))).scalar()
    if newest is None or newest <= keep:
        return 0
    result = await conn.execute(delete(row_changes).where(row_changes.c.seq <= newest - keep))
    return result.rowcount or 0
