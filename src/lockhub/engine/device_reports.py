"""Devices that change by themselves report on their own: a virtual thermostat's room warms
and cools, a virtual noise sensor's level rises and falls, over workspace time. One recurring
job per such device reads its state when it next has something new (its provider's
`next_report`) and records it as lockhub records any report, events included; moving the
sandbox clock makes it due at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.engine import jobs
from lockhub.engine.jobs import Job, finish, reschedule
from lockhub.providers.refs import device_ref
from lockhub.services import devices as device_service
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.store.tables import connected_accounts, devices

DEVICE_REPORT_JOB = "device_report"
# A newly added device was just read: its first report job waits this long (real time).
FIRST_REPORT_DELAY = timedelta(minutes=5)


def reports_by_itself(provider: Any) -> bool:
    """The provider's devices need lockhub to ask when they change (the sandbox's)."""
    return callable(getattr(provider, "next_report", None))


async def schedule_report(conn: AsyncConnection, *, now: datetime, workspace_id: str,
                          device_id: str, run_at: datetime | None = None) -> None:
    """Read the device again at `run_at` (now by default): after it is added or changed."""
    await jobs.ensure(conn, job_id=f"{DEVICE_REPORT_JOB}:{device_id}", now=now,
                      workspace_id=workspace_id, kind=DEVICE_REPORT_JOB,
                      key=f"device:{device_id}", payload={"device_id": device_id},
                      run_at=run_at)


async def run_device_report(rt: Runtime, job: Job) -> None:
    async with rt.db.read() as conn:
        device = (await conn.execute(select(devices).where(
            devices.c.device_id == job.payload["device_id"]))).first()
        account = None if device is None else (await conn.execute(select(
            connected_accounts).where(connected_accounts.c.connected_account_id
                                      == device.connected_account_id))).first()
    provider = None if account is None else rt.providers.get(account.provider)
    if device is None or account is None or not reports_by_itself(provider):
        async with rt.db.write() as conn:
            await finish(conn, job)
        return
    assert provider is not None
    ref = device_ref(rt.settings, device, account)
    snapshot = await provider.read_state(ref)
    due = await provider.next_report(ref)
    now = rt.clock.now()
    async with rt.db.write() as conn:
        current = (await conn.execute(select(devices).where(
            devices.c.device_id == device.device_id))).first()
        if current is not None:
            await device_service.apply_snapshot(
                conn, now=now, row=current, state=device_service.merged_state(current, snapshot))
        if due is None or current is None:
            await finish(conn, job)
        else:
            clock = await workspace_clock(conn, device.workspace_id, now)
            await reschedule(conn, job, clock.to_real(due))
