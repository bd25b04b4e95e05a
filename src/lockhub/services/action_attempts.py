"""Action attempts: persisted `pending` at once, resolved by the engine, readable forever.

An attempt is never pending for longer than `LOCKHUB_ACTION_ATTEMPT_TIMEOUT_SECONDS`, whatever
the engine's backlog: past that age it settles as `action_attempt_expired` (by the engine's
periodic sweep, or by the read that finds it first), and its queued job is removed, so the
device is not operated for it. If the command was already on its way to the device, the attempt
still expires (its outcome is final once served); what the device then reports is recorded on
the device and in its events, and the error message says the device may still carry it out.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub import metrics
from lockhub.domain.events import action_event_type
from lockhub.domain.objects import ActionAttempt, ActionAttemptError
from lockhub.engine import jobs as job_queue
from lockhub.ids import new_id
from lockhub.services import events
from lockhub.services.runtime import Runtime
from lockhub.services.served import Lookup
from lockhub.store.keyset import keyset_page
from lockhub.store.owned import owned_row
from lockhub.store.tables import action_attempts, devices, jobs

log = logging.getLogger("lockhub.engine")

A = action_attempts

EXPIRED = "action_attempt_expired"
# Told apart so a client knows whether the door may still move.
EXPIRED_QUEUED = "The action attempt timed out before it was sent to the device."
EXPIRED_IN_FLIGHT = ("The action attempt timed out while the device was carrying it out; the "
                     "device may still complete it.")
# At most this many attempts are expired per transaction (the sweep comes back for the rest).
EXPIRE_BATCH = 500


def to_attempt(row: Any) -> ActionAttempt:
    error = ActionAttemptError(**row.error) if row.error else None
    return ActionAttempt(action_attempt_id=row.action_attempt_id, action_type=row.action_type,
                         status=row.status, result=row.result, error=error)


_INSERT = A.insert()


async def create(conn: AsyncConnection, *, now: datetime, workspace_id: str, action_type: str,
                 device_id: str | None) -> ActionAttempt:
    attempt_id = new_id()
    await conn.execute(_INSERT, dict(
        action_attempt_id=attempt_id, workspace_id=workspace_id, device_id=device_id,
        action_type=action_type, status="pending", result=None, error=None,
        created_at=now, updated_at=now))
    return ActionAttempt(action_attempt_id=attempt_id, action_type=action_type,
                         status="pending", result=None, error=None)


# The engine job kind that carries out an action attempt (engine/actions.py).
ACTION_KIND = "action_attempt"


async def start(conn: AsyncConnection, *, now: datetime, workspace_id: str, action_type: str,
                device_id: str, payload: dict[str, Any] | None = None) -> ActionAttempt:
    """A pending attempt and the engine job that carries it out on the device (one at a time
    per device), in the caller's transaction."""
    attempt = await create(conn, now=now, workspace_id=workspace_id, action_type=action_type,
                           device_id=device_id)
    await job_queue.enqueue(conn, now=now, workspace_id=workspace_id, kind=ACTION_KIND,
                            key=f"device:{device_id}",
                            payload={"action_attempt_id": attempt.action_attempt_id,
                                     **(payload or {})})
    return attempt


async def answer(rt: Runtime, workspace_id: str, attempt: ActionAttempt,
                 sync: bool) -> ActionAttempt:
    """What a route that started an attempt returns: at once, or settled with `sync`."""
    rt.wake_engine()
    if not sync:
        return attempt
    return await wait_until_settled(rt, workspace_id, attempt.action_attempt_id,
                                    rt.settings.sync_wait_seconds)


async def create_settled(conn: AsyncConnection, *, now: datetime, workspace_id: str,
                         action_type: str, device_id: str | None,
                         result: dict[str, Any]) -> ActionAttempt:
    """An attempt that succeeds as it is made (the request itself did the work), with the
    same succeeded event `resolve` records."""
    attempt_id = new_id()
    await conn.execute(_INSERT, dict(
        action_attempt_id=attempt_id, workspace_id=workspace_id, device_id=device_id,
        action_type=action_type, status="success", result=result, error=None,
        created_at=now, updated_at=now))
    event_type = action_event_type(action_type, True)
    if event_type:
        await events.record(conn, now=now, workspace_id=workspace_id, event_type=event_type,
                            action_attempt_id=attempt_id, action_type=action_type,
                            status="success", device_id=device_id)
    return ActionAttempt(action_attempt_id=attempt_id, action_type=action_type,
                         status="success", result=result, error=None)


async def get_row(conn: AsyncConnection, workspace_id: str, attempt_id: str) -> Any:
    return await owned_row(conn, A, A.c.action_attempt_id, workspace_id, attempt_id,
                           "action_attempt")


def overdue(rt: Runtime, row: Any, now: datetime) -> bool:
    """A pending attempt older than the timeout (it must not be served as pending)."""
    return row.status == "pending" and row.created_at < _cutoff(rt, now)


def _cutoff(rt: Runtime, now: datetime) -> datetime:
    return now - timedelta(seconds=rt.settings.action_attempt_timeout_seconds)


