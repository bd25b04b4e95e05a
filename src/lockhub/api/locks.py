"""/locks/lock_door and /locks/unlock_door"""

from __future__ import annotations

import msgspec

from lockhub.api.context import Ctx
from lockhub.api.routing import route
from lockhub.domain.objects import ActionAttempt
from lockhub.services import locks


class LockActionParams(msgspec.Struct):
    device_id: str
    sync: bool = False


@route("/locks/lock_door", params=LockActionParams, response_key="action_attempt",
       response=ActionAttempt)
async def lock_door(ctx: Ctx, params: LockActionParams) -> ActionAttempt:
    """Lock a door; returns a pending action attempt (or a settled one with sync)."""
    return await locks.request_action(ctx.rt, ctx.workspace_id, params.device_id, "LOCK_DOOR",
                                      sync=params.sync)


@route("/locks/unlock_door", params=LockActionParams, response_key="action_attempt",
       response=ActionAttempt)
async def unlock_door(ctx: Ctx, params: LockActionParams) -> ActionAttempt:
    """Unlock a door; returns a pending action attempt (or a settled one with sync)."""
    return await locks.request_action(ctx.rt, ctx.workspace_id, params.device_id, "UNLOCK_DOOR",
                                      sync=params.sync)
