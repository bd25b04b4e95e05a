"""Concurrent writers share one COMMIT on SQLite; each is acknowledged only once it is
committed, and a writer that fails takes back only its own changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select

from lockhub.errors import ServiceUnavailable
from lockhub.store.db import Database
from lockhub.store.migrate import upgrade
from lockhub.store.tables import users

pytestmark = pytest.mark.fixed_database  # SQLite's group commit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'group.db'}"
    upgrade(url)
    database = Database(url)
    yield database
    await database.dispose()


async def _add(db: Database, user_id: str, *, fail: bool = False) -> None:
    async with db.write() as conn:
        await conn.execute(users.insert().values(user_id=user_id, email=f"{user_id}@example.com",
                                                 created_at=T0))
        if fail:
            raise RuntimeError("this writer fails after writing")


async def _stored(db: Database) -> set[str]:
    async with db.read() as conn:
        return set((await conn.execute(select(users.c.user_id))).scalars())


async def test_concurrent_writers_share_commits_and_a_failure_is_its_own(db: Database) -> None:
    commits = 0

    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(db._inline_writer, "commit", count)
    results = await asyncio.gather(*(_add(db, f"u{i}", fail=i == 7) for i in range(20)),
                                   return_exceptions=True)
    failed = [r for r in results if isinstance(r, Exception)]
    assert [str(f) for f in failed] == ["this writer fails after writing"]
    assert await _stored(db) == {f"u{i}" for i in range(20) if i != 7}
    assert 1 <= commits < 19  # several writers per COMMIT


async def test_every_writer_of_a_failed_commit_fails(db: Database, tmp_path: Path) -> None:
    await _add(db, "before")
    db_file = tmp_path / "group.db"

    async def add_then_lose_the_file(user_id: str) -> None:
        async with db.write() as conn:
            await conn.execute(users.insert().values(user_id=user_id, email="x@example.com",
                                                     created_at=T0))
            if user_id == "w0":  # the file is replaced before the shared COMMIT
                db_file.rename(tmp_path / "moved.db")
                (tmp_path / "moved.db").rename(tmp_path / "moved-again.db")
                db_file.write_bytes(b"")

    results = await asyncio.gather(*(add_then_lose_the_file(f"w{i}") for i in range(5)),
                                   return_exceptions=True)
    assert all(isinstance(r, ServiceUnavailable) for r in results), results


@pytest.mark.parametrize(("setting", "pragma"), [(None, 1), ("full", 2)])
async def test_commits_wait_for_the_disk_as_lockhub_sqlite_synchronous_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str | None,
        pragma: int) -> None:
    # NORMAL (1) by default: a kill loses nothing acknowledged; FULL (2) syncs every COMMIT.
    if setting is None:
        monkeypatch.delenv("LOCKHUB_SQLITE_SYNCHRONOUS", raising=False)
    else:
        monkeypatch.setenv("LOCKHUB_SQLITE_SYNCHRONOUS", setting)
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    upgrade(url)
    database = Database(url)
    try:
        async with database.write() as conn:
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == pragma
    finally:
        await database.dispose()


def test_an_unknown_synchronous_level_is_refused(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKHUB_SQLITE_SYNCHRONOUS", "sometimes")
    with pytest.raises(ValueError, match="LOCKHUB_SQLITE_SYNCHRONOUS must be one of"):
        Database(f"sqlite:///{tmp_path / 'x.db'}")
