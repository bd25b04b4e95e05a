"""Reading a lock's PINs back: codes added at the lock become unmanaged codes, managed codes
changed or removed at the lock are flagged (and restored unless external changes are allowed),
unmanaged codes that vanished are dropped.

A lock whose brand cannot list its PINs (CodesNotListable) is never compared: lockhub trusts the
PINs it set as set and finds no unmanaged ones, rather than concluding that codes vanished.

Runs per device (serialised with that device's code operations), on demand and periodically.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.clock import iso
from lockhub.engine.jobs import Job, backoff, ensure, finish, reschedule
from lockhub.ids import new_id
from lockhub.providers.base import CodeOnDevice, CodesNotListable, ProviderError
from lockhub.providers.refs import device_ref
from lockhub.services import access_codes as code_service
from lockhub.services import events
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import WorkspaceClock, workspace_clock
from lockhub.store.tables import access_codes, connected_accounts, devices

A = access_codes
KIND = "device_codes"
PROVIDER_TIMEOUT_SECONDS = 30.0


def job_id_for(device_id: str) -> str:
    return f"device_codes:{device_id}"


async def schedule_device_sync(conn: AsyncConnection, *, now: Any, workspace_id: str,
                               device_id: str, delay_seconds: float = 0.0) -> None:
    await ensure(conn, job_id=job_id_for(device_id), now=now, workspace_id=workspace_id,
                 kind=KIND, key=f"device:{device_id}", payload={"device_id": device_id},
                 run_at=now + timedelta(seconds=delay_seconds))


async def sync_device_codes(rt: Runtime, job: Job) -> None:
    device_id = job.payload["device_id"]
    async with rt.db.read() as conn:
        device = (await conn.execute(select(devices).where(
            devices.c.device_id == device_id))).first()
        account = (await conn.execute(select(connected_accounts).where(
            connected_accounts.c.connected_account_id == device.connected_account_id,
        ))).first() if device is not None else None
        clock = await workspace_clock(conn, device.workspace_id, rt.clock.now()) \
            if device is not None else None
    if device is None or account is None or clock is None:
        async with rt.db.write() as conn:
            await finish(conn, job)
        return
    provider = rt.providers.get(account.provider)
    ref = device_ref(rt.settings, device, account)
    try:
        on_lock = await asyncio.wait_for(provider.list_codes(ref), PROVIDER_TIMEOUT_SECONDS)
    except CodesNotListable:
        async with rt.db.write() as conn:
            await finish(conn, job)
        return
    except (ProviderError, TimeoutError):
        async with rt.db.write() as conn:
            await reschedule(conn, job, clock.real_now + timedelta(
                seconds=min(300.0, 1.0 + backoff(job.attempts))))
        return
    async with rt.db.write() as conn:
        await _compare(conn, clock, device, on_lock)
        await reschedule(conn, job, clock.real_now + timedelta(
            seconds=rt.settings.device_sync_seconds))
    rt.wake_engine()


def _fields(row: Any, found: CodeOnDevice) -> list[dict[str, Any]]:
    """What changed at the lock; a field the lock does not reveal (None) is not a change."""
    expected = row.on_device or {}
    changed = []
    for field in ("code", "name"):
        if getattr(found, field) is None:
            continue
        if expected.get(field) != getattr(found, field):
            changed.append({"field": field, "from": expected.get(field),
                            "to": getattr(found, field)})
    return changed


async def _compare(conn: AsyncConnection, clock: WorkspaceClock, device: Any,
                   on_lock: list[CodeOnDevice]) -> None:
    # Only codes placed on the lock can be compared with the lock (an index range, however many
    # codes are still waiting for their window).
    rows = (await conn.execute(select(A).where(
        A.c.device_id == device.device_id, A.c.device_ref.is_not(None),
        A.c.is_offline_access_code.is_(False)))).all()
    by_ref = {r.device_ref: r for r in rows}
    # Offline codes are never on the lock, though some makers list the PINs they issued.
    issued = set((await conn.execute(select(A.c.device_ref).where(
        A.c.device_id == device.device_id, A.c.device_ref.is_not(None),
        A.c.is_offline_access_code.is_(True)))).scalars())
    seen: set[str] = set()
    common = {"device_id": device.device_id, "connected_account_id": device.connected_account_id}
    now = clock.real_now

    async def record(event_type: str, access_code_id: str, **fields: Any) -> None:
        await events.record(conn, now=now, workspace_id=device.workspace_id,
                            event_type=event_type, access_code_id=access_code_id, **common,
                            **fields)

    for found in on_lock:
        if found.ref is None or found.ref in issued:
            continue
        seen.add(found.ref)
        row = by_ref.get(found.ref)
        if row is None:
            # Written by a run that crashed before recording it: adopt; otherwise it is a PIN
            # someone added at the lock.
            pending = (await conn.execute(select(A.c.access_code_id).where(
                A.c.device_id == device.device_id, A.c.device_ref.is_(None),
                A.c.is_managed.is_(True), A.c.deleting.is_(False),
                A.c.is_offline_access_code.is_(False), A.c.code == found.code).limit(1))).first()
            if pending is not None:
                await conn.execute(update(A).where(
                    A.c.access_code_id == pending.access_code_id).values(
                    device_ref=found.ref, on_device={"code": found.code, "name": found.name}))
                continue
            access_code_id = new_id()
            await conn.execute(A.insert().values(
                access_code_id=access_code_id, workspace_id=device.workspace_id,
                device_id=device.device_id, is_managed=False, name=found.name, code=found.code,
                starts_at=found.starts_at, ends_at=found.ends_at, status="set",
                device_ref=found.ref, on_device={"code": found.code, "name": found.name},
                errors=[], warnings=[], pending_mutations=[], failures=0, created_at=now))
            await record("access_code.unmanaged.created", access_code_id)
            continue
        changed = _fields(row, found)
        if not changed:
            continue
        if not row.is_managed:
            await conn.execute(update(A).where(A.c.access_code_id == row.access_code_id).values(
                code=found.code, name=found.name,
                on_device={"code": found.code, "name": found.name}))
            continue
        await _modified_at_lock(conn, clock, row, found, changed, record)
    for row in rows:
        if row.device_ref in seen:
            continue
        if not row.is_managed:
            await code_service.remove_row(conn, clock, row)
        elif row.deleting:
            continue  # the reconciler finishes the deletion
        else:
            await _removed_at_lock(conn, clock, row, record)


async def _modified_at_lock(conn: AsyncConnection, clock: WorkspaceClock, row: Any,
                            found: CodeOnDevice, changed: list[dict[str, Any]],
                            record: Any) -> None:
    now = iso(clock.real_now)
    await record("access_code.modified_external_to_seam", row.access_code_id)
    if row.is_external_modification_allowed:
        warning = {"warning_code": "external_modification_in_effect", "created_at": now,
                   "message": "The code was changed at the lock; the change is kept.",
                   "change_type": "modified", "modified_fields": changed}
        await conn.execute(update(A).where(A.c.access_code_id == row.access_code_id).values(
            code=found.code, name=found.name,
            on_device={**(row.on_device or {}), "code": found.code, "name": found.name},
            warnings=[w for w in row.warnings
                      if w["warning_code"] != "external_modification_in_effect"] + [warning]))
        return
    error = {"error_code": "conflicting_external_modification", "is_access_code_error": True,
             "created_at": now, "change_type": "modified", "modified_fields": changed,
             "message": "The code was changed at the lock; lockhub is setting it back."}
    await conn.execute(update(A).where(A.c.access_code_id == row.access_code_id).values(
        on_device={**(row.on_device or {}), "code": found.code, "name": found.name},
        errors=[e for e in row.errors if e["error_code"] != error["error_code"]] + [error]))
    await code_service.schedule_sync(conn, clock, workspace_id=row.workspace_id,
                                     device_id=row.device_id, access_code_id=row.access_code_id)


async def _removed_at_lock(conn: AsyncConnection, clock: WorkspaceClock, row: Any,
                           record: Any) -> None:
    await record("access_code.deleted_external_to_seam", row.access_code_id)
    if row.is_external_modification_allowed:
        await code_service.remove_row(conn, clock, row)
        return
    error = {"error_code": "conflicting_external_modification", "is_access_code_error": True,
             "created_at": iso(clock.real_now), "change_type": "removed", "modified_fields": [],
             "message": "The code was removed at the lock; lockhub is setting it again."}
    await conn.execute(update(A).where(A.c.access_code_id == row.access_code_id).values(
        device_ref=None, on_device=None, status="setting",
        errors=[e for e in row.errors if e["error_code"] != error["error_code"]] + [error]))
    await code_service.schedule_sync(conn, clock, workspace_id=row.workspace_id,
                                     device_id=row.device_id, access_code_id=row.access_code_id)
