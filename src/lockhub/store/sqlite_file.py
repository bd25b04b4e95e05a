"""The SQLite database file: its identity while lockhub has it open, and the marker that says a
deployment already had one.

SQLite keeps writing to a file that was deleted under it (the open descriptor still points at the
unlinked inode), so a deleted database loses every later write silently. The writer compares the
path's (st_dev, st_ino) with the ones seen at open before each commit. On start, a missing file
is only created when nothing says this deployment had one: a marker written beside the database
(`<database>.created`) or the secret key file in the same directory.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy.engine import make_url

Identity = tuple[int, int]


class DatabaseMissing(Exception):
    """The database file of an established deployment is gone."""


def sqlite_path(url: str) -> Path | None:
    """The file behind a `sqlite:///PATH` URL (None for PostgreSQL and in-memory databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


def identity(path: Path) -> Identity | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".created")


def prepare(url: str, secret_key_file: str, *, create: bool) -> None:
    """Before migrating: refuse to create a database in place of a deployment's missing one
    unless `create`; set aside a stale WAL that would otherwise be replayed into a new file."""
    path = sqlite_path(url)
    if path is None or path.exists():
        return
    key_file = Path(secret_key_file).absolute()
    evidence = [p for p in (marker_path(path), key_file)
                if p.exists() and p.resolve().parent == path.resolve().parent]
    if evidence and not create:
        raise DatabaseMissing(
            f"database {path} is missing, but {evidence[0]} shows this deployment had one: "
            f"restore it, or pass --create-database to start with a new, empty database")
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for suffix in ("-wal", "-shm", "-journal"):
        stale = path.with_name(path.name + suffix)
        if stale.exists():
            stale.rename(stale.with_name(f"{stale.name}.orphaned-{stamp}"))


def mark(url: str) -> None:
    """After migrating: record that this deployment has a database (written once)."""
    path = sqlite_path(url)
    if path is None or not path.exists():
        return
    marker = marker_path(path)
    if not marker.exists():
        marker.write_text(f"lockhub created or opened {path.name} here on "
                          f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')}; while this file exists, "
                          f"lockhub will not create a new database in place of a missing one.\n")
