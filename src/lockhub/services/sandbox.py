"""Sandbox-only operations: the physical world around a virtual lock (someone at the keypad,
a PIN added in the manufacturer's app), the workspace clock, and fault injection.

They act on the virtual lock through the sandbox provider, the way the world acts on a real
lock; lockhub then learns of the change through its normal paths.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.domain.access_codes import is_pin
from lockhub.domain.objects import UnmanagedAccessCode
from lockhub.engine.device_codes import schedule_device_sync
from lockhub.engine.device_reports import schedule_report
from lockhub.errors import LockhubError
from lockhub.ids import new_id
from lockhub.providers.base import CodeOnDevice, DeviceRef, ProviderError
from lockhub.providers.refs import device_ref
from lockhub.providers.sandbox import SandboxProvider
from lockhub.services import access_codes as code_service
from lockhub.services import devices as device_service
from lockhub.services import events, noise_sensors, thermostats
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import WorkspaceClock, set_clock, workspace_clock
from lockhub.store.tables import access_codes, connected_accounts, devices, workspaces


async def require_sandbox(conn: AsyncConnection, workspace_id: str) -> None:
    row = (await conn.execute(select(workspaces.c.is_sandbox).where(
        workspaces.c.workspace_id == workspace_id))).first()
    if row is None or not row.is_sandbox:
        raise LockhubError("This route is only available in sandbox workspaces.",
                           error_type="workspace_not_sandbox")


async def sandbox_device(rt: Runtime, conn: AsyncConnection, workspace_id: str,
                         device_id: str) -> tuple[Any, DeviceRef, SandboxProvider]:
    await require_sandbox(conn, workspace_id)
    device = await device_service.get_row(conn, workspace_id, device_id=device_id, managed=None)
    account = (await conn.execute(select(connected_accounts).where(
        connected_accounts.c.connected_account_id == device.connected_account_id))).one()
    provider = rt.providers.get(account.provider)
    if not isinstance(provider, SandboxProvider):
        raise LockhubError("This device is not a virtual sandbox device.",
                           error_type="device_not_sandbox")
    ref = device_ref(rt.settings, device, account)
    return device, ref, provider


async def create_unmanaged_code(rt: Runtime, workspace_id: str, device_id: str, code: str,
                                name: str) -> UnmanagedAccessCode:
    """A PIN appears on the lock behind lockhub's back; lockhub lists it as unmanaged."""
    async with rt.db.read() as conn:
        device, ref, provider = await sandbox_device(rt, conn, workspace_id, device_id)
        clash = (await conn.execute(select(access_codes.c.access_code_id).where(
            access_codes.c.device_id == device_id, access_codes.c.code == code))).first()
    if clash is not None or not is_pin(code):
        raise LockhubError(f"Cannot set duplicate access code {code} on this device"
                           if clash else "The code must contain digits only.",
                           error_type="duplicate_access_code" if clash else "invalid_code",
                           status_code=409 if clash else 400)
    try:
        placed = await provider.program_code_at_lock(ref, code, name)
    except ProviderError as exc:
        raise LockhubError(exc.message, error_type=exc.error_type) from exc
    now = rt.clock.now()
    access_code_id = new_id()
    async with rt.db.write() as conn:
        await conn.execute(access_codes.insert().values(
            access_code_id=access_code_id, workspace_id=workspace_id, device_id=device_id,
            is_managed=False, name=name, code=code, status="set", deleting=False,
            device_ref=placed.ref, on_device={"code": code, "name": name},
            errors=[], warnings=[], pending_mutations=[], failures=0, created_at=now))
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="access_code.unmanaged.created",
                            access_code_id=access_code_id, device_id=device_id,
                            connected_account_id=device.connected_account_id)
        row = await code_service.get_row(conn, workspace_id, managed=False,
                                         access_code_id=access_code_id)
    return code_service.to_unmanaged(row)


async def codes_on_lock(rt: Runtime, workspace_id: str, device_id: str) -> list[CodeOnDevice]:
    async with rt.db.read() as conn:
        _, ref, provider = await sandbox_device(rt, conn, workspace_id, device_id)
    return await provider.stored_codes(ref)


