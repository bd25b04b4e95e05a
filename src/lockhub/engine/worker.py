"""The engine loop: claim due jobs, run each in its own task, renew leases while they run.

Alongside it: a heartbeat (with the lease renewal, and pruning the row-change log) that also takes over the leases of engines
known dead on this machine, and a sweep that expires over-age action attempts whatever the
queue holds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from lockhub import metrics
from lockhub.engine import jobs, liveness, wakeups
from lockhub.engine.actions import RetryLater, run_action_attempt
from lockhub.engine.connections import ConnectionManager
from lockhub.errors import ServiceUnavailable
from lockhub.ids import new_id
from lockhub.services import action_attempts
from lockhub.services.runtime import Runtime
from lockhub.store.read_model import prune_row_changes

log = logging.getLogger("lockhub.engine")

Handler = Callable[[Runtime, jobs.Job], Awaitable[None]]

# Longest pause between claims while the database is unavailable.
MAX_CLAIM_BACKOFF_SECONDS = 5.0


def handlers() -> dict[str, Handler]:
    from lockhub.engine.access_codes import reconcile_access_code
    from lockhub.engine.auto_lock import AUTO_LOCK_JOB, run_auto_lock
    from lockhub.engine.device_codes import sync_device_codes
    from lockhub.engine.device_reports import DEVICE_REPORT_JOB, run_device_report
    from lockhub.engine.thermostat_schedules import run_thermostat_schedule
    from lockhub.engine.webhooks import deliver_webhook
    from lockhub.services.thermostats import SCHEDULE_JOB
    from lockhub.services.workspaces import run_reset_sandbox

    return {"action_attempt": run_action_attempt, "reset_sandbox": run_reset_sandbox,
            "access_code": reconcile_access_code, "device_codes": sync_device_codes,
            "webhook_delivery": deliver_webhook, AUTO_LOCK_JOB: run_auto_lock,
            DEVICE_REPORT_JOB: run_device_report, SCHEDULE_JOB: run_thermostat_schedule}


def _record_run(job: jobs.Job, outcome: str, seconds: float) -> None:
    """One log line and the metrics of a job run (`done`: the handler returned, whatever it
    recorded; `retry`: a transient failure, back to the queue; `failed`: an unexpected error)."""
    metrics.JOB_RUNS.labels(job.kind, outcome).inc()
    metrics.JOB_SECONDS.labels(job.kind).observe(seconds)
    if log.isEnabledFor(logging.INFO):
        device_id = job.key.removeprefix("device:") if job.key.startswith("device:") else None
        log.info("job %s %s%s: %s in %.1f ms", job.kind, job.job_id,
                 f" device {device_id}" if device_id else "", outcome, seconds * 1000,
                 extra={"job_kind": job.kind, "job_id": job.job_id, "device_id": device_id,
                        "outcome": outcome, "duration_ms": round(seconds * 1000, 3)})


class Worker:
    def __init__(self, rt: Runtime, *, concurrency: int = 32) -> None:
        self.rt = rt
        self.concurrency = concurrency
        # A configured id (LOCKHUB_WORKER_ID) is stable across restarts, so a restarted engine
        # takes back its own leases at once; it must be unique among running engines.
        self.worker_id = rt.settings.worker_id or (
            f"{socket.gethostname()}:{os.getpid()}:{new_id()[:8]}")
        self.process = liveness.current()
        self.running: dict[str, asyncio.Task[None]] = {}
        self.handlers = handlers()
        self._stopping = False
        self._claim_backoff = 0.0

    async def run(self) -> None:
        await self._register()
        helpers = [asyncio.create_task(self._renew_leases()),
                   asyncio.create_task(self._expire_attempts()),
                   asyncio.create_task(ConnectionManager(self.rt, self.worker_id).run()),
                   asyncio.create_task(wakeups.listen(self.rt))]
        try:
            while not self._stopping:
                self.rt.engine_wakeup.clear()
                claimed = await self._claim_once()
                if claimed == 0 or len(self.running) >= self.concurrency:
                    try:
                        await asyncio.wait_for(self.rt.engine_wakeup.wait(),
                                               self.rt.settings.engine_poll_seconds)
                    except TimeoutError:
                        pass
        finally:
            for task in helpers + list(self.running.values()):
                task.cancel()
            await asyncio.gather(*helpers, *self.running.values(), return_exceptions=True)
            try:
                await liveness.retire(self.rt.db, worker_id=self.worker_id)
            except Exception:
                log.exception("handing back leases failed")

    def stop(self) -> None:
        self._stopping = True
        self.rt.wake_engine()

    async def _claim_once(self) -> int:
        free = self.concurrency - len(self.running)
        if free <= 0:
            return 0
        try:
            claimed = await jobs.claim(self.rt.db, now=self.rt.clock.now(),
                                       worker_id=self.worker_id,
                                       lease_seconds=self.rt.settings.lease_seconds, limit=free)
        except Exception as exc:  # the database may be unavailable: back off, then try again
            if not self._claim_backoff:  # once per outage, not once per tick
                log.warning("claiming jobs failed: %s", exc,
                            exc_info=not isinstance(exc, ServiceUnavailable))
            self._claim_backoff = min(max(self._claim_backoff * 2,
                                          self.rt.settings.engine_poll_seconds),
                                      MAX_CLAIM_BACKOFF_SECONDS)
            await asyncio.sleep(self._claim_backoff)
            return 0
        if self._claim_backoff:
            log.info("claiming jobs works again")
            self._claim_backoff = 0.0
        for job in claimed:
            self.running[job.job_id] = asyncio.create_task(self._run(job))
        return len(claimed)

    async def _run(self, job: jobs.Job) -> None:
        started = time.perf_counter()
        outcome = "done"
        try:
            handler = self.handlers[job.kind]
            await handler(self.rt, job)
        except RetryLater as exc:
            outcome = "retry"
            await self._retry_later(job, str(exc))
        except Exception as exc:
            outcome = "failed"
            log.exception("job %s (%s) failed", job.job_id, job.kind)
            await self._retry_later(job, repr(exc))
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            self.running.pop(job.job_id, None)
            self.rt.wake_engine()
            _record_run(job, outcome, time.perf_counter() - started)

    async def _register(self) -> None:
        """Announce this engine; take back leases held under its id or by dead holders."""
        try:
            dead = await liveness.register(self.rt.db, worker_id=self.worker_id,
                                           me=self.process, now=self.rt.clock.now())
        except liveness.WorkerIdInUse:
            raise
        except Exception:  # the leases then simply expire
            log.exception("registering the worker failed")
            return
        if dead:
            log.info("took over the leases of stopped workers %s", ", ".join(dead))

    async def _retry_later(self, job: jobs.Job, error: str) -> None:
        try:
            await jobs.retry_later(self.rt.db, job, now=self.rt.clock.now(), error=error)
        except Exception as exc:  # the lease expires and the job runs again
            log.warning("job %s (%s) could not be rescheduled: %s", job.job_id, job.kind, exc)

    async def _renew_leases(self) -> None:
        interval = max(0.2, self.rt.settings.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                now = self.rt.clock.now()
                until = now + timedelta(seconds=self.rt.settings.lease_seconds)
                async with self.rt.db.write() as conn:
                    await jobs.renew(conn, list(self.running), worker_id=self.worker_id,
                                     until=until)
                    await liveness.heartbeat(conn, worker_id=self.worker_id, now=now)
                    await prune_row_changes(conn)
                if await liveness.reap(self.rt.db, worker_id=self.worker_id, me=self.process,
                                       now=now):
                    self.rt.wake_engine()
            except Exception:
                log.exception("renewing leases failed")

    async def _expire_attempts(self) -> None:
        """Settle over-age pending attempts by their age, independent of the job queue."""
        interval = min(1.0, max(0.05, self.rt.settings.action_attempt_timeout_seconds / 10))
        while True:
            await asyncio.sleep(interval)
            try:
                if await action_attempts.expire_sweep(self.rt):
                    self.rt.wake_engine()
            except Exception:
                log.exception("expiring action attempts failed")
