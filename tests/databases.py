"""Which database the suite runs on: SQLite by default, PostgreSQL when
`LOCKHUB_TEST_DATABASE=postgresql` (the second pass of `make test`).

Tests ask `database_url(tmp_dir, name)` for a new, empty database instead of naming a SQLite
file, and read or change rows behind the server's back with `sql(url, ...)`, so the same test
runs on both. On PostgreSQL every such database lives in one cluster started on first use and
stopped when the test session ends.

A test that is about one database's own behaviour (SQLite's locking or online backup, the
PostgreSQL deployment tests that start their own cluster) is marked `fixed_database` and runs in
the SQLite pass only.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from lockhub.store.db import async_url
from tests.postgres import PostgresServer, start_postgres

BACKENDS = ("sqlite", "postgresql")
BACKEND = os.environ.get("LOCKHUB_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
if BACKEND not in BACKENDS:
    raise RuntimeError(f"LOCKHUB_TEST_DATABASE must be one of {', '.join(BACKENDS)}, "
                       f"not {BACKEND!r}")
ON_POSTGRES = BACKEND == "postgresql"

_cluster: PostgresServer | None = None
_numbers = itertools.count(1)


def cluster() -> PostgresServer:
    """The session's PostgreSQL cluster, started on first use."""
    global _cluster
    if _cluster is None:
        _cluster = start_postgres()
        atexit.register(_cluster.stop)
    return _cluster


def database_url(tmp_dir: Path, name: str) -> str:
    """A new, empty database of the suite's backend (`name` makes it recognisable)."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_dir / (name + '.db')}"
    slug = re.sub(r"[^a-z0-9_]", "_", name.lower())[:40]
    return cluster().new_database(f"{slug}_{os.getpid()}_{next(_numbers)}")


def sql(url: str, statement: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Run one statement (`:name` parameters) on the database at `url`, committed; the rows it
    returned. For tests that look at or change what the server stored."""
    return asyncio.run(_sql(url, statement, params or {}))


async def _sql(url: str, statement: str, params: dict[str, Any]) -> list[Any]:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


def json_text(value: Any) -> str:
    """A JSON column's stored value as text: SQLite hands back the text, PostgreSQL's JSONB the
    decoded value."""
    return value if isinstance(value, str) else json.dumps(value)
