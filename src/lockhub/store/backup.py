"""Backups of a SQLite database while lockhub runs (`lockhub backup`).

SQLite's online backup API copies the database page by page under its own locks, so the copy is
a consistent snapshot even while the server and workers write (a plain file copy of a WAL
database can miss committed pages still in the `-wal` file). The copy is written to a temporary
file beside the target and renamed into place, so a failed or interrupted backup never leaves a
half-written file where a good one was. PostgreSQL databases are backed up with `pg_dump`
(docs/deploy.md).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

PAGES_PER_STEP = 1024  # lets writers in between steps on a large database


class BackupError(Exception):
    """A backup that cannot be made, with one line saying why."""


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        raise BackupError("lockhub backup copies SQLite databases; back PostgreSQL up with "
                          "pg_dump (docs/deploy.md)")
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    path = Path(url.database)
    if not path.exists():
        raise BackupError(f"no lockhub database at {path}")
    return path


def backup_sqlite(database_url: str, target: Path) -> int:
    """Copy the database to `target` (replacing it); returns the copy's size in bytes."""
    source_path = sqlite_path(database_url)
    target = target.resolve()
    if target == source_path.resolve():
        raise BackupError("the backup must not overwrite the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=PAGES_PER_STEP)
            # The copy is a plain rollback-journal file: one file to store and restore.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup failed: {exc}") from exc
    finally:
        source.close()
    os.replace(partial, target)
    return target.stat().st_size