async def edit_code_at_lock(rt: Runtime, workspace_id: str, device_id: str, slot: int, *,
                            code: str | None, name: str | None, remove: bool) -> None:
    """Change or delete a stored PIN behind lockhub's back; lockhub reads the lock back at
    once (as its periodic read-back would) and reacts."""
    async with rt.db.read() as conn:
        _, ref, provider = await sandbox_device(rt, conn, workspace_id, device_id)
    await provider.edit_code_at_lock(ref, slot, code=code, name=name, remove=remove)
    async with rt.db.write() as conn:
        await schedule_device_sync(conn, now=rt.clock.now(), workspace_id=workspace_id,
                                   device_id=device_id)
    rt.wake_engine()


async def get_clock(rt: Runtime, workspace_id: str) -> WorkspaceClock:
    async with rt.db.read() as conn:
        if not rt.settings.production_clock:
            await require_sandbox(conn, workspace_id)
        return await workspace_clock(conn, workspace_id, rt.clock.now())


async def change_clock(rt: Runtime, workspace_id: str, *, frozen: bool | None = None,
                       advance_seconds: float | None = None,
                       set_to: datetime | None = None) -> WorkspaceClock:
    async with rt.db.write() as conn:
        clock = await set_clock(conn, workspace_id, rt.clock.now(), frozen=frozen,
                                advance_seconds=advance_seconds, set_to=set_to,
                                production_allowed=rt.settings.production_clock)
    rt.wake_engine()
    return clock


async def inject_failures(rt: Runtime, workspace_id: str, device_id: str, *, error_type: str,
                          count: int, operations: list[str] | None, message: str | None) -> None:
    """The next `count` matching operations on the virtual lock fail with `error_type`."""
    async with rt.db.read() as conn:
        _, ref, provider = await sandbox_device(rt, conn, workspace_id, device_id)
        current = await provider.faults(ref)
    failures = list(current.get("failures", []))
    failures.append({"error_type": error_type, "remaining": count, "operations": operations,
                     "message": message})
    await provider.set_faults(ref, {**current, "failures": failures})


async def clear_faults(rt: Runtime, workspace_id: str, device_id: str) -> None:
    async with rt.db.read() as conn:
        _, ref, provider = await sandbox_device(rt, conn, workspace_id, device_id)
    await provider.set_faults(ref, {})


SIMULATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "connect": ("connection", {"online": True}),
    "disconnect": ("disconnection", {"online": False}),
    "connect_to_hub": ("hub_connection", {"hub_connected": True}),
    "disconnect_from_hub": ("hub_disconnection", {"hub_connected": False}),
    "remove": ("removal", {"removed": True}),
}


async def simulate(rt: Runtime, workspace_id: str, device_id: str, simulation: str,
                   **extra: Any) -> None:
    """Seam's /devices/simulate/* routes: allowed where the device's can_simulate_* says so."""
    ability, conditions = SIMULATIONS.get(simulation, ("paid_subscription", {}))
    if simulation == "paid_subscription":
        conditions = {"subscription_expired": bool(extra["is_expired"])}
    async with rt.db.read() as conn:
        device, _, _ = await sandbox_device(rt, conn, workspace_id, device_id)
    if ability not in device_service.model_of(device).can_simulate:
        raise LockhubError(f"This device cannot simulate {ability} "
                           f"(can_simulate_{ability} is false).",
                           error_type="device_cannot_perform_action",
                           data={"device_id": device_id, "capability": f"can_simulate_{ability}"})
    await set_conditions(rt, workspace_id, device_id, **conditions)


async def set_conditions(rt: Runtime, workspace_id: str, device_id: str,
                         **conditions: Any) -> None:
    """Change what the virtual lock is like (online, hub link, latency, battery) and let
    lockhub notice, as it would notice a real lock."""
    async with rt.db.read() as conn:
        device, ref, provider = await sandbox_device(rt, conn, workspace_id, device_id)
    values = {k: v for k, v in conditions.items() if v is not None}
    if values:
        await provider.set_conditions(ref, **values)
    snapshot = await provider.read_state(ref)
    async with rt.db.write() as conn:
        row = await device_service.get_row(conn, workspace_id, device_id=device_id, managed=None)
        await device_service.apply_snapshot(conn, now=rt.clock.now(), row=row,
                                            state=device_service.merged_state(row, snapshot))
    rt.wake_engine()


