"""What a live connection reports, turned into devices' state and Seam's events.

Radio providers (Z-Wave JS, Zigbee2MQTT) learn of changes when the lock says so: a keypad
entry, a turn of the thumb-turn, a battery report, a node that stops answering, a PIN typed in
at the lock. Each report is applied in one transaction with the events it means, exactly as the
sandbox's own changes are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.engine.device_codes import schedule_device_sync
from lockhub.providers.base import (
    AccessDeniedReport,
    ClimateAdjustedReport,
    CodesChangedReport,
    ConnectionReport,
    DeviceListReport,
    DeviceSnapshot,
    DeviceStateReport,
    LockOperationReport,
    Report,
)
from lockhub.services import connected_accounts as account_service
from lockhub.services import devices as device_service
from lockhub.services import events, thermostats
from lockhub.services.runtime import Runtime
from lockhub.store.tables import access_codes, connected_accounts, devices


async def apply(rt: Runtime, connected_account_id: str, report: Report) -> None:
    """Apply one report from the account's live connection (unknown devices are ignored)."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        account = (await conn.execute(select(connected_accounts).where(
            connected_accounts.c.connected_account_id == connected_account_id))).first()
        if account is None:
            return
        if isinstance(report, ConnectionReport):
            await _connection(rt, conn, now, account, report)
        elif isinstance(report, DeviceListReport):
            await _device_list(rt, conn, now, account, report.devices)
        elif isinstance(report, DeviceStateReport):
            row = await _device(conn, account, report.snapshot.provider_device_id)
            if row is not None:
                await device_service.apply_snapshot(conn, now=now, row=row,
                                                    state=device_service.merged_state(row, report.snapshot))
        elif isinstance(report, LockOperationReport):
            await _lock_operation(conn, now, account, report)
        elif isinstance(report, AccessDeniedReport):
            await _access_denied(conn, now, account, report)
        elif isinstance(report, ClimateAdjustedReport):
            row = await _device(conn, account, report.provider_device_id)
            if row is not None and row.kind == "thermostat":
                await thermostats.record_external_adjustment(
                    conn, now=now, row=row, fields=thermostats.current_setting_fields(row))
        elif isinstance(report, CodesChangedReport):
            row = await _device(conn, account, report.provider_device_id)
            if row is not None:
                await schedule_device_sync(conn, now=now, workspace_id=row.workspace_id,
                                           device_id=row.device_id)
    # Reports that may have queued work wake the engine; the frequent state and lock reports
    # only do when a device came back (its codes are reconciled: the poll picks them up too).
    if not isinstance(report, (LockOperationReport, AccessDeniedReport, DeviceStateReport)):
        rt.wake_engine()


async def _device(conn: AsyncConnection, account: Any, provider_device_id: str) -> Any:
    return (await conn.execute(select(devices).where(
        devices.c.connected_account_id == account.connected_account_id,
        devices.c.provider_device_id == provider_device_id))).first()


async def _connection(rt: Runtime, conn: AsyncConnection, now: datetime, account: Any,
                      report: ConnectionReport) -> None:
    disconnected = any(e.get("error_code") == account_service.ACCOUNT_DISCONNECTED
                       for e in account.errors)
    if not report.connected and not disconnected:
        await account_service.mark_disconnected(
            conn, now=now, row=account,
            message=report.message or "The connection to the controller or broker is lost.")
    elif report.connected and disconnected:
        await account_service.mark_reconnected(conn, rt, row=account)


async def _device_list(rt: Runtime, conn: AsyncConnection, now: datetime, account: Any,
                       snapshots: list[DeviceSnapshot]) -> None:
    known = {r.provider_device_id: r for r in (await conn.execute(select(devices).where(
        devices.c.connected_account_id == account.connected_account_id))).all()}
    seen = set()
    for position, snapshot in enumerate(snapshots):
        seen.add(snapshot.provider_device_id)
        row = known.get(snapshot.provider_device_id)
        if row is None:
            device_id = account_service.stable_device_id(account.workspace_id,
                                                         snapshot.provider_device_id)
            await account_service.insert_device(
                rt, conn, account.workspace_id, account.connected_account_id, device_id,
                snapshot, nickname=None, managed=account.automatically_manage_new_devices,
                position=position)
        else:
            await device_service.apply_snapshot(conn, now=now, row=row,
                                                state=device_service.merged_state(row, snapshot))
    for provider_device_id, row in known.items():
        if provider_device_id not in seen and not row.state.get("removed"):
            # Excluded from the network: kept with device_removed until it comes back.
            await device_service.apply_snapshot(conn, now=now, row=row,
                                                state={**row.state, "removed": True})


async def _code_at(conn: AsyncConnection, device_id: str, ref: str | None) -> Any:
    """The access code stored on the device under the provider's reference `ref`."""
    if ref is None:
        return None
    return (await conn.execute(select(access_codes).where(
        access_codes.c.device_id == device_id, access_codes.c.device_ref == ref))).first()


async def _lock_operation(conn: AsyncConnection, now: datetime, account: Any,
                          report: LockOperationReport) -> None:
    row = await _device(conn, account, report.provider_device_id)
    if row is None:
        return
    if row.state.get("locked") != report.locked or row.state.get("jammed"):
        state = {**row.state, "locked": report.locked}
        state.pop("jammed", None)
        await conn.execute(update(devices).where(devices.c.device_id == row.device_id)
                           .values(state=state))
    fields: dict[str, Any] = {"method": report.method}
    if report.method == "keycode":
        code = await _code_at(conn, row.device_id, report.code_ref)
        if code is not None:
            fields.update(access_code_id=code.access_code_id,
                          access_code_is_managed=bool(code.is_managed))
    await events.record(conn, now=now, occurred_at=_not_after(report.occurred_at, now),
                        workspace_id=row.workspace_id,
                        event_type="lock.locked" if report.locked else "lock.unlocked",
                        device_id=row.device_id,
                        connected_account_id=row.connected_account_id, **fields)


async def _access_denied(conn: AsyncConnection, now: datetime, account: Any,
                         report: AccessDeniedReport) -> None:
    row = await _device(conn, account, report.provider_device_id)
    if row is None:
        return
    code = await _code_at(conn, row.device_id, report.code_ref)
    reason = ({"reason_code": "expired_code", "message": "The code is not valid at this time."}
              if code is not None else
              {"reason_code": "unknown_code", "message": "No code on the lock matches."})
    await events.record(conn, now=now, occurred_at=_not_after(report.occurred_at, now),
                        workspace_id=row.workspace_id, event_type="lock.access_denied",
                        device_id=row.device_id, connected_account_id=row.connected_account_id,
                        access_code_id=code.access_code_id if code is not None else None,
                        reason=reason)


def _not_after(occurred_at: datetime | None, now: datetime) -> datetime | None:
    """A device's own timestamp, unless its clock runs ahead of ours."""
    if occurred_at is None or occurred_at > now + timedelta(seconds=1):
        return None
    return occurred_at

