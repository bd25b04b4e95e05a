"""Workspace time. Production workspaces use real time; a sandbox workspace may freeze its
clock, move it, or run it with an offset, so a code's whole life can be watched in seconds.

Engine jobs are stored in real time. A job due at workspace time T runs at real time
T - offset; while the clock is frozen nothing new becomes due until the clock moves. Moving the
clock makes every access-code, webhook and auto-lock job of the workspace due at once: each is
level-triggered, so it recomputes what should be true at the new time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.store.tables import jobs, workspaces

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
# A sandbox clock stays where date arithmetic on workspace time cannot overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class WorkspaceClock:
    real_now: datetime
    offset: timedelta
    frozen_at: datetime | None

    @property
    def now(self) -> datetime:
        return self.frozen_at if self.frozen_at is not None else self.real_now + self.offset

    def to_real(self, instant: datetime) -> datetime:
        """The real instant at which workspace time reaches `instant`."""
        if self.frozen_at is not None:
            return self.real_now if instant <= self.frozen_at else FAR_FUTURE
        try:
            return instant - self.offset
        except OverflowError:  # beyond datetime's range: long past (due now), or never
            return self.real_now if self.offset > timedelta(0) else FAR_FUTURE


# Built once: every write that involves workspace time reads it.
_CLOCK = select(workspaces.c.clock_offset_seconds, workspaces.c.clock_frozen_at).where(
    workspaces.c.workspace_id == bindparam("workspace_id"))


async def workspace_clock(conn: AsyncConnection, workspace_id: str,
                          real_now: datetime) -> WorkspaceClock:
    row = (await conn.execute(_CLOCK, {"workspace_id": workspace_id})).first()
    if row is None:
        raise NotFound("workspace", {"workspace_id": workspace_id})
    # A production workspace's clock columns stay at real time unless a test suite moved them
    # (`set_clock(..., production_allowed=True)`, only with LOCKHUB_TEST_PRODUCTION_CLOCK=1).
    return WorkspaceClock(real_now, timedelta(seconds=row.clock_offset_seconds),
                          row.clock_frozen_at)


async def set_clock(conn: AsyncConnection, workspace_id: str, real_now: datetime, *,
                    frozen: bool | None = None, advance_seconds: float | None = None,
                    set_to: datetime | None = None,
                    production_allowed: bool = False) -> WorkspaceClock:
    """Change a sandbox clock: freeze/unfreeze, advance, or set it; wakes the engine's jobs.
    `production_allowed` (LOCKHUB_TEST_PRODUCTION_CLOCK=1 only) lets a suite drive a production
    workspace's time, to test real providers' time-bound codes without waiting for them."""
    row = (await conn.execute(select(workspaces.c.is_sandbox).where(
        workspaces.c.workspace_id == workspace_id))).first()
    if row is None:
        raise NotFound("workspace", {"workspace_id": workspace_id})
    if not row.is_sandbox and not production_allowed:
        raise LockhubError("Only sandbox workspaces have a controllable clock.",
                           error_type="workspace_not_sandbox")
    clock = await workspace_clock(conn, workspace_id, real_now)
    now = clock.now
    if set_to is not None:
        now = set_to
    if advance_seconds is not None:
        now = now + timedelta(seconds=advance_seconds)
    if not EARLIEST <= now <= LATEST:
        raise InvalidInput.for_field(["seconds" if set_to is None else "now"],
                                     "The sandbox clock must stay between 1970 and 9000")
    keep_frozen = clock.frozen_at is not None if frozen is None else frozen
    values = ({"clock_frozen_at": now, "clock_offset_seconds": 0.0} if keep_frozen else
              {"clock_frozen_at": None,
               "clock_offset_seconds": (now - real_now).total_seconds()})
    await conn.execute(update(workspaces).where(
        workspaces.c.workspace_id == workspace_id).values(**values))
    await conn.execute(update(jobs).where(
        jobs.c.workspace_id == workspace_id,
        # Work scheduled in workspace time; each job re-checks what is due when it runs.
        jobs.c.kind.in_(("access_code", "webhook_delivery", "auto_lock", "device_report",
                         "thermostat_schedule")),
    ).values(run_at=real_now, generation=jobs.c.generation + 1))
    return await workspace_clock(conn, workspace_id, real_now)
