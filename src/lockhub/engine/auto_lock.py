"""Virtual locks relock by themselves: a sandbox lock with auto-lock on is locked again its delay
after each unlock, in workspace time (so moving the sandbox clock past the delay relocks it).
Real locks do this on their own and report it like any other lock operation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.engine import jobs
from lockhub.engine.jobs import Job, finish, reschedule
from lockhub.providers.refs import device_ref
from lockhub.services import devices as device_service
from lockhub.services import events
from lockhub.services.locks import DEFAULT_AUTO_LOCK_DELAY_SECONDS
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.store.tables import connected_accounts, devices

AUTO_LOCK_JOB = "auto_lock"


def relocks_by_itself(provider: Any) -> bool:
    """The provider's locks need lockhub to carry out their auto-lock (the sandbox's)."""
    return callable(getattr(provider, "relock_by_itself", None))


async def schedule_relock(conn: AsyncConnection, *, now: datetime, device: Any,
                          state: dict[str, Any]) -> None:
    """After an unlock: if the lock's auto-lock is on, relock it its delay from now (a later
    unlock starts the delay again)."""
    if not state.get("auto_lock_enabled"):
        return
    clock = await workspace_clock(conn, device.workspace_id, now)
    delay = float(state.get("auto_lock_delay_seconds") or DEFAULT_AUTO_LOCK_DELAY_SECONDS)
    due = clock.now + timedelta(seconds=delay)
    await jobs.ensure(conn, job_id=f"{AUTO_LOCK_JOB}:{device.device_id}", now=now,
                      workspace_id=device.workspace_id, kind=AUTO_LOCK_JOB,
                      key=f"device:{device.device_id}",
                      payload={"device_id": device.device_id, "due_at": due.isoformat()},
                      run_at=clock.to_real(due))


async def run_auto_lock(rt: Runtime, job: Job) -> None:
    """Relock the lock once workspace time reaches the due instant, unless it was locked
    meanwhile or its auto-lock switched off."""
    due = datetime.fromisoformat(job.payload["due_at"])
    async with rt.db.read() as conn:
        device = (await conn.execute(select(devices).where(
            devices.c.device_id == job.payload["device_id"]))).first()
        account = None if device is None else (await conn.execute(select(
            connected_accounts).where(connected_accounts.c.connected_account_id
                                      == device.connected_account_id))).first()
        clock = None if device is None else await workspace_clock(
            conn, device.workspace_id, rt.clock.now())
    if device is None or account is None or clock is None:
        async with rt.db.write() as conn:
            await finish(conn, job)
        return
    if clock.now < due:
        async with rt.db.write() as conn:
            await reschedule(conn, job, clock.to_real(due))
        return
    state = device.state or {}
    provider = rt.providers.get(account.provider)
    if not state.get("auto_lock_enabled") or state.get("locked") is not False \
            or not relocks_by_itself(provider):
        async with rt.db.write() as conn:
            await finish(conn, job)
        return
    snapshot = await provider.relock_by_itself(device_ref(rt.settings, device, account))
    now = rt.clock.now()
    async with rt.db.write() as conn:
        await device_service.apply_snapshot(conn, now=now, row=device,
                                            state=device_service.merged_state(device, snapshot))
        await events.record(conn, now=now, workspace_id=device.workspace_id,
                            event_type="lock.locked", device_id=device.device_id,
                            connected_account_id=device.connected_account_id,
                            method="automatic")
        await finish(conn, job)
