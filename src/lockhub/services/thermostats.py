"""Thermostats: their settings changed through action attempts, climate presets and the fallback
preset, and the temperature threshold (docs/design/thermostats-and-noise-sensors.md §1).

Every check runs in the write transaction before anything is stored or enqueued, so a refused
request changes nothing. Set points are checked in the unit the caller used and stored in the
device's own, on its step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.domain import thermostats as rules
from lockhub.domain.objects import ActionAttempt
from lockhub.engine import jobs
from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.providers.base import ClimateCommand
from lockhub.services import action_attempts, devices, events
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.store.tables import devices as devices_table
from lockhub.store.tables import thermostat_schedules

THERMOSTAT_NOT_FOUND = "Could not find a thermostat with device_id"


class SetPoint:
    """A temperature as a request gives it (`{field}_celsius` or `{field}_fahrenheit`, never
    both); `name` says which set point it is."""

    def __init__(self, name: str, celsius: float | None, fahrenheit: float | None, *,
                 field: str | None = None) -> None:
        field = field or f"{name}_set_point"
        if celsius is not None and fahrenheit is not None:
            raise InvalidInput.for_field(
                [f"{field}_fahrenheit"],
                f"You cannot set both {field}_celsius and {field}_fahrenheit")
        self.name = name
        self.field = field
        self.value = celsius if celsius is not None else fahrenheit
        self.unit: rules.Unit = "celsius" if celsius is not None else "fahrenheit"

    @property
    def given(self) -> bool:
        return self.value is not None

    def in_unit(self, unit: rules.Unit) -> float | None:
        return None if self.value is None else rules.in_unit(self.value, self.unit, unit)


def limit(name: str, celsius: float | None, fahrenheit: float | None) -> SetPoint:
    """A temperature threshold's limit (`lower` or `upper`) as a request gives it."""
    return SetPoint(name, celsius, fahrenheit, field=f"{name}_limit")


def not_a_thermostat(device_id: str | None) -> LockhubError:
    return LockhubError(THERMOSTAT_NOT_FOUND, error_type="device_not_found", status_code=404,
                        data={"device_id": device_id} if device_id else None)


async def thermostat_row(conn: AsyncConnection, workspace_id: str, device_id: str) -> Any:
    """The managed thermostat's row; any other device (a lock, a noise sensor, another
    workspace's) is not found, as Seam answers."""
    try:
        row = await devices.get_row(conn, workspace_id, device_id=device_id)
    except NotFound:
        row = None
    if row is None or row.kind != "thermostat":
        raise not_a_thermostat(device_id)
    return row


def _model(row: Any) -> Any:
    model = devices.model_of(row).thermostat
    assert model is not None
    return model


def _checked(error: rules.ThermostatRuleError) -> LockhubError:
    return LockhubError(error.message, error_type=error.error_type)


def setting_command(row: Any, mode: str, heating: SetPoint, cooling: SetPoint,
                    ) -> tuple[ClimateCommand, dict[str, Any]]:
    """The command that puts the thermostat in `mode` with these points (a point the mode
    needs and the request leaves out keeps the device's current one), checked against the
    model; and the fields of its `thermostat.manually_adjusted` event."""
    model = _model(row)
    state = (row.state or {}).get("thermostat") or {}
    if mode in ("off", "eco") and (heating.given or cooling.given):
        raise InvalidInput(f"Cannot provide set points when the thermostat is {mode}")
    if not rules.uses_heating(mode) and heating.given:
        raise InvalidInput(f"Cannot provide a heating set point in {mode} mode")
    if not rules.uses_cooling(mode) and cooling.given:
        raise InvalidInput(f"Cannot provide a cooling set point in {mode} mode")
    unit: rules.Unit = heating.unit if heating.given else cooling.unit
    native: rules.Unit = state.get("unit", model.temperature_unit)
    current = {name: None if state.get(f"{name}_set_point") is None
               else rules.in_unit(state[f"{name}_set_point"], native, unit)
               for name in ("heating", "cooling")}
    want_heating = heating.in_unit(unit) if heating.given else current["heating"]
    want_cooling = cooling.in_unit(unit) if cooling.given else current["cooling"]
    for needed, point, value in ((rules.uses_heating(mode), heating, want_heating),
                                 (rules.uses_cooling(mode), cooling, want_cooling)):
        if needed and value is None:
            raise InvalidInput.for_field([f"{point.field}_celsius"], "Required")
    try:
        low, high = rules.check_setting(rules.limits_of(model), mode,  # type: ignore[arg-type]
                                        heating=want_heating, cooling=want_cooling, unit=unit)
    except rules.ThermostatRuleError as exc:
        raise _checked(exc) from exc
    if mode in ("off", "eco"):
        # The thermostat keeps its points (eco holds the room between the model's own).
        low = high = None
    command = ClimateCommand(hvac_mode=mode, heating_set_point=low, cooling_set_point=high)
    return command, rules.served_setting(model.temperature_unit, mode, low, high, None)


