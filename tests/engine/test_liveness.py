"""Leases of an engine known to be gone are taken at once, never those of a live one."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lockhub.engine import jobs, liveness
from lockhub.engine.liveness import ProcessKey
from lockhub.store.db import Database
from lockhub.store.migrate import upgrade
from lockhub.store.tables import workers

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ME = liveness.current()
pytestmark = pytest.mark.skipif(ME is None, reason="needs Linux /proc")


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """Another live process on this machine."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                               stdin=subprocess.PIPE)
    yield process
    process.kill()
    process.wait()


def key_of(process: subprocess.Popen[bytes]) -> ProcessKey:
    assert ME is not None
    stat = liveness._stat(process.pid)
    assert stat is not None
    return replace(ME, pid=process.pid, started=stat[1])


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    upgrade(url)
    database = Database(url)
    yield database
    await database.dispose()


async def _held_job(db: Database, holder: str, key: ProcessKey | None) -> str:
    async with db.write() as conn:
        job_id = await jobs.enqueue(conn, now=T0, workspace_id="w", kind="k", key=f"k:{holder}",
                                    payload={})
        await conn.execute(workers.insert().values(
            worker_id=holder, host="h", pid=key.pid if key else 1,
            process_key=str(key) if key else None, started_at=T0, heartbeat_at=T0))
    [job] = await jobs.claim(db, now=T0, worker_id=holder, lease_seconds=30, limit=1)
    assert job.job_id == job_id
    return job_id


async def _claimable(db: Database) -> set[str]:
    return {j.job_id for j in await jobs.claim(db, now=T0 + timedelta(seconds=1),
                                               worker_id="me", lease_seconds=30, limit=10)}


def test_a_process_is_dead_once_it_has_exited_or_its_pid_serves_another_process(
    child: subprocess.Popen[bytes],
) -> None:
    key = key_of(child)
    assert not liveness.known_dead(key, ME)
    assert liveness.known_dead(replace(key, started=str(int(key.started) - 1)), ME)
    assert ME is not None and liveness.known_dead(replace(ME, started="0"), ME)
    # Another machine (or container): never judged.
    assert not liveness.known_dead(replace(key, boot_id="elsewhere", pid=2**22), ME)
    child.kill()
    child.wait()
    assert liveness.known_dead(key, ME)


async def test_starting_takes_the_leases_of_dead_holders_at_once_but_not_of_live_ones(
    db: Database, child: subprocess.Popen[bytes],
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone_key = key_of(gone)
    gone.wait()
    dead_job = await _held_job(db, "dead", gone_key)
    live_job = await _held_job(db, "live", key_of(child))
    remote_job = await _held_job(db, "remote", replace(gone_key, boot_id="another-machine"))

    assert await liveness.register(db, worker_id="me", me=ME, now=T0) == ["dead"]
    assert await _claimable(db) == {dead_job}
    assert live_job and remote_job
    async with db.read() as conn:
        rows = set((await conn.execute(select(workers.c.worker_id))).scalars())
    assert rows == {"me", "live", "remote"}


async def test_a_restart_under_the_same_configured_id_takes_its_leases_back(
    db: Database,
) -> None:
    # The earlier run ran elsewhere (its process cannot be checked from here).
    job_id = await _held_job(db, "lockhub-api", replace(ME, boot_id="before-reboot"))  # type: ignore[type-var]
    await liveness.register(db, worker_id="lockhub-api", me=ME, now=T0)
    assert await _claimable(db) == {job_id}


async def test_a_configured_id_in_use_by_a_live_process_here_is_refused(
    db: Database, child: subprocess.Popen[bytes],
) -> None:
    job_id = await _held_job(db, "lockhub-api", key_of(child))
    with pytest.raises(liveness.WorkerIdInUse):
        await liveness.register(db, worker_id="lockhub-api", me=ME, now=T0)
    assert await _claimable(db) == set()
    assert job_id


async def test_a_clean_stop_hands_its_leases_back(db: Database) -> None:
    job_id = await _held_job(db, "stopping", ME)
    await liveness.retire(db, worker_id="stopping")
    assert await _claimable(db) == {job_id}
