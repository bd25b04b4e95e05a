"""A virtual thermostat's and a virtual noise sensor's physical state over workspace time, as the
JSON the sandbox keeps for them (`sandbox_devices.climate`, `sandbox_devices.noise`).

A *dynamic* thermostat's room warms while it heats, cools while it cools and drifts toward the
outside temperature while idle (domain/thermostats.py `advance`, in closed form); a *static*
one (the fake's `ecobee_device_1`) keeps its readings until a simulation sets them. A dynamic
noise sensor follows its quiet baseline by time of day and falls back after a disturbance
(domain/noise.py `level_at`); a static one keeps its level.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lockhub.catalogue import NoiseSensorModel, ThermostatModel
from lockhub.domain import noise as noise_rules
from lockhub.domain import thermostats as rules
from lockhub.providers.base import ClimateCommand, NoiseState, ThermostatState

# A dynamic device reports this often while nothing switches (workspace minutes).
REPORT_MINUTES = 5
# ... and a noise sensor this often while a disturbance rises and falls.
DISTURBED_REPORT_MINUTES = 1
# `circulate` runs the fan for this many minutes at the start of each hour while idle.
CIRCULATE_MINUTES = 15


def initial_climate(device: dict[str, Any], model: ThermostatModel,
                    at: datetime) -> dict[str, Any]:
    """A test account's thermostat as the sandbox first stores it (accounts.json `climate`),
    at workspace instant `at`: its HVAC already doing what its settings say."""
    given = device["climate"]
    climate = {"unit": model.temperature_unit, "physics": given.get("physics", "dynamic"),
               "as_of": at.isoformat(), "running": None}
    climate.update({k: v for k, v in given.items() if k not in ("presets", "physics")})
    return settled(climate, model)


def _domain(climate: dict[str, Any]) -> rules.Climate:
    unit = climate["unit"]

    def celsius(value: float | None) -> float | None:
        return None if value is None else rules.in_unit(value, unit, "celsius")

    mode = climate.get("hvac_mode") or "off"
    return rules.Climate(temperature=celsius(climate.get("temperature")) or 20.0,
                         ambient=climate.get("ambient_celsius", 20.0), mode=mode,
                         heating=celsius(climate.get("heating_set_point")),
                         cooling=celsius(climate.get("cooling_set_point")),
                         running=climate.get("running"))


def _eco(model: ThermostatModel, c: rules.Climate) -> rules.Climate:
    """Eco holds the room between the model's eco points (in its own unit)."""
    if c.mode != "eco":
        return c
    unit = model.temperature_unit
    low, high = model.eco_heating_set_point, model.eco_cooling_set_point
    return replace(c, heating=None if low is None else rules.in_unit(low, unit, "celsius"),
                   cooling=None if high is None else rules.in_unit(high, unit, "celsius"))


def advanced(climate: dict[str, Any], model: ThermostatModel, at: datetime) -> dict[str, Any]:
    """The thermostat at workspace instant `at` (a static one does not change)."""
    if climate.get("physics") == "static":
        return climate
    as_of = datetime.fromisoformat(climate["as_of"]) if climate.get("as_of") else at
    minutes = max(0.0, (at - as_of).total_seconds() / 60)
    c = rules.advance(_eco(model, _domain(climate)), minutes)
    return {**climate, "temperature": rules.in_unit(c.temperature, "celsius", climate["unit"]),
            "running": c.running, "as_of": at.isoformat()}


def applied(climate: dict[str, Any], model: ThermostatModel, command: ClimateCommand,
            at: datetime) -> dict[str, Any]:
    """The thermostat after `command` at `at`: advanced to then, given its new settings, and
    with the HVAC re-decided at once (a heat point above the room starts heating)."""
    climate = advanced(climate, model, at)
    for field, value in (("hvac_mode", command.hvac_mode), ("fan_mode", command.fan_mode),
                         ("heating_set_point", command.heating_set_point),
                         ("cooling_set_point", command.cooling_set_point)):
        if value is not None:
            climate[field] = value
    return settled(climate, model)


def settled(climate: dict[str, Any], model: ThermostatModel) -> dict[str, Any]:
    if climate.get("physics") == "static":
        return climate
    c = rules.settle(replace(_eco(model, _domain(climate)), running=None))
    return {**climate, "running": c.running}