async def get(rt: Runtime, workspace_id: str, attempt_id: str) -> ActionAttempt:
    return to_attempt(await _current_row(rt, workspace_id, attempt_id))


async def served(rt: Runtime, workspace_id: str, attempt_id: str) -> msgspec.Raw:
    """The attempt's JSON, from the read model when it is there; a pending attempt is served
    from it only while it is younger than the timeout (`facts`: its created_at)."""
    lookup = Lookup(rt.db.read_model, "action_attempts", attempt_id, workspace_id)
    hit = lookup.hit
    if hit is not None and (hit.facts is None or hit.facts >= _cutoff(rt, rt.clock.now())):
        return hit.raw
    row = await _current_row(rt, workspace_id, attempt_id)
    return lookup.remember(workspace_id, to_attempt(row),
                           facts=row.created_at if row.status == "pending" else None)


async def _current_row(rt: Runtime, workspace_id: str, attempt_id: str) -> Any:
    """The attempt's row, expired first if it is pending past the timeout."""
    async with rt.db.read() as conn:
        row = await get_row(conn, workspace_id, attempt_id)
    now = rt.clock.now()
    if overdue(rt, row, now):
        async with rt.db.write() as conn:
            await expire_overdue(conn, now=now, cutoff=_cutoff(rt, now),
                                 attempt_ids=[attempt_id])
            row = await get_row(conn, workspace_id, attempt_id)
        rt.announce_resolution()
    return row


async def list_attempts(rt: Runtime, workspace_id: str, *, attempt_ids: list[str] | None,
                        device_id: str | None, after: tuple[datetime, str] | None,
                        limit: int) -> tuple[list[ActionAttempt], tuple[str, str] | None]:
    cond: list[Any] = [A.c.workspace_id == workspace_id]
    if attempt_ids is not None:
        cond.append(A.c.action_attempt_id.in_(attempt_ids))
    if device_id is not None:
        cond.append(A.c.device_id == device_id)
    async with rt.db.read() as conn:
        rows, next_after = await keyset_page(conn, select(A).where(*cond), A.c.created_at,
                                             A.c.action_attempt_id, after=after, limit=limit)
    now = rt.clock.now()
    late = [r.action_attempt_id for r in rows if overdue(rt, r, now)]
    if late:
        async with rt.db.write() as conn:
            await expire_overdue(conn, now=now, cutoff=_cutoff(rt, now), attempt_ids=late)
            settled = {r.action_attempt_id: r for r in (await conn.execute(
                select(A).where(A.c.action_attempt_id.in_(late)))).all()}
        rt.announce_resolution()
        rows = [settled.get(r.action_attempt_id, r) for r in rows]
    return [to_attempt(r) for r in rows], next_after


async def expire_overdue(conn: AsyncConnection, *, now: datetime, cutoff: datetime,
                         attempt_ids: list[str] | None = None,
                         limit: int = EXPIRE_BATCH) -> int:
    """Settle pending attempts created before `cutoff` as `action_attempt_expired`, record
    their failed events and drop their queued jobs. Returns how many were expired.

    An attempt whose job is leased right now is in flight: its job is left to finish (it
    records what the device reports) and the error says the device may still complete it.
    """
    cond = [A.c.status == "pending", A.c.created_at < cutoff]
    if attempt_ids is not None:
        cond.append(A.c.action_attempt_id.in_(attempt_ids))
    rows = (await conn.execute(select(A.c.action_attempt_id, A.c.workspace_id, A.c.device_id)
                               .where(*cond).order_by(A.c.created_at).limit(limit))).all()
    if not rows:
        return 0
    ids = [r.action_attempt_id for r in rows]
    # Action jobs are keyed by their device (lock, unlock, keypad) or workspace (reset); the
    # key index narrows the look-up before the payload is read.
    keys = {f"device:{r.device_id}" for r in rows if r.device_id} | {
        f"workspace:{r.workspace_id}" for r in rows}
    job_attempt = jobs.c.payload["action_attempt_id"].as_string()
    theirs = and_(jobs.c.key.in_(keys), job_attempt.in_(ids))
    in_flight = set((await conn.execute(select(job_attempt).where(
        theirs, jobs.c.lease_until > now))).scalars())
    await conn.execute(delete(jobs).where(
        theirs, or_(jobs.c.lease_until.is_(None), jobs.c.lease_until <= now)))
    expired: list[Any] = []
    for group, message in (([i for i in ids if i in in_flight], EXPIRED_IN_FLIGHT),
                           ([i for i in ids if i not in in_flight], EXPIRED_QUEUED)):
        if group:
            expired += (await conn.execute(
                update(A).where(A.c.action_attempt_id.in_(group), A.c.status == "pending")
                .values(status="error", error={"type": EXPIRED, "message": message},
                        updated_at=now)
                .returning(A.c.action_attempt_id, A.c.workspace_id, A.c.device_id,
                           A.c.action_type))).all()
    device_ids = {r.device_id for r in expired if r.device_id}
    accounts = dict((await conn.execute(
        select(devices.c.device_id, devices.c.connected_account_id)
        .where(devices.c.device_id.in_(device_ids)))).all()) if device_ids else {}
    for row in expired:
        settled(row.action_attempt_id, row.action_type, EXPIRED, row.device_id)
        event_type = action_event_type(row.action_type, False)
        if event_type:
            await events.record(conn, now=now, workspace_id=row.workspace_id,
                                event_type=event_type, action_attempt_id=row.action_attempt_id,
                                action_type=row.action_type, status="error",
                                device_id=row.device_id,
                                connected_account_id=accounts.get(row.device_id))
    return len(expired)


