"""Backup access codes: spare PINs kept programmed on the lock, handed out when a guest's own
code fails. A pool member is a managed code with `is_backup` and no `backup_for_access_code_id`;
it is hidden from lists until it is pulled. The pool refills itself after each pull.

Decision: the pool holds POOL_SIZE codes per device (Seam does not document a size).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.clock import iso
from lockhub.domain import access_codes as rules
from lockhub.domain.objects import AccessCode
from lockhub.errors import LockhubError
from lockhub.ids import new_id
from lockhub.services import access_codes as code_service
from lockhub.services import devices as device_service
from lockhub.services import events
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import WorkspaceClock, workspace_clock
from lockhub.store.tables import access_codes, devices

A = access_codes
POOL_SIZE = 3


def _pool(device_id: str) -> list[Any]:
    return [A.c.device_id == device_id, A.c.is_backup.is_(True),
            A.c.backup_for_access_code_id.is_(None), A.c.deleting.is_(False)]


async def enable(conn: AsyncConnection, clock: WorkspaceClock, device: Any) -> None:
    """Turn the pool on for a device (once; Seam documents it as not reversible)."""
    model = device_service.model_of(device)
    if not model.supports_backup_access_code_pool:
        raise LockhubError("This device does not support a backup access code pool.",
                           error_type="backup_access_code_pool_not_supported",
                           data={"device_id": device.device_id})
    if not device.backup_pool_enabled:
        await conn.execute(update(devices).where(devices.c.device_id == device.device_id)
                           .values(backup_pool_enabled=True))
    await refill(conn, clock, device)


async def refill(conn: AsyncConnection, clock: WorkspaceClock, device: Any) -> None:
    model = device_service.model_of(device)
    have = (await conn.execute(select(func.count()).where(*_pool(device.device_id)))).scalar_one()
    taken = [r.code for r in (await conn.execute(select(A.c.code).where(
        A.c.device_id == device.device_id, A.c.code.is_not(None)))).all()]
    for _ in range(POOL_SIZE - have):
        pin = rules.generate_pin(model, taken=taken)
        taken.append(pin)
        access_code_id = new_id()
        await conn.execute(A.insert().values(
            access_code_id=access_code_id, workspace_id=device.workspace_id,
            device_id=device.device_id, is_managed=True, name=f"Backup {access_code_id[:8]}",
            code=pin, status="setting", is_backup=True, errors=[], warnings=[],
            pending_mutations=[{"mutation_code": "creating", "created_at": iso(clock.real_now),
                                "message": "The backup code is being set on the device."}],
            failures=0, created_at=clock.real_now))
        await code_service.schedule_sync(conn, clock, workspace_id=device.workspace_id,
                                         device_id=device.device_id,
                                         access_code_id=access_code_id)


async def pull(rt: Runtime, workspace_id: str, access_code_id: str) -> AccessCode:
    """Hand out a backup code for a time-bound code; repeating the call returns the same one."""
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        original = await code_service.get_row(conn, workspace_id, managed=True,
                                              access_code_id=access_code_id)
        if original.pulled_backup_access_code_id:
            backup = await code_service.get_row(
                conn, workspace_id, managed=True,
                access_code_id=original.pulled_backup_access_code_id)
            return code_service.to_access_code(backup)
        if original.starts_at is None:
            raise LockhubError("Backup codes are only for time-bound codes.",
                               error_type="access_code_not_time_bound")
        if not original.use_backup_pool:
            raise LockhubError("This code was not created with use_backup_access_code_pool.",
                               error_type="backup_access_code_pool_not_enabled")
        device = await device_service.get_row(conn, workspace_id, device_id=original.device_id)
        backup = (await conn.execute(select(A).where(
            *_pool(original.device_id), A.c.status == "set").order_by(A.c.created_at)
            .limit(1))).first()
        if backup is None:
            raise LockhubError("No backup code is ready on this device.",
                               error_type="empty_backup_access_code_pool",
                               data={"device_id": original.device_id})
        now = clock.real_now
        await conn.execute(update(A).where(A.c.access_code_id == backup.access_code_id).values(
            backup_for_access_code_id=original.access_code_id, name=original.name,
            starts_at=clock.now, ends_at=original.ends_at))
        warning = {"warning_code": "using_backup_access_code", "created_at": iso(now),
                   "message": "A backup code was pulled and replaces this code."}
        await conn.execute(update(A).where(A.c.access_code_id == original.access_code_id).values(
            pulled_backup_access_code_id=backup.access_code_id,
            warnings=list(original.warnings) + [warning]))
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="access_code.backup_access_code_pulled",
                            access_code_id=original.access_code_id,
                            device_id=original.device_id,
                            connected_account_id=device.connected_account_id,
                            backup_access_code_id=backup.access_code_id)
        # The backup is removed at the original's ends_at, like any time-bound code.
        await code_service.schedule_sync(conn, clock, workspace_id=workspace_id,
                                         device_id=original.device_id,
                                         access_code_id=backup.access_code_id)
        await refill(conn, clock, device)
        pulled = await code_service.get_row(conn, workspace_id, managed=True,
                                            access_code_id=backup.access_code_id)
    rt.wake_engine()
    return code_service.to_access_code(pulled)
