"""Lock and unlock: validate now, persist a pending attempt and its engine job, answer at once."""

from __future__ import annotations

from lockhub.catalogue import brand as catalogue_brand
from lockhub.domain.devices import capability_flags
from lockhub.domain.objects import ActionAttempt
from lockhub.engine import jobs
from lockhub.errors import LockhubError
from lockhub.services import action_attempts, devices
from lockhub.services.runtime import Runtime

ACTION_KIND = "action_attempt"
_CAPABILITY = {"LOCK_DOOR": "can_remotely_lock", "UNLOCK_DOOR": "can_remotely_unlock"}
_VERB = {"LOCK_DOOR": "locked", "UNLOCK_DOOR": "unlocked"}


async def request_action(rt: Runtime, workspace_id: str, device_id: str, action_type: str,
                         *, sync: bool) -> ActionAttempt:
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await devices.get_row(conn, workspace_id, device_id=device_id)
        model = catalogue_brand(row.brand).models[row.model]
        flag = _CAPABILITY[action_type]
        if not capability_flags(model, row.state)[flag]:
            raise LockhubError(
                f"This device cannot be {_VERB[action_type]} remotely ({flag} is false).",
                error_type="device_cannot_perform_action",
                data={"device_id": device_id, "capability": flag},
            )
        attempt = await action_attempts.create(conn, now=now, workspace_id=workspace_id,
                                               action_type=action_type, device_id=device_id)
        await jobs.enqueue(conn, now=now, workspace_id=workspace_id, kind=ACTION_KIND,
                           key=f"device:{device_id}",
                           payload={"action_attempt_id": attempt.action_attempt_id})
    rt.wake_engine()
    if sync:
        return await action_attempts.wait_until_settled(
            rt, workspace_id, attempt.action_attempt_id, rt.settings.sync_wait_seconds)
    return attempt