async def expire_sweep(rt: Runtime) -> int:
    """The engine's periodic pass: expire every over-age pending attempt, in batches."""
    total = 0
    while True:
        now = rt.clock.now()
        cutoff = _cutoff(rt, now)
        async with rt.db.read() as conn:
            # A cheap indexed probe first, so an idle sweep never takes the write lock.
            any_late = (await conn.execute(select(A.c.action_attempt_id).where(
                A.c.status == "pending", A.c.created_at < cutoff).limit(1))).first()
        if any_late is None:
            break
        async with rt.db.write() as conn:
            count = await expire_overdue(conn, now=now, cutoff=cutoff)
        total += count
        if count < EXPIRE_BATCH:
            break
    if total:
        rt.announce_resolution()
    return total


def settled(attempt_id: str, action_type: str, error_type: str | None,
            device_id: str | None) -> None:
    """One log line and the metrics of an attempt settled (as it is recorded, in the settling
    transaction)."""
    outcome = "error" if error_type else "success"
    metrics.ACTION_ATTEMPTS.labels(action_type, outcome, error_type or "").inc()
    if log.isEnabledFor(logging.INFO):
        log.info("action_attempt %s %s settled: %s%s", attempt_id, action_type, outcome,
                 f" ({error_type})" if error_type else "",
                 extra={"action_attempt_id": attempt_id, "action_type": action_type,
                        "outcome": outcome, "error_type": error_type, "device_id": device_id})


async def resolve(conn: AsyncConnection, *, now: datetime, row: Any, succeeded: bool,
                  result: dict[str, Any] | None = None, error_type: str = "",
                  message: str = "", connected_account_id: str | None = None) -> bool:
    """Settle a pending attempt and record its event. False if it was already settled."""
    values: dict[str, Any] = {"status": "success" if succeeded else "error", "updated_at": now}
    if succeeded:
        values["result"] = result or {}
    else:
        values["error"] = {"type": error_type, "message": message}
    changed = (await conn.execute(update(A).where(
        A.c.action_attempt_id == row.action_attempt_id, A.c.status == "pending",
    ).values(**values))).rowcount
    if not changed:
        return False
    settled(row.action_attempt_id, row.action_type, error_type if not succeeded else None,
            row.device_id)
    event_type = action_event_type(row.action_type, succeeded)
    if event_type:
        await events.record(conn, now=now, workspace_id=row.workspace_id, event_type=event_type,
                            action_attempt_id=row.action_attempt_id,
                            action_type=row.action_type, status=values["status"],
                            device_id=row.device_id,
                            connected_account_id=connected_account_id)
    return True


async def wait_until_settled(rt: Runtime, workspace_id: str, attempt_id: str,
                             timeout: float) -> ActionAttempt:
    """For `sync: true`: wait for the engine (in this process or another) to settle it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        signal = rt.attempt_resolved
        attempt = await get(rt, workspace_id, attempt_id)
        remaining = deadline - loop.time()
        if attempt.status != "pending" or remaining <= 0:
            return attempt
        try:
            # Woken at once by an in-process engine; re-reads catch out-of-process workers.
            await asyncio.wait_for(signal.wait(), timeout=min(0.1, remaining))
        except TimeoutError:
            pass


async def overwrite(rt: Runtime, workspace_id: str, attempt_id: str, *, status: str,
                    result: dict[str, Any] | None, error: dict[str, Any] | None) -> ActionAttempt:
    """Test hook compatible with the fake server: set an attempt's outcome directly.

    Setting a settled attempt back to `pending` (the SDK's own tests do it to make a client time
    out) also queues engine work for it: once the action-attempt timeout has passed, the engine
    settles it as `action_attempt_expired`, so no attempt is left pending with nothing to end it.
    """
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, attempt_id)
        if status == "pending" and row.status != "pending":
            # engine/actions.run_action_attempt expires, without acting, an attempt this old.
            expires = now + timedelta(seconds=rt.settings.action_attempt_timeout_seconds + 1)
            await job_queue.enqueue(conn, now=now, workspace_id=workspace_id, kind="action_attempt",
                               key=f"action_attempt:{attempt_id}",
                               payload={"action_attempt_id": attempt_id}, run_at=expires)
        await conn.execute(update(A).where(A.c.action_attempt_id == attempt_id).values(
            status=status, result=result if status == "success" else None,
            error=error if status == "error" else None, updated_at=now))
        row = await get_row(conn, workspace_id, attempt_id)
    rt.announce_resolution()
    return to_attempt(row)
