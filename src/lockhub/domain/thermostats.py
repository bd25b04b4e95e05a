"""Thermostat rules, as pure functions: units, the set points a device accepts, and how a virtual
thermostat's temperature moves over workspace time (docs/design/thermostats-and-noise-sensors.md,
sections 1.2, 1.5 and 3.2).

Temperatures are kept in the device's own unit and served in both (Seam serves every point in
°C and °F, unrounded). A *delta* converts without the 32° offset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from lockhub.catalogue import ThermostatModel

Unit = Literal["celsius", "fahrenheit"]
HvacMode = Literal["off", "heat", "cool", "heat_cool", "eco"]
Running = Literal["heat", "cool"] | None

# Points are compared in the caller's unit with this slack, before rounding to the device's step,
# so a limit given in the other unit (45 °F = 7.2222… °C) is not refused by float noise.
TOLERANCE = 1e-6


def to_fahrenheit(celsius: float) -> float:
    return celsius * 9 / 5 + 32


def to_celsius(fahrenheit: float) -> float:
    return (fahrenheit - 32) * 5 / 9


def delta_to_fahrenheit(celsius: float) -> float:
    return celsius * 9 / 5


def delta_to_celsius(fahrenheit: float) -> float:
    return fahrenheit * 5 / 9


def in_unit(value: float, unit: Unit, wanted: Unit) -> float:
    if unit == wanted:
        return value
    return to_fahrenheit(value) if wanted == "fahrenheit" else to_celsius(value)


def round_to_step(value: float, step: float) -> float:
    """The value a device with set points in `step`s (1 °F, 0.5 °C) stores."""
    return round(round(value / step) * step, 6)


def both_units(name: str, value: float, unit: Unit) -> dict[str, float]:
    """`{name}_celsius` and `{name}_fahrenheit` of a native value, as Seam serves them."""
    return {f"{name}_celsius": in_unit(value, unit, "celsius"),
            f"{name}_fahrenheit": in_unit(value, unit, "fahrenheit")}


class ThermostatRuleError(ValueError):
    """A setting the device does not accept: Seam's error type and a message for people."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True)
class SetPointLimits:
    """What a model accepts, in its own unit (None: it has no such mode)."""

    unit: Unit
    step: float
    modes: tuple[HvacMode, ...]
    min_heating: float | None = None
    max_heating: float | None = None
    min_cooling: float | None = None
    max_cooling: float | None = None
    min_delta: float | None = None


_MODE_ERRORS = {"heat": "heat_mode_not_available", "cool": "cool_mode_not_available",
                "heat_cool": "heat_cool_not_available", "off": "off_mode_not_available",
                "eco": "eco_mode_not_available"}


def _degrees(value: float, unit: Unit) -> str:
    other: Unit = "fahrenheit" if unit == "celsius" else "celsius"
    mark = {"celsius": "°C", "fahrenheit": "°F"}
    return (f"{value:g} {mark[unit]} "
            f"({round(in_unit(value, unit, other), 2):g} {mark[other]})")


def check_setting(limits: SetPointLimits, mode: HvacMode, *, heating: float | None,
                  cooling: float | None, unit: Unit) -> tuple[float | None, float | None]:
    """The set points to store (native unit, on the device's step) for `mode`, given in `unit`;
    `ThermostatRuleError` for a mode the device lacks, a point outside its range, or heating
    and cooling closer than its minimum gap (cooling must be above heating by at least it)."""
    if mode not in limits.modes:
        raise ThermostatRuleError(_MODE_ERRORS[mode],
                                  f"This thermostat has no {mode.replace('_', '-')} mode.")
    wants_heating, wants_cooling = mode in ("heat", "heat_cool"), mode in ("cool", "heat_cool")
    checked: dict[str, float | None] = {"heating": None, "cooling": None}
    for kind, value, wanted, low, high in (
            ("heating", heating, wants_heating, limits.min_heating, limits.max_heating),
            ("cooling", cooling, wants_cooling, limits.min_cooling, limits.max_cooling)):
        if not wanted or value is None:
            continue
        if low is not None and high is not None:
            low_given, high_given = in_unit(low, limits.unit, unit), in_unit(high, limits.unit, unit)
            if not low_given - TOLERANCE <= value <= high_given + TOLERANCE:
                raise ThermostatRuleError(
                    f"{kind}_set_point_out_of_range",
                    f"The {kind} set point must be between {_degrees(low, limits.unit)} and "
                    f"{_degrees(high, limits.unit)}.")
        checked[kind] = round_to_step(in_unit(value, unit, limits.unit), limits.step)
    low_point, high_point = checked["heating"], checked["cooling"]
    if mode == "heat_cool" and low_point is not None and high_point is not None \
            and limits.min_delta is not None \
            and high_point - low_point < limits.min_delta - TOLERANCE:
        raise ThermostatRuleError(
            "invalid_heating_cooling_delta",
            f"The cooling set point must be at least {_gap(limits)} above the heating set point.")
    return low_point, high_point


