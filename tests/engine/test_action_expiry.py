"""An action attempt is never pending past its timeout, whatever the engine's backlog, and the
lock is not operated for an attempt that expired before its command was sent.

In-process, on a seeded database (SQLite and PostgreSQL) with a controllable clock; the engine's parts (claim,
handler, sweep) are driven by the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lockhub.clock import ManualClock
from lockhub.config import Settings
from lockhub.engine import jobs
from lockhub.engine.actions import run_action_attempt
from lockhub.services import action_attempts, locks
from lockhub.services.runtime import Runtime, build_runtime
from lockhub.services.seed import WORKSPACE_1, seed
from lockhub.store import tables as t
from lockhub.store.migrate import upgrade
from tests.databases import database_url

TIMEOUT = 60.0
DEVICE = "august_device_1"  # seeded: online and locked




@pytest.fixture
async def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    monkeypatch.setenv("LOCKHUB_RATE_LIMITS", "off")
    url = database_url(tmp_path, "expiry")
    upgrade(url)
    clock = ManualClock(datetime.now(UTC))
    runtime = build_runtime(Settings(database_url=url, sandbox_latency_scale=0,
                                     action_attempt_timeout_seconds=TIMEOUT), clock)
    await seed(runtime)
    yield runtime
    await runtime.close()


async def _unlock(rt: Runtime) -> str:
    attempt = await locks.request_action(rt, WORKSPACE_1, DEVICE, "UNLOCK_DOOR", sync=False)
    return attempt.action_attempt_id


async def _action_jobs(rt: Runtime) -> list[Any]:
    async with rt.db.read() as conn:
        return (await conn.execute(select(t.jobs).where(
            t.jobs.c.kind == "action_attempt"))).all()


async def _events(rt: Runtime, attempt_id: str) -> list[str]:
    async with rt.db.read() as conn:
        return list((await conn.execute(select(t.events.c.event_type).where(
            t.events.c.action_attempt_id == attempt_id))).scalars())


async def _lock_is_locked(rt: Runtime) -> bool:
    async with rt.db.read() as conn:
        device = (await conn.execute(select(t.devices).where(
            t.devices.c.device_id == DEVICE))).one()
        return (await conn.execute(select(t.sandbox_devices.c.locked).where(
            t.sandbox_devices.c.sandbox_device_id == device.provider_device_id))).scalar_one()


async def _claim_action_jobs(rt: Runtime) -> list[jobs.Job]:
    claimed = await jobs.claim(rt.db, now=rt.clock.now(), worker_id="w", lease_seconds=600,
                               limit=100)
    return [j for j in claimed if j.kind == "action_attempt"]


async def test_an_over_age_attempt_is_served_expired_and_its_queued_job_is_dropped(
    rt: Runtime,
) -> None:
    attempt_id = await _unlock(rt)
    rt.clock.advance(TIMEOUT - 1)  # type: ignore[attr-defined]
    assert (await action_attempts.get(rt, WORKSPACE_1, attempt_id)).status == "pending"

    rt.clock.advance(2)  # type: ignore[attr-defined]
    served = await action_attempts.get(rt, WORKSPACE_1, attempt_id)
    assert served.status == "error"
    assert served.error is not None and served.error.type == "action_attempt_expired"
    assert served.error.message == action_attempts.EXPIRED_QUEUED
    listed, _ = await action_attempts.list_attempts(rt, WORKSPACE_1, attempt_ids=[attempt_id],
                                                    device_id=None, after=None, limit=10)
    assert [(a.status, a.error and a.error.type) for a in listed] == [
        ("error", "action_attempt_expired")]
    assert await _events(rt, attempt_id) == ["action_attempt.unlock_door.failed"]
    assert await _action_jobs(rt) == []
    assert await _lock_is_locked(rt)


async def test_the_sweep_expires_a_whole_backlog_by_age_and_empties_its_queue(
    rt: Runtime,
) -> None:
    backlog = [await _unlock(rt) for _ in range(7)]
    rt.clock.advance(TIMEOUT / 2)  # type: ignore[attr-defined]
    fresh = await _unlock(rt)
    rt.clock.advance(TIMEOUT / 2 + 1)  # type: ignore[attr-defined]

    assert await action_attempts.expire_sweep(rt) == len(backlog)
    async with rt.db.read() as conn:
        rows = {r.action_attempt_id: r for r in (await conn.execute(select(t.action_attempts)))}
    for attempt_id in backlog:
        assert rows[attempt_id].status == "error"
        assert rows[attempt_id].error["type"] == "action_attempt_expired"
        assert await _events(rt, attempt_id) == ["action_attempt.unlock_door.failed"]
    assert rows[fresh].status == "pending"
    assert [j.payload["action_attempt_id"] for j in await _action_jobs(rt)] == [fresh]
    assert await action_attempts.expire_sweep(rt) == 0


async def test_a_job_that_runs_after_the_timeout_does_not_operate_the_lock(rt: Runtime) -> None:
    attempt_id = await _unlock(rt)
    rt.clock.advance(TIMEOUT + 1)  # type: ignore[attr-defined]
    # No read and no sweep came first: the job itself finds the attempt too old.
    [job] = await _claim_action_jobs(rt)
    await run_action_attempt(rt, job)

    served = await action_attempts.get(rt, WORKSPACE_1, attempt_id)
    assert served.error is not None and served.error.type == "action_attempt_expired"
    assert await _lock_is_locked(rt)
    assert "lock.unlocked" not in await _events(rt, attempt_id)
    assert await _action_jobs(rt) == []


async def test_a_command_in_flight_at_the_timeout_expires_but_what_the_lock_did_is_recorded(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempt_id = await _unlock(rt)
    provider = rt.providers.get("sandbox")
    sent, answer = asyncio.Event(), asyncio.Event()

    async def slow_device(row: Any) -> None:
        sent.set()
        await answer.wait()

    monkeypatch.setattr(provider, "_latency", slow_device)
    [job] = await _claim_action_jobs(rt)
    running = asyncio.create_task(run_action_attempt(rt, job))
    await sent.wait()

    rt.clock.advance(TIMEOUT + 1)  # type: ignore[attr-defined]
    assert await action_attempts.expire_sweep(rt) == 1
    served = await action_attempts.get(rt, WORKSPACE_1, attempt_id)
    assert served.error is not None and served.error.type == "action_attempt_expired"
    assert served.error.message == action_attempts.EXPIRED_IN_FLIGHT

    answer.set()
    await running
    # The attempt's outcome stays what was served; the lock's own report is kept.
    after = await action_attempts.get(rt, WORKSPACE_1, attempt_id)
    assert after == served
    assert not await _lock_is_locked(rt)
    async with rt.db.read() as conn:
        state = (await conn.execute(select(t.devices.c.state).where(
            t.devices.c.device_id == DEVICE))).scalar_one()
    assert state["locked"] is False
    assert sorted(await _events(rt, attempt_id)) == ["action_attempt.unlock_door.failed",
                                                     "lock.unlocked"]
    assert await _action_jobs(rt) == []


async def test_an_answer_after_the_timeout_does_not_turn_the_attempt_into_a_success(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No read or sweep saw it expire: the late answer still cannot make it a success."""
    attempt_id = await _unlock(rt)
    provider = rt.providers.get("sandbox")

    async def slow_device(row: Any) -> None:
        rt.clock.advance(TIMEOUT + 1)  # type: ignore[attr-defined]

    monkeypatch.setattr(provider, "_latency", slow_device)
    [job] = await _claim_action_jobs(rt)
    await run_action_attempt(rt, job)
    served = await action_attempts.get(rt, WORKSPACE_1, attempt_id)
    assert served.error is not None and served.error.message == action_attempts.EXPIRED_IN_FLIGHT
    assert not await _lock_is_locked(rt)
    assert "lock.unlocked" in await _events(rt, attempt_id)


async def test_a_settled_attempt_is_never_expired(rt: Runtime) -> None:
    attempt_id = await _unlock(rt)
    [job] = await _claim_action_jobs(rt)
    await run_action_attempt(rt, job)
    rt.clock.advance(TIMEOUT * 10)  # type: ignore[attr-defined]
    assert await action_attempts.expire_sweep(rt) == 0
    assert (await action_attempts.get(rt, WORKSPACE_1, attempt_id)).status == "success"