# --- thermostats and noise sensors ------------------------------------------------------------


async def _climate_device(rt: Runtime, workspace_id: str, device_id: str,
                          kind: str) -> tuple[Any, DeviceRef, SandboxProvider]:
    async with rt.db.read() as conn:
        await require_sandbox(conn, workspace_id)
        if kind == "thermostat":
            await thermostats.thermostat_row(conn, workspace_id, device_id)
        else:
            await noise_sensors.sensor_row(conn, workspace_id, device_id)
        return await sandbox_device(rt, conn, workspace_id, device_id)


async def _reported(rt: Runtime, device_id: str, snapshot: Any, after: Any = None) -> None:
    """Record what the virtual device now reports (and what `after(conn, now, row)` adds,
    given the row as it then is), as lockhub learns it from a real device."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = (await conn.execute(select(devices).where(devices.c.device_id == device_id))).one()
        await device_service.apply_snapshot(conn, now=now, row=row,
                                            state=device_service.merged_state(row, snapshot))
        await schedule_report(conn, now=now, workspace_id=row.workspace_id, device_id=device_id)
        if after is not None:
            await after(conn, now, (await conn.execute(select(devices).where(
                devices.c.device_id == device_id))).one())


async def simulate_hvac_mode_adjusted(rt: Runtime, workspace_id: str, device_id: str,
                                      mode: str, heating: Any, cooling: Any) -> None:
    """Someone sets the thermostat's mode and set points on the thermostat itself."""
    row, ref, provider = await _climate_device(rt, workspace_id, device_id, "thermostat")
    command, fields = thermostats.setting_command(row, mode, heating, cooling)
    snapshot = await provider.adjust_at_device(ref, command)

    async def adjusted(conn: AsyncConnection, now: datetime, row: Any) -> None:
        await thermostats.record_external_adjustment(conn, now=now, row=row, fields=fields)
    await _reported(rt, device_id, snapshot, adjusted)


async def set_climate_conditions(rt: Runtime, workspace_id: str, device_id: str,
                                 **conditions: Any) -> None:
    """Change the virtual thermostat's room (outside temperature, humidity, physics)."""
    row, ref, provider = await _climate_device(rt, workspace_id, device_id, "thermostat")
    snapshot = await provider.set_climate_conditions(ref, **conditions)
    await _reported(rt, device_id, snapshot)


async def simulate_temperature_reached(rt: Runtime, workspace_id: str, device_id: str,
                                       reading: Any) -> None:
    """The room reaches a temperature (the virtual thermostat goes on from there)."""
    row, ref, provider = await _climate_device(rt, workspace_id, device_id, "thermostat")
    unit = device_service.model_of(row).thermostat.temperature_unit  # type: ignore[union-attr]
    snapshot = await provider.set_temperature(ref, reading.in_unit(unit))
    await _reported(rt, device_id, snapshot)


async def simulate_noise_threshold_triggered(rt: Runtime, workspace_id: str,
                                             device_id: str) -> None:
    """Noise at the sensor, above the threshold active now (else its first; with none,
    DISTURBANCE_DECIBELS): the level rises and falls back, and the threshold's
    `noise_sensor.noise_threshold_triggered` event is recorded, once per call."""
    row, ref, provider = await _climate_device(rt, workspace_id, device_id, "noise_sensor")
    async with rt.db.read() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        threshold = await noise_sensors.active_threshold(conn, row, clock.now)
    peak = (threshold.noise_threshold_decibels + 10 if threshold is not None
            else noise_sensors.DISTURBANCE_DECIBELS)
    before = set((row.settings or {}).get("triggering", []))
    snapshot = await provider.disturb(ref, peak)

    async def triggered(conn: AsyncConnection, now: datetime, fresh: Any) -> None:
        started = set((fresh.settings or {}).get("triggering", [])) - before
        if threshold is None or threshold.noise_threshold_id not in started:
            noise = snapshot.noise
            await noise_sensors.record_triggered(
                conn, now=now, row=fresh, threshold=threshold,
                level=noise.noise_level_decibels if noise else peak,
                nrs=noise.noise_level_nrs if noise else None)
    await _reported(rt, device_id, snapshot, triggered)
