"""Scheduling the reconciliation of one access code (used by services and the engine alike)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.engine import jobs
from lockhub.services.sandbox_clock import WorkspaceClock

CODE_JOB = "access_code"


def job_id_for(access_code_id: str) -> str:
    return f"access_code:{access_code_id}"


async def schedule_sync(conn: AsyncConnection, clock: WorkspaceClock, *, workspace_id: str,
                        device_id: str, access_code_id: str,
                        at: datetime | None = None) -> None:
    """Ask the engine to reconcile one code (now, or at workspace time `at`)."""
    await jobs.ensure(conn, job_id=job_id_for(access_code_id), now=clock.real_now,
                      workspace_id=workspace_id, kind=CODE_JOB, key=f"device:{device_id}",
                      payload={"access_code_id": access_code_id},
                      run_at=clock.real_now if at is None else clock.to_real(at))
