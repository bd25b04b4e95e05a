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
from lockhub.store.tables import connected_accounts, provider_connections, workers, workspaces
from tests.databases import database_url

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
    url = database_url(tmp_path, "workers")
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


async def _held_connection(db: Database, holder: str) -> str:
    """A live provider account whose connection `holder` leases (as `ConnectionManager` does)."""
    account_id = f"account-{holder}"
    async with db.write() as conn:
        if (await conn.execute(select(workspaces.c.workspace_id))).first() is None:
            await conn.execute(workspaces.insert().values(
                workspace_id="w", name="w", company_name="w", is_sandbox=False,
                connect_webview_customization={}, created_at=T0))
        await conn.execute(connected_accounts.insert().values(
            connected_account_id=account_id, workspace_id="w", account_type="zigbee2mqtt",
            provider="zigbee2mqtt", user_identifier={}, credentials={}, custom_metadata={},
            errors=[], warnings=[], created_at=T0))
        await conn.execute(provider_connections.insert().values(
            connected_account_id=account_id, holder=holder,
            lease_until=T0 + timedelta(seconds=30), connected=True, updated_at=T0))
    return account_id


async def _free_connections(db: Database) -> set[str]:
    async with db.read() as conn:
        return set((await conn.execute(select(provider_connections.c.connected_account_id)
                                       .where(provider_connections.c.holder.is_(None),
                                              provider_connections.c.lease_until.is_(None))))
                   .scalars())


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


async def test_live_connections_of_a_dead_holder_are_freed_at_once_not_those_of_live_ones(
    db: Database, child: subprocess.Popen[bytes],
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone_key = key_of(gone)
    gone.wait()
    await _held_job(db, "dead", gone_key)
    await _held_job(db, "live", key_of(child))
    await _held_job(db, "remote", replace(gone_key, boot_id="another-machine"))
    dead = await _held_connection(db, "dead")
    for holder in ("live", "remote"):
        await _held_connection(db, holder)

    # The next ConnectionManager pass takes a free row: no waiting for the lease to run out.
    assert await liveness.register(db, worker_id="me", me=ME, now=T0) == ["dead"]
    assert await _free_connections(db) == {dead}


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
    account_id = await _held_connection(db, "stopping")
    await liveness.retire(db, worker_id="stopping")
    assert await _claimable(db) == {job_id}
    assert await _free_connections(db) == {account_id}
