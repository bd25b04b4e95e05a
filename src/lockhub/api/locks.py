"""/locks/lock_door and /locks/unlock_door"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.routing import route
from lockhub.domain.objects import ActionAttempt
from lockhub.services import locks


class LockActionParams(msgspec.Struct):
    device_id: str
    sync: bool = False


@route("/locks/lock_door", params=LockActionParams, response_key="action_attempt",
       response=ActionAttempt, client_session=True)
async def lock_door(ctx: Ctx, params: LockActionParams) -> ActionAttempt:
    """Lock a door; returns a pending action attempt (or a settled one with sync)."""
    return await locks.request_action(ctx.rt, ctx.workspace_id, params.device_id, "LOCK_DOOR",
                                      sync=params.sync)


@route("/locks/unlock_door", params=LockActionParams, response_key="action_attempt",
       response=ActionAttempt, client_session=True)
async def unlock_door(ctx: Ctx, params: LockActionParams) -> ActionAttempt:
    """Unlock a door; returns a pending action attempt (or a settled one with sync)."""
    return await locks.request_action(ctx.rt, ctx.workspace_id, params.device_id, "UNLOCK_DOOR",
                                      sync=params.sync)


class ConfigureAutoLockParams(msgspec.Struct):
    device_id: str
    auto_lock_enabled: bool
    # Seam gives no bounds; a day is more than any lock takes.
    auto_lock_delay_seconds: Annotated[float, Meta(gt=0, le=86_400)] | UnsetType = UNSET


@route("/locks/configure_auto_lock", params=ConfigureAutoLockParams,
       response_key="action_attempt", response=ActionAttempt, client_session=True)
async def configure_auto_lock(ctx: Ctx, params: ConfigureAutoLockParams) -> ActionAttempt:
    """Switch the lock's own auto-lock on (relock a delay after any unlock) or off; returns a
    pending action attempt, and the device reports the setting once the lock has it."""
    return await locks.configure_auto_lock(
        ctx.rt, ctx.workspace_id, params.device_id, enabled=params.auto_lock_enabled,
        delay_seconds=None if params.auto_lock_delay_seconds is UNSET
        else params.auto_lock_delay_seconds)


class KeypadEntryParams(msgspec.Struct):
    device_id: str
    code: str


class ManualLockParams(msgspec.Struct):
    device_id: str


@route("/locks/simulate/keypad_code_entry", params=KeypadEntryParams,
       response_key="action_attempt", response=ActionAttempt, sandbox_only=True)
async def simulate_keypad_code_entry(ctx: Ctx, params: KeypadEntryParams) -> ActionAttempt:
    """Sandbox: someone types a PIN on the lock's keypad."""
    return await locks.request_simulation(ctx.rt, ctx.workspace_id, params.device_id,
                                          "SIMULATE_KEYPAD_CODE_ENTRY", {"code": params.code})


@route("/locks/simulate/manual_lock_via_keypad", params=ManualLockParams,
       response_key="action_attempt", response=ActionAttempt, sandbox_only=True)
async def simulate_manual_lock_via_keypad(ctx: Ctx, params: ManualLockParams) -> ActionAttempt:
    """Sandbox: someone locks the door from the keypad."""
    return await locks.request_simulation(ctx.rt, ctx.workspace_id, params.device_id,
                                          "SIMULATE_MANUAL_LOCK_VIA_KEYPAD", {})
