"""The leased-rows queue: one statement claims due work, keys serialise, leases expire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lockhub.engine import jobs
from lockhub.store.db import Database
from lockhub.store.migrate import upgrade
from tests.databases import database_url

T0 = datetime(2026, 1, 1, tzinfo=UTC)




@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = database_url(tmp_path, "jobs")
    upgrade(url)
    database = Database(url)
    yield database
    await database.dispose()


async def _enqueue(db: Database, key: str, at: datetime = T0) -> str:
    async with db.write() as conn:
        return await jobs.enqueue(conn, now=at, workspace_id="w", kind="k", key=key,
                                  payload={"key": key})


async def test_claim_takes_one_job_per_key_and_skips_keys_already_leased(db: Database) -> None:
    first = await _enqueue(db, "device:a", T0)
    second = await _enqueue(db, "device:a", T0 + timedelta(milliseconds=1))
    other = await _enqueue(db, "device:b", T0)
    now = T0 + timedelta(seconds=1)

    claimed = await jobs.claim(db, now=now, worker_id="w1", lease_seconds=10, limit=10)
    assert sorted(j.job_id for j in claimed) == sorted([first, other])
    # While device:a's first job is leased, its second job waits.
    assert await jobs.claim(db, now=now, worker_id="w2", lease_seconds=10, limit=10) == []

    async with db.write() as conn:
        await jobs.finish(conn, first)
    claimed = await jobs.claim(db, now=now, worker_id="w2", lease_seconds=10, limit=10)
    assert [j.job_id for j in claimed] == [second]


async def test_claim_along_leases_the_keys_other_due_jobs_of_the_kind_under_the_same_lease(
    db: Database
) -> None:
    first = await _enqueue(db, "device:e", T0)
    along = [await _enqueue(db, "device:e", T0 + timedelta(milliseconds=n)) for n in (1, 2, 3)]
    other_key = await _enqueue(db, "device:f", T0 + timedelta(milliseconds=5))
    async with db.write() as conn:
        await jobs.enqueue(conn, now=T0, workspace_id="w", kind="other", key="device:e",
                           payload={}, run_at=T0 + timedelta(milliseconds=10))
        await jobs.enqueue(conn, now=T0, workspace_id="w", kind="k", key="device:e",
                           payload={}, run_at=T0 + timedelta(minutes=1))
    now = T0 + timedelta(seconds=1)
    [job] = [j for j in await jobs.claim(db, now=now, worker_id="w1", lease_seconds=10,
                                         limit=10) if j.key == "device:e"]
    assert job.job_id == first

    async with db.write() as conn:
        taken = await jobs.claim_along(conn, job, now=now, limit=2)
        assert [(j.job_id, j.attempts) for j in taken] == [(along[0], 1), (along[1], 1)]
        leases = {r.job_id: (r.leased_by, r.lease_until) for r in (await conn.execute(
            jobs.jobs.select().where(jobs.jobs.c.job_id.in_([first, *along])))).all()}
    assert leases[along[0]] == leases[along[1]] == leases[first]
    assert leases[along[2]] == (None, None)  # past the limit: a later pass takes it
    # Another worker finds the key held; the other key was free all along.
    assert [j.job_id for j in await jobs.claim(db, now=now, worker_id="w2", lease_seconds=10,
                                               limit=10)] in ([], [other_key])


async def test_expired_lease_lets_another_worker_take_the_job_over(db: Database) -> None:
    job_id = await _enqueue(db, "device:c")
    claimed = await jobs.claim(db, now=T0, worker_id="crashed", lease_seconds=5, limit=1)
    assert [j.job_id for j in claimed] == [job_id]
    assert await jobs.claim(db, now=T0 + timedelta(seconds=4), worker_id="w2",
                            lease_seconds=5, limit=1) == []
    taken = await jobs.claim(db, now=T0 + timedelta(seconds=6), worker_id="w2",
                             lease_seconds=5, limit=1)
    assert [(j.job_id, j.attempts) for j in taken] == [(job_id, 2)]


async def test_future_jobs_wait_until_due(db: Database) -> None:
    async with db.write() as conn:
        job_id = await jobs.enqueue(conn, now=T0, workspace_id="w", kind="k", key="device:d",
                                    payload={}, run_at=T0 + timedelta(minutes=1))
    assert await jobs.claim(db, now=T0, worker_id="w", lease_seconds=5, limit=5) == []
    due = await jobs.claim(db, now=T0 + timedelta(minutes=1), worker_id="w", lease_seconds=5,
                           limit=5)
    assert [j.job_id for j in due] == [job_id]