def _gap(limits: SetPointLimits) -> str:
    assert limits.min_delta is not None
    if limits.unit == "celsius":
        return f"{limits.min_delta:g} °C ({round(delta_to_fahrenheit(limits.min_delta), 2):g} °F)"
    return f"{limits.min_delta:g} °F ({round(delta_to_celsius(limits.min_delta), 2):g} °C)"


# --- the thermostat as served -------------------------------------------------------------

MANUAL_SETTING = "Manual Setting"
# The flags of thermostat programs (/thermostats/daily_programs/*), which lockhub does not run.
PROGRAM_FLAGS = ("can_run_thermostat_programs", "can_program_thermostat_programs_as_same_each_day",
                 "can_program_thermostat_programs_as_weekday_weekend",
                 "can_program_thermostat_programs_as_different_each_day")


def limits_of(model: ThermostatModel) -> SetPointLimits:
    return SetPointLimits(
        unit=model.temperature_unit, step=model.set_point_step,
        modes=tuple(model.hvac_modes),  # type: ignore[arg-type]
        min_heating=model.min_heating_set_point, max_heating=model.max_heating_set_point,
        min_cooling=model.min_cooling_set_point, max_cooling=model.max_cooling_set_point,
        min_delta=model.min_heating_cooling_delta)


def thermostat_flags(model: ThermostatModel) -> dict[str, bool]:
    modes = set(model.hvac_modes)
    return {"can_hvac_heat": "heat" in modes, "can_hvac_cool": "cool" in modes,
            "can_hvac_heat_cool": "heat_cool" in modes, "can_turn_off_hvac": "off" in modes,
            **dict.fromkeys(PROGRAM_FLAGS, False)}


def uses_heating(mode: str | None) -> bool:
    return mode in ("heat", "heat_cool")


def uses_cooling(mode: str | None) -> bool:
    return mode in ("cool", "heat_cool")


def served_setting(unit: Unit, mode: str | None, heating: float | None,
                   cooling: float | None, fan: str | None) -> dict[str, Any]:
    """A climate setting as Seam serves it: the mode, the fan, and the set points the mode
    uses (heat: heating; cool: cooling; heat_cool: both; off and eco: none), in both units."""
    out: dict[str, Any] = {}
    if mode is not None:
        out["hvac_mode_setting"] = mode
    if fan is not None:
        out["fan_mode_setting"] = fan
    if uses_heating(mode) and heating is not None:
        out.update(both_units("heating_set_point", heating, unit))
    if uses_cooling(mode) and cooling is not None:
        out.update(both_units("cooling_set_point", cooling, unit))
    return out


def served_preset(unit: Unit, preset: dict[str, Any]) -> dict[str, Any]:
    """A stored climate preset (points in the device's unit) as Seam serves it."""
    out: dict[str, Any] = {
        "climate_preset_key": preset["climate_preset_key"],
        "name": preset.get("name"),
        "display_name": preset.get("name") or preset["climate_preset_key"],
        "can_edit": preset.get("can_edit", True),
        "can_delete": preset.get("can_delete", True),
        "can_use_with_thermostat_daily_programs": False,
        "manual_override_allowed": preset.get("manual_override_allowed", True),
    }
    if preset.get("climate_preset_mode"):
        out["climate_preset_mode"] = preset["climate_preset_mode"]
    out.update(served_setting(unit, preset.get("hvac_mode_setting"),
                              preset.get("heating_set_point"), preset.get("cooling_set_point"),
                              preset.get("fan_mode_setting")))
    if preset.get("ecobee_metadata"):
        out["ecobee_metadata"] = preset["ecobee_metadata"]
    return out


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None
                                         and abs(a - b) < 1e-6)