def fan_command(row: Any, fan_mode: str) -> tuple[ClimateCommand, dict[str, Any]]:
    model = _model(row)
    if fan_mode not in model.fan_modes:
        raise LockhubError(f"This thermostat has no {fan_mode} fan mode.",
                           error_type="fan_mode_not_available")
    return ClimateCommand(fan_mode=fan_mode), {"fan_mode_setting": fan_mode}


async def request_climate_action(rt: Runtime, workspace_id: str, device_id: str,
                                 action_type: str, build: Any, *, sync: bool,
                                 preset_key: str | None = None) -> ActionAttempt:
    """Check the change on the thermostat's row (`build(row)` → the command and its event's
    fields), then create the action attempt the engine carries out through the provider."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await thermostat_row(conn, workspace_id, device_id)
        schedule = (row.settings or {}).get("active_thermostat_schedule")
        if action_type != "ACTIVATE_CLIMATE_PRESET" and schedule \
                and schedule.get("is_override_allowed") is False:
            raise LockhubError("The thermostat schedule active now does not allow changes; "
                               "activate a climate preset or change the schedule.",
                               error_type="thermostat_schedule_override_not_allowed")
        command, fields = build(row)
        payload: dict[str, Any] = {"command": msgspec.to_builtins(command), "event": fields}
        if preset_key is not None:
            payload["climate_preset_key"] = preset_key
        attempt = await action_attempts.start(conn, now=now, workspace_id=workspace_id,
                                              action_type=action_type, device_id=device_id,
                                              payload=payload)
    return await action_attempts.answer(rt, workspace_id, attempt, sync)


def preset_command(row: Any, key: str) -> tuple[ClimateCommand, dict[str, Any]]:
    """The command that applies a preset: its mode and points (checked as a request's would
    be, against today's model) and its fan mode."""
    preset = rules.find_preset(row.settings or {}, key)
    if preset is None:
        raise NotFound("climate_preset", {"climate_preset_key": key})
    model = _model(row)
    command = ClimateCommand(fan_mode=preset.get("fan_mode_setting"))
    mode = preset.get("hvac_mode_setting")
    if mode is not None:
        unit = model.temperature_unit
        setting, _ = setting_command(
            row, mode,
            SetPoint("heating", None, None) if not rules.uses_heating(mode) else _native(
                "heating", preset.get("heating_set_point"), unit),
            SetPoint("cooling", None, None) if not rules.uses_cooling(mode) else _native(
                "cooling", preset.get("cooling_set_point"), unit))
        command = ClimateCommand(hvac_mode=setting.hvac_mode,
                                 heating_set_point=setting.heating_set_point,
                                 cooling_set_point=setting.cooling_set_point,
                                 fan_mode=command.fan_mode)
    return command, {"climate_preset_key": key}


def _native(name: str, value: float | None, unit: rules.Unit) -> SetPoint:
    return SetPoint(name, value if unit == "celsius" else None,
                    value if unit == "fahrenheit" else None)


# --- presets, fallback and the temperature threshold (no device round trip) -------------------

PRESET_FIELDS = ("name", "climate_preset_mode", "hvac_mode_setting", "fan_mode_setting",
                 "ecobee_metadata", "manual_override_allowed")


def preset_from_request(row: Any, base: dict[str, Any], changes: dict[str, Any],
                        heating: SetPoint, cooling: SetPoint) -> dict[str, Any]:
    """A preset as stored (points in the device's unit, on its step), checked like a setting:
    a mode the device has, points in its ranges and apart by its minimum gap."""
    model = _model(row)
    preset = {**base, **{k: v for k, v in changes.items() if k in PRESET_FIELDS}}
    mode = preset.get("hvac_mode_setting")
    if mode is None and (heating.given or cooling.given):
        mode = "heat_cool" if heating.given and cooling.given else (
            "heat" if heating.given else "cool")
        preset["hvac_mode_setting"] = mode
    if mode is not None:
        unit: rules.Unit = heating.unit if heating.given else cooling.unit
        native = model.temperature_unit
        kept = {name: None if preset.get(f"{name}_set_point") is None
                else rules.in_unit(preset[f"{name}_set_point"], native, unit)
                for name in ("heating", "cooling")}
        try:
            low, high = rules.check_setting(
                rules.limits_of(model), mode, unit=unit,
                heating=heating.in_unit(unit) if heating.given else kept["heating"],
                cooling=cooling.in_unit(unit) if cooling.given else kept["cooling"])
        except rules.ThermostatRuleError as exc:
            raise _checked(exc) from exc
        preset["heating_set_point"] = low if rules.uses_heating(mode) else None
        preset["cooling_set_point"] = high if rules.uses_cooling(mode) else None
    fan = preset.get("fan_mode_setting")
    if fan is not None and fan not in model.fan_modes:
        raise LockhubError(f"This thermostat has no {fan} fan mode.",
                           error_type="fan_mode_not_available")
    return {k: v for k, v in preset.items() if v is not None}


async def change_settings(rt: Runtime, workspace_id: str, device_id: str, change: Any,
                          *, unused_preset: str | None = None) -> None:
    """Change what lockhub keeps for the thermostat (`change(row, settings)` edits a copy)
    and record what the change means (a threshold crossed at once); `unused_preset`: refuse
    if a schedule still uses that preset."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await thermostat_row(conn, workspace_id, device_id)
        if unused_preset is not None:
            await preset_in_use(conn, row, unused_preset, now)
        settings = dict(row.settings or {})
        change(row, settings)
        found, settings = rules.climate_events(settings, (row.state or {}).get("thermostat") or {})
        found = [e for e in found if e[0].startswith("thermostat.temperature_threshold")]
        await conn.execute(update(devices_table).where(
            devices_table.c.device_id == device_id).values(settings=settings))
        for event_type, fields in found:
            await events.record(conn, now=now, workspace_id=workspace_id, event_type=event_type,
                                device_id=device_id, connected_account_id=row.connected_account_id,
                                keep_null=rules.THRESHOLD_LIMITS, **fields)


def create_preset(key: str, changes: dict[str, Any], heating: SetPoint,
                  cooling: SetPoint) -> Any:
    def change(row: Any, settings: dict[str, Any]) -> None:
        if rules.find_preset(settings, key) is not None:
            raise LockhubError(f"A climate preset with key {key!r} already exists.",
                               error_type="climate_preset_already_exists")
        preset = preset_from_request(row, {"climate_preset_key": key, "can_edit": True,
                                           "can_delete": True}, changes, heating, cooling)
        settings["presets"] = [*settings.get("presets", []), preset]
    return change


def update_preset(key: str, changes: dict[str, Any], heating: SetPoint,
                  cooling: SetPoint) -> Any:
    def change(row: Any, settings: dict[str, Any]) -> None:
        preset = _existing(settings, key)
        if not preset.get("can_edit", True):
            raise LockhubError("This climate preset cannot be edited.",
                               error_type="climate_preset_cannot_be_edited")
        updated = preset_from_request(row, preset, changes, heating, cooling)
        settings["presets"] = [updated if p is preset else p for p in settings["presets"]]
    return change


def delete_preset(key: str) -> Any:
    def change(row: Any, settings: dict[str, Any]) -> None:
        preset = _existing(settings, key)
        if not preset.get("can_delete", True):
            raise LockhubError("This climate preset cannot be deleted.",
                               error_type="climate_preset_cannot_be_deleted")
        settings["presets"] = [p for p in settings["presets"] if p is not preset]
        if settings.get("fallback_climate_preset_key") == key:
            settings["fallback_climate_preset_key"] = None
        if settings.get("current_climate_preset_key") == key:
            settings["current_climate_preset_key"] = None
    return change


def set_fallback(key: str) -> Any:
    def change(row: Any, settings: dict[str, Any]) -> None:
        _existing(settings, key)
        settings["fallback_climate_preset_key"] = key
    return change


def set_temperature_threshold(lower: SetPoint, upper: SetPoint) -> Any:
    """Both limits in °C and °F (Seam serves all four keys, null where unset)."""
    low, high = lower.in_unit("celsius"), upper.in_unit("celsius")
    if low is not None and high is not None and low >= high:
        raise InvalidInput("The lower limit must be below the upper limit.")

    def change(row: Any, settings: dict[str, Any]) -> None:
        settings["temperature_threshold"] = {
            "lower_limit_celsius": low,
            "lower_limit_fahrenheit": None if low is None else rules.to_fahrenheit(low),
            "upper_limit_celsius": high,
            "upper_limit_fahrenheit": None if high is None else rules.to_fahrenheit(high),
        }
    return change


def _existing(settings: dict[str, Any], key: str) -> dict[str, Any]:
    preset = rules.find_preset(settings, key)
    if preset is None:
        raise NotFound("climate_preset", {"climate_preset_key": key})
    return preset


# --- what a settled attempt changes --------------------------------------------------------

CLIMATE_ACTIONS = ("SET_HVAC_MODE", "SET_FAN_MODE", "ACTIVATE_CLIMATE_PRESET")


async def record_adjustment(conn: AsyncConnection, *, now: datetime, device_id: str,
                            action_type: str, payload: dict[str, Any]) -> None:
    """The thermostat did what the attempt asked: its event, and which preset is now active
    (an activated one; none after a mode set by hand)."""
    row = (await conn.execute(select(devices_table).where(
        devices_table.c.device_id == device_id))).first()
    if row is None:
        return
    settings = dict(row.settings or {})
    common = {"device_id": device_id, "connected_account_id": row.connected_account_id}
    if action_type == "ACTIVATE_CLIMATE_PRESET":
        key = payload["climate_preset_key"]
        settings["current_climate_preset_key"] = key
        await events.record(conn, now=now, workspace_id=row.workspace_id,
                            event_type="thermostat.climate_preset_activated",
                            keep_null=("thermostat_schedule_id",), thermostat_schedule_id=None,
                            climate_preset_key=key,
                            is_fallback_climate_preset=key == settings.get(
                                "fallback_climate_preset_key"), **common)
    else:
        if action_type == "SET_HVAC_MODE":
            settings["current_climate_preset_key"] = None
        await _start_override(conn, now, row, settings)
        await events.record(conn, now=now, workspace_id=row.workspace_id,
                            event_type="thermostat.manually_adjusted", method="seam",
                            **payload.get("event", {}), **common)
    await conn.execute(update(devices_table).where(
        devices_table.c.device_id == device_id).values(settings=settings))


def current_setting_fields(row: Any) -> dict[str, Any]:
    """The thermostat's settings now, as a `thermostat.manually_adjusted` event carries them."""
    state = (row.state or {}).get("thermostat") or {}
    model = _model(row)
    return rules.served_setting(state.get("unit", model.temperature_unit),
                                state.get("hvac_mode"), state.get("heating_set_point"),
                                state.get("cooling_set_point"), state.get("fan_mode"))


async def record_external_adjustment(conn: AsyncConnection, *, now: datetime, row: Any,
                                     fields: dict[str, Any]) -> None:
    """Someone changed the thermostat at the device: `thermostat.manually_adjusted` with
    method `external`; no preset is active any more."""
    settings = dict(row.settings or {})
    settings["current_climate_preset_key"] = None
    await _start_override(conn, now, row, settings)
    await conn.execute(update(devices_table).where(
        devices_table.c.device_id == row.device_id).values(settings=settings))
    await events.record(conn, now=now, workspace_id=row.workspace_id,
                        event_type="thermostat.manually_adjusted", method="external",
                        device_id=row.device_id, connected_account_id=row.connected_account_id,
                        **fields)


async def _start_override(conn: AsyncConnection, now: datetime, row: Any,
                          settings: dict[str, Any]) -> None:
    """A change by hand while a schedule is active overrides it (from now, in workspace time):
    its job reverts it when the schedule says (engine/thermostat_schedules.py)."""
    if not settings.get("active_thermostat_schedule"):
        return
    settings["override_started_at"] = (await workspace_clock(conn, row.workspace_id, now)).now \
        .isoformat()
    await ensure_schedule_job(conn, now=now, workspace_id=row.workspace_id,
                              device_id=row.device_id)


SCHEDULE_JOB = "thermostat_schedule"


async def ensure_schedule_job(conn: AsyncConnection, *, now: datetime, workspace_id: str,
                              device_id: str) -> None:
    """Make the thermostat's schedule job (engine/thermostat_schedules.py) look again now:
    its schedules, presets or settings changed."""
    await jobs.ensure(conn, job_id=f"{SCHEDULE_JOB}:{device_id}", now=now,
                      workspace_id=workspace_id, kind=SCHEDULE_JOB, key=f"device:{device_id}",
                      payload={"device_id": device_id})


async def preset_in_use(conn: AsyncConnection, row: Any, key: str, now: datetime) -> None:
    """A preset a schedule still to come (or running) uses cannot be deleted."""
    at = (await workspace_clock(conn, row.workspace_id, now)).now
    if (await conn.execute(select(thermostat_schedules.c.thermostat_schedule_id).where(
            thermostat_schedules.c.device_id == row.device_id,
            thermostat_schedules.c.climate_preset_key == key,
            thermostat_schedules.c.ends_at > at).limit(1))).first() is not None:
        raise LockhubError("A thermostat schedule that has not ended uses this climate preset.",
                           error_type="climate_preset_in_use")
