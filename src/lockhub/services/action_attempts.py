"""Action attempts: persisted `pending` at once, resolved by the engine, readable forever."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.domain.events import action_event_type
from lockhub.domain.objects import ActionAttempt, ActionAttemptError
from lockhub.engine import jobs
from lockhub.ids import new_id
from lockhub.services import events
from lockhub.services.runtime import Runtime
from lockhub.store.keyset import keyset_page
from lockhub.store.owned import owned_row
from lockhub.store.tables import action_attempts

A = action_attempts


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


async def get(rt: Runtime, workspace_id: str, attempt_id: str) -> ActionAttempt:
    async with rt.db.read() as conn:
        return to_attempt(await get_row(conn, workspace_id, attempt_id))


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
    return [to_attempt(r) for r in rows], next_after


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
            await jobs.enqueue(conn, now=now, workspace_id=workspace_id, kind="action_attempt",
                               key=f"action_attempt:{attempt_id}",
                               payload={"action_attempt_id": attempt_id}, run_at=expires)
        await conn.execute(update(A).where(A.c.action_attempt_id == attempt_id).values(
            status=status, result=result if status == "success" else None,
            error=error if status == "error" else None, updated_at=now))
        row = await get_row(conn, workspace_id, attempt_id)
    rt.announce_resolution()
    return to_attempt(row)