def preset_matches(preset: dict[str, Any], state: dict[str, Any]) -> bool:
    """Whether the thermostat's settings now are the preset's (its mode, the points that mode
    uses, its fan mode when it sets one)."""
    mode = preset.get("hvac_mode_setting")
    if mode is not None and mode != state.get("hvac_mode"):
        return False
    if preset.get("fan_mode_setting") and preset["fan_mode_setting"] != state.get("fan_mode"):
        return False
    if uses_heating(mode) and not _same(preset.get("heating_set_point"),
                                        state.get("heating_set_point")):
        return False
    return not (uses_cooling(mode) and not _same(preset.get("cooling_set_point"),
                                                 state.get("cooling_set_point")))


def find_preset(settings: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((p for p in settings.get("presets", []) if p["climate_preset_key"] == key), None)


def thermostat_properties(model: ThermostatModel, state: dict[str, Any],
                          settings: dict[str, Any]) -> dict[str, Any]:
    """The thermostat's part of `device.properties`: what it reports (`state`, a
    ThermostatState), what its model accepts, and what lockhub keeps for it (`settings`:
    presets, the fallback, the temperature threshold, the active schedule)."""
    unit: Unit = state.get("unit", model.temperature_unit)
    mode = state.get("hvac_mode")
    current = served_setting(unit, mode, state.get("heating_set_point"),
                             state.get("cooling_set_point"), state.get("fan_mode"))
    active = find_preset(settings, settings.get("current_climate_preset_key") or "")
    if active is not None and preset_matches(active, state):
        current = {**served_preset(unit, active), **current}
    else:
        current = {"display_name": MANUAL_SETTING, "can_edit": False, "can_delete": False,
                   "can_use_with_thermostat_daily_programs": False,
                   "manual_override_allowed": True, **current}
    props: dict[str, Any] = {
        "available_hvac_mode_settings": list(model.hvac_modes),
        "available_fan_mode_settings": list(model.fan_modes),
        "current_climate_setting": current,
        "available_climate_presets": [served_preset(unit, p) for p in settings.get("presets", [])],
        "fallback_climate_preset_key": settings.get("fallback_climate_preset_key"),
        "is_heating": bool(state.get("is_heating", False)),
        "is_cooling": bool(state.get("is_cooling", False)),
        "is_fan_running": bool(state.get("is_fan_running", False)),
        "is_temporary_manual_override_active": bool(settings.get("override_started_at")),
        "active_thermostat_schedule_id": (settings.get("active_thermostat_schedule") or {}).get(
            "thermostat_schedule_id"),
        "active_thermostat_schedule": settings.get("active_thermostat_schedule"),
        "has_direct_power": model.has_direct_power,
    }
    if state.get("fan_mode") is not None:
        props["fan_mode_setting"] = state["fan_mode"]
    if model.climate_preset_modes:
        props["available_climate_preset_modes"] = list(model.climate_preset_modes)
    if state.get("temperature") is not None:
        props.update(both_units("temperature", state["temperature"], unit))
    if state.get("relative_humidity") is not None:
        props["relative_humidity"] = state["relative_humidity"]
    native = model.temperature_unit
    if set(model.hvac_modes) & {"heat", "heat_cool"} and model.min_heating_set_point is not None:
        props.update(both_units("min_heating_set_point", model.min_heating_set_point, native))
        props.update(both_units("max_heating_set_point", model.max_heating_set_point or 0, native))
    if set(model.hvac_modes) & {"cool", "heat_cool"} and model.min_cooling_set_point is not None:
        props.update(both_units("min_cooling_set_point", model.min_cooling_set_point, native))
        props.update(both_units("max_cooling_set_point", model.max_cooling_set_point or 0, native))
    if "heat_cool" in model.hvac_modes and model.min_heating_cooling_delta is not None:
        delta = model.min_heating_cooling_delta
        celsius = delta if native == "celsius" else delta_to_celsius(delta)
        props["min_heating_cooling_delta_celsius"] = celsius
        props["min_heating_cooling_delta_fahrenheit"] = delta_to_fahrenheit(celsius)
    if settings.get("temperature_threshold") is not None:
        props["temperature_threshold"] = settings["temperature_threshold"]
    return props


# --- the virtual thermostat's temperature over time ----------------------------------------


@dataclass(frozen=True)
class Physics:
    """Rates in °C per workspace minute and the on/off differential in °C (section 3.2)."""

    heating_rate: float = 0.05
    cooling_rate: float = 0.04
    drift_rate: float = 0.03
    differential: float = 0.5


@dataclass(frozen=True)
class Climate:
    """A virtual thermostat at one instant: its room temperature, the outside (ambient)
    temperature it drifts toward while idle, its mode and set points (°C), and what runs."""

    temperature: float
    ambient: float
    mode: HvacMode
    heating: float | None = None
    cooling: float | None = None
    running: Running = None


def _should_run(c: Climate, physics: Physics) -> Running:
    """What the HVAC does now: keep running until the set point, start past the differential."""
    heats, cools = c.mode in ("heat", "heat_cool", "eco"), c.mode in ("cool", "heat_cool", "eco")
    if heats and c.heating is not None:
        if c.running == "heat" and c.temperature < c.heating - TOLERANCE:
            return "heat"
        if c.temperature <= c.heating - physics.differential + TOLERANCE:
            return "heat"
    if cools and c.cooling is not None:
        if c.running == "cool" and c.temperature > c.cooling + TOLERANCE:
            return "cool"
        if c.temperature >= c.cooling + physics.differential - TOLERANCE:
            return "cool"
    return None


def _next_switch(c: Climate, physics: Physics) -> tuple[float, float] | None:
    """(minutes until the HVAC changes, the temperature then), or None if it never does."""
    if c.running == "heat":
        assert c.heating is not None
        return (c.heating - c.temperature) / physics.heating_rate, c.heating
    if c.running == "cool":
        assert c.cooling is not None
        return (c.temperature - c.cooling) / physics.cooling_rate, c.cooling
    targets = []
    if c.mode in ("heat", "heat_cool", "eco") and c.heating is not None \
            and c.ambient < c.heating - physics.differential:
        targets.append(c.heating - physics.differential)
    if c.mode in ("cool", "heat_cool", "eco") and c.cooling is not None \
            and c.ambient > c.cooling + physics.differential:
        targets.append(c.cooling + physics.differential)
    reachable = [t for t in targets if (t - c.temperature) * (c.ambient - c.temperature) > 0]
    if not reachable:
        return None
    target = min(reachable, key=lambda t: abs(t - c.temperature))
    return abs(target - c.temperature) / physics.drift_rate, target


def _drift(c: Climate, minutes: float, physics: Physics) -> float:
    if c.running == "heat":
        return c.temperature + physics.heating_rate * minutes
    if c.running == "cool":
        return c.temperature - physics.cooling_rate * minutes
    gap = c.ambient - c.temperature
    step = min(abs(gap), physics.drift_rate * minutes)
    return c.temperature + (step if gap > 0 else -step)


def settle(c: Climate, physics: Physics = Physics()) -> Climate:
    """The same instant with the HVAC doing what its mode and points say (after a change)."""
    return replace(c, running=_should_run(c, physics))


def next_switch_minutes(c: Climate, physics: Physics = Physics()) -> float | None:
    """Minutes until the HVAC next starts or stops, or None if it never does."""
    switch = _next_switch(settle(c, physics), physics)
    return None if switch is None else switch[0]


def advance(c: Climate, minutes: float, physics: Physics = Physics()) -> Climate:
    """The thermostat `minutes` of workspace time later, in closed form: the temperature moves
    linearly between the instants the HVAC starts or stops (at most two per cycle; a long jump
    skips whole cycles once the cycle repeats)."""
    c = settle(c, physics)
    left = minutes
    seen: dict[tuple[float, Running], float] = {}
    while left > TOLERANCE:
        switch = _next_switch(c, physics)
        if switch is None or switch[0] > left:
            return replace(c, temperature=_drift(c, left, physics))
        after, temperature = switch
        left -= after
        c = settle(replace(c, temperature=temperature, running=None if c.running else c.running),
                   physics)
        key = (round(c.temperature, 9), c.running)
        if key in seen and seen[key] > left:  # periodic: skip the whole cycles that remain
            left %= seen[key] - left
            seen.clear()
        seen[key] = left
    return c


# --- what a new reading means --------------------------------------------------------------

# Seam: "changed by at least 1 °C"; "within 1 °C of the configured cooling or heating set point".
CHANGE_CELSIUS = 1.0
REACHED_CELSIUS = 1.0
# The temperature threshold's limits: threshold events carry all four, null where unset.
THRESHOLD_LIMITS = ("lower_limit_celsius", "lower_limit_fahrenheit", "upper_limit_celsius",
                    "upper_limit_fahrenheit")


def target_celsius(state: dict[str, Any]) -> float | None:
    """The set point the thermostat works toward now, in °C: heat → heating, cool → cooling,
    heat_cool → the nearer of the two; none when off."""
    unit: Unit = state.get("unit", "celsius")
    mode = state.get("hvac_mode")
    points = []
    if uses_heating(mode) and state.get("heating_set_point") is not None:
        points.append(in_unit(state["heating_set_point"], unit, "celsius"))
    if uses_cooling(mode) and state.get("cooling_set_point") is not None:
        points.append(in_unit(state["cooling_set_point"], unit, "celsius"))
    temperature = state.get("temperature")
    if not points:
        return None
    if temperature is None or len(points) == 1:
        return points[0]
    now = in_unit(temperature, unit, "celsius")
    return min(points, key=lambda p: abs(p - now))


def _threshold_exceeded(threshold: dict[str, Any] | None, celsius: float) -> bool:
    if not threshold:
        return False
    lower, upper = threshold.get("lower_limit_celsius"), threshold.get("upper_limit_celsius")
    return (lower is not None and celsius < lower - TOLERANCE) or (
        upper is not None and celsius > upper + TOLERANCE)


def climate_events(settings: dict[str, Any], new: dict[str, Any],
                   ) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]:
    """The thermostat events a reading (`new`, a ThermostatState) means, and the settings that
    remember what was last reported: a change of 1 °C since the last `temperature_changed`,
    entering the 1 °C band around the set point (again only after leaving it or a new set
    point: cycling around the point is not news), and crossing out of or back into the
    temperature threshold."""
    found: list[tuple[str, dict[str, Any]]] = []
    settings = dict(settings)
    if new.get("temperature") is None:
        return found, settings
    unit: Unit = new.get("unit", "celsius")
    celsius = in_unit(new["temperature"], unit, "celsius")
    reading = both_units("temperature", new["temperature"], unit)
    last = settings.get("last_temperature_celsius")
    if last is None or abs(celsius - last) >= CHANGE_CELSIUS - TOLERANCE:
        if last is not None:
            found.append(("thermostat.temperature_changed", dict(reading)))
        settings["last_temperature_celsius"] = celsius
    target = target_celsius(new)
    near = target is not None and abs(celsius - target) <= REACHED_CELSIUS + TOLERANCE
    if not near or settings.get("reached_target_celsius") != target:
        # Left the band, or a new set point: the next entry into the band is news again.
        settings.pop("reached_target_celsius", None)
    if near and target is not None and settings.get("reached_target_celsius") is None:
        found.append(("thermostat.temperature_reached_set_point", {
            **reading, **both_units("desired_temperature", target, "celsius")}))
        settings["reached_target_celsius"] = target
    threshold = settings.get("temperature_threshold")
    exceeded = _threshold_exceeded(threshold, celsius)
    if exceeded != bool(settings.get("temperature_threshold_exceeded")):
        found.append(("thermostat.temperature_threshold_exceeded" if exceeded
                      else "thermostat.temperature_threshold_no_longer_exceeded",
                      {**reading, **dict.fromkeys(THRESHOLD_LIMITS), **(threshold or {})}))
        settings["temperature_threshold_exceeded"] = exceeded
    return found, settings
