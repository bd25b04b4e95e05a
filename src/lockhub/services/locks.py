"""Lock and unlock: validate now, persist a pending attempt and its engine job, answer at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.domain.devices import capability_flags
from lockhub.domain.objects import ActionAttempt
from lockhub.domain.rate_limits import WINDOW_SECONDS, limit_for
from lockhub.errors import LockhubError, RateLimited
from lockhub.services import action_attempts, devices
from lockhub.services.runtime import Runtime
from lockhub.store.tables import action_attempts as attempts_table
from lockhub.store.types import UtcDateTime

_CAPABILITY = {"LOCK_DOOR": "can_remotely_lock", "UNLOCK_DOOR": "can_remotely_unlock",
               "CONFIGURE_AUTO_LOCK": "can_configure_auto_lock"}
_CANNOT = {"LOCK_DOOR": "be locked remotely", "UNLOCK_DOOR": "be unlocked remotely",
           "CONFIGURE_AUTO_LOCK": "have its auto-lock configured"}
# When auto-lock is switched on without a delay and the lock has none yet.
DEFAULT_AUTO_LOCK_DELAY_SECONDS = 30.0


async def configure_auto_lock(rt: Runtime, workspace_id: str, device_id: str, *,
                              enabled: bool, delay_seconds: float | None) -> ActionAttempt:
    """The lock's own auto-lock, set by the engine like any action; without a delay the lock
    keeps the one it has (or DEFAULT_AUTO_LOCK_DELAY_SECONDS)."""
    return await request_action(rt, workspace_id, device_id, "CONFIGURE_AUTO_LOCK", sync=False,
                                payload={"auto_lock_enabled": enabled,
                                         "auto_lock_delay_seconds": delay_seconds})


async def request_action(rt: Runtime, workspace_id: str, device_id: str, action_type: str,
                         *, sync: bool, payload: dict[str, Any] | None = None) -> ActionAttempt:
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await devices.get_row(conn, workspace_id, device_id=device_id)
        model = devices.model_of(row)
        flag = _CAPABILITY[action_type]
        if not capability_flags(model, row.state)[flag]:
            raise LockhubError(
                f"This device cannot {_CANNOT[action_type]} ({flag} is false).",
                error_type="device_cannot_perform_action",
                data={"device_id": device_id, "capability": flag},
            )
        await enforce_rate_limit(conn, device_id, action_type, now)
        attempt = await action_attempts.start(conn, now=now, workspace_id=workspace_id,
                                              action_type=action_type, device_id=device_id,
                                              payload=payload)
    return await action_attempts.answer(rt, workspace_id, attempt, sync)


_RECENT = select(func.count(), func.min(attempts_table.c.created_at)).where(
    attempts_table.c.device_id == bindparam("device_id"),
    attempts_table.c.action_type == bindparam("action_type"),
    attempts_table.c.created_at > bindparam("window_start", type_=UtcDateTime()))


async def enforce_rate_limit(conn: AsyncConnection, device_id: str, action_type: str,
                             now: datetime) -> None:
    """Count this device's recent attempts of the type; over the limit is a 429.

    Counted in the database, so the limit holds across several API processes.
    """
    limit = limit_for(action_type)
    if limit is None:
        return
    window_start = now - timedelta(seconds=WINDOW_SECONDS)
    recent = (await conn.execute(_RECENT, {"device_id": device_id, "action_type": action_type,
                                           "window_start": window_start})).one()
    if recent[0] >= limit:
        retry_after = max(1, int((recent[1] - window_start).total_seconds()) + 1)
        raise RateLimited(
            f"Too many {action_type} requests for this device: at most {limit} per minute.",
            data={"device_id": device_id}, headers={"Retry-After": str(retry_after)})


SIMULATIONS = ("SIMULATE_KEYPAD_CODE_ENTRY", "SIMULATE_MANUAL_LOCK_VIA_KEYPAD")


async def request_simulation(rt: Runtime, workspace_id: str, device_id: str, action_type: str,
                             payload: dict[str, str]) -> ActionAttempt:
    """Sandbox: someone at the keypad. Carried out by the engine like any action."""
    from lockhub.services.sandbox import require_sandbox

    now = rt.clock.now()
    async with rt.db.write() as conn:
        await require_sandbox(conn, workspace_id)
        row = await devices.get_row(conn, workspace_id, device_id=device_id)
        model = devices.model_of(row)
        if action_type == "SIMULATE_KEYPAD_CODE_ENTRY" and not (
                model.has_built_in_keypad or model.can_connect_accessory_keypad):
            raise LockhubError("This device has no keypad (can_unlock_with_code is false).",
                               error_type="device_cannot_perform_action",
                               data={"device_id": device_id, "capability": "can_unlock_with_code"})
        attempt = await action_attempts.start(conn, now=now, workspace_id=workspace_id,
                                              action_type=action_type, device_id=device_id,
                                              payload=payload)
    return await action_attempts.answer(rt, workspace_id, attempt, sync=False)
