"""A thermostat's schedules, carried out on the workspace clock: one job per thermostat looks at
its schedules and does what is due (docs/design/thermostats-and-noise-sensors.md §3.3).

- A schedule that has started and not ended is active (the latest start wins): its climate
  preset is applied once, with `thermostat.climate_preset_activated` naming the schedule.
- When the active schedule ends (or is deleted) the fallback preset, if one is set, is applied
  once (`is_fallback_climate_preset: true`, naming the schedule that ended).
- A change by hand during a schedule is an override: reverted at once when the schedule does
  not allow overrides, else after its `max_override_period_minutes` (never when null).
- A failure to apply is recorded on the schedule (`failed_to_activate_climate_preset`) and
  tried again a minute later; success clears it.

Level-triggered: a run compares what is due with what the thermostat's settings say was last
applied, so running it again (after a crash, a clock change) does nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from lockhub.clock import iso
from lockhub.engine.jobs import Job, finish, reschedule
from lockhub.errors import LockhubError
from lockhub.providers.base import ProviderError, controls_climate
from lockhub.providers.refs import device_ref
from lockhub.services import devices as device_service
from lockhub.services import events, thermostats
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.services.thermostat_schedules import to_schedule
from lockhub.store.tables import connected_accounts, devices, thermostat_schedules

S = thermostat_schedules
RETRY_SECONDS = 60


def _active(schedules: list[Any], now: datetime) -> Any:
    due = [s for s in schedules if s.starts_at <= now < s.ends_at]
    return max(due, key=lambda s: (s.starts_at, -s.created_at.timestamp()), default=None)


def _override_ends(settings: dict[str, Any], active: Any) -> datetime | None:
    started = settings.get("override_started_at")
    if active is None or started is None:
        return None
    if active.is_override_allowed is False:
        return datetime.fromisoformat(started)
    if active.max_override_period_minutes is None:
        return None
    return datetime.fromisoformat(started) + timedelta(minutes=active.max_override_period_minutes)


async def run_thermostat_schedule(rt: Runtime, job: Job) -> None:
    device_id = job.payload["device_id"]
    async with rt.db.read() as conn:
        device = (await conn.execute(select(devices).where(
            devices.c.device_id == device_id))).first()
        if device is None:
            account, schedules, clock = None, [], None
        else:
            account = (await conn.execute(select(connected_accounts).where(
                connected_accounts.c.connected_account_id == device.connected_account_id))
            ).first()
            schedules = (await conn.execute(select(S).where(S.c.device_id == device_id))).all()
            clock = await workspace_clock(conn, device.workspace_id, rt.clock.now())
    if device is None or account is None or clock is None:
        async with rt.db.write() as conn:
            await finish(conn, job)
        return
    now = clock.now
    settings = device.settings or {}
    applied = settings.get("active_thermostat_schedule")
    active = _active(schedules, now)
    override_ends = _override_ends(settings, active)
    due: tuple[str | None, str, bool, Any] | None = None
    if active is not None and (applied is None
                               or applied["thermostat_schedule_id"] != active.thermostat_schedule_id
                               or (override_ends is not None and override_ends <= now)):
        due = (active.climate_preset_key, active.thermostat_schedule_id, False, active)
    elif active is None and applied is not None:
        due = (settings.get("fallback_climate_preset_key"), applied["thermostat_schedule_id"],
               True, None)
    retry = False
    if due is not None:
        retry = not await _apply(rt, device, account, schedules, due)
    async with rt.db.read() as conn:
        settings = (await conn.execute(select(devices.c.settings).where(
            devices.c.device_id == device_id))).scalar_one_or_none() or {}
    wake = [s.starts_at for s in schedules if s.starts_at > now]
    if active is not None:
        wake.append(active.ends_at)
        ends = _override_ends(settings, active)
        if ends is not None:
            wake.append(max(ends, now))
    async with rt.db.write() as conn:
        if retry:
            await reschedule(conn, job, rt.clock.now() + timedelta(seconds=RETRY_SECONDS))
        elif wake:
            await reschedule(conn, job, clock.to_real(min(wake)))
        else:
            await finish(conn, job)


async def _apply(rt: Runtime, device: Any, account: Any, schedules: list[Any],
                 due: tuple[str | None, str, bool, Any]) -> bool:
    """Apply the due preset (none: only forget the ended schedule); False to try again."""
    key, schedule_id, fallback, active = due
    snapshot = None
    if key is not None:
        provider = rt.providers.get(account.provider)
        try:
            if not controls_climate(provider):
                raise ProviderError("device_cannot_perform_action",
                                    "lockhub cannot change this thermostat's settings.")
            command, _ = thermostats.preset_command(device, key)
            snapshot = await provider.set_climate(device_ref(rt.settings, device, account),
                                                  command)
        except (ProviderError, LockhubError) as exc:
            await _failed(rt, schedule_id, exc.message)
            return False
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = (await conn.execute(select(devices).where(
            devices.c.device_id == device.device_id))).one()
        if snapshot is not None:
            await device_service.apply_snapshot(conn, now=now, row=row,
                                                state=device_service.merged_state(row, snapshot))
            row = (await conn.execute(select(devices).where(
                devices.c.device_id == device.device_id))).one()
        settings = dict(row.settings or {})
        settings["active_thermostat_schedule"] = to_schedule(active) if active else None
        settings["override_started_at"] = None
        if key is not None:
            settings["current_climate_preset_key"] = key
        await conn.execute(update(devices).where(devices.c.device_id == device.device_id)
                           .values(settings=settings))
        if key is not None:
            await events.record(
                conn, now=now, workspace_id=device.workspace_id,
                event_type="thermostat.climate_preset_activated", device_id=device.device_id,
                connected_account_id=device.connected_account_id,
                thermostat_schedule_id=schedule_id, climate_preset_key=key,
                is_fallback_climate_preset=fallback or key == settings.get(
                    "fallback_climate_preset_key"))
        await conn.execute(update(S).where(S.c.thermostat_schedule_id == schedule_id)
                           .values(errors=[]))
    return True


async def _failed(rt: Runtime, schedule_id: str, message: str) -> None:
    async with rt.db.write() as conn:
        await conn.execute(update(S).where(S.c.thermostat_schedule_id == schedule_id).values(
            errors=[{"error_code": "failed_to_activate_climate_preset", "message": message,
                     "created_at": iso(rt.clock.now())}]))