def with_temperature(climate: dict[str, Any], model: ThermostatModel, value: float,
                     at: datetime) -> dict[str, Any]:
    """The room is now at `value` (in the device's unit); the physics goes on from there."""
    climate = {**advanced(climate, model, at), "temperature": value}
    return settled(climate, model)


def _fan_running(climate: dict[str, Any], at: datetime) -> bool:
    if climate.get("physics") == "static":
        return bool(climate.get("is_fan_running")) or climate.get("fan_mode") == "on"
    fan, running = climate.get("fan_mode"), climate.get("running") is not None
    if fan == "on":
        return True
    if fan == "circulate":
        return running or at.minute < CIRCULATE_MINUTES
    return running


def thermostat_state(climate: dict[str, Any], at: datetime) -> ThermostatState:
    """What the virtual thermostat reports at `at` (temperatures to a tenth of its unit)."""
    static = climate.get("physics") == "static"
    temperature = climate.get("temperature")
    return ThermostatState(
        unit=climate["unit"], hvac_mode=climate.get("hvac_mode"),
        heating_set_point=climate.get("heating_set_point"),
        cooling_set_point=climate.get("cooling_set_point"), fan_mode=climate.get("fan_mode"),
        temperature=None if temperature is None else round(temperature, 1),
        relative_humidity=climate.get("relative_humidity"),
        is_heating=bool(climate.get("is_heating")) if static else climate.get("running") == "heat",
        is_cooling=bool(climate.get("is_cooling")) if static else climate.get("running") == "cool",
        is_fan_running=_fan_running(climate, at))


def next_thermostat_report(climate: dict[str, Any], model: ThermostatModel,
                           at: datetime) -> datetime | None:
    """When a dynamic thermostat next reports: when its HVAC next starts or stops, at the
    next circulate boundary, and at least every REPORT_MINUTES."""
    if climate.get("physics") == "static":
        return None
    due = at + timedelta(minutes=REPORT_MINUTES)
    switch = rules.next_switch_minutes(_eco(model, _domain(climate)))
    if switch is not None:
        due = min(due, at + timedelta(minutes=max(switch, 1 / 60)))
    if climate.get("fan_mode") == "circulate" and at.minute < CIRCULATE_MINUTES:
        due = min(due, at.replace(minute=CIRCULATE_MINUTES, second=0, microsecond=0))
    return due


# --- noise -----------------------------------------------------------------------------------


def initial_noise(device: dict[str, Any]) -> dict[str, Any]:
    given = device.get("noise") or {}
    return {"time_zone": given.get("time_zone", "UTC"), "physics": given.get("physics", "dynamic"),
            "level": given.get("level"), "peak": None, "peak_at": None}


def noise_level(noise: dict[str, Any], device_id: str, at: datetime) -> float:
    if noise.get("physics") == "static":
        return float(noise.get("level") or 0.0)
    peak_at = datetime.fromisoformat(noise["peak_at"]) if noise.get("peak_at") else None
    return noise_rules.level_at(device_id, at, ZoneInfo(noise["time_zone"]),
                                peak=noise.get("peak"), peak_at=peak_at)


def noise_state(noise: dict[str, Any], model: NoiseSensorModel, device_id: str,
                at: datetime) -> NoiseState:
    level = round(noise_level(noise, device_id, at), 1)
    return NoiseState(noise_level_decibels=level,
                      noise_level_nrs=float(noise_rules.nrs_from_decibels(level))
                      if model.reports_nrs else None)


def disturbed(noise: dict[str, Any], peak: float, at: datetime) -> dict[str, Any]:
    """Noise rises to `peak` at `at`, holds, then falls back (a static sensor stays there)."""
    if noise.get("physics") == "static":
        return {**noise, "level": peak}
    return {**noise, "peak": peak, "peak_at": at.isoformat()}


def next_noise_report(noise: dict[str, Any], device_id: str, at: datetime) -> datetime | None:
    if noise.get("physics") == "static":
        return None
    quiet = noise_rules.baseline(device_id, at, ZoneInfo(noise["time_zone"]))
    loud = noise.get("peak") is not None and noise_level(noise, device_id, at) > quiet + 0.05
    return at + timedelta(minutes=DISTURBED_REPORT_MINUTES if loud else REPORT_MINUTES)
