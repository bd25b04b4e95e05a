"""Thermostat rules, as pure functions: units, the set points a device accepts, and how a virtual
thermostat's temperature moves over workspace time (docs/design/thermostats-and-noise-sensors.md,
sections 1.2, 1.5 and 3.2).

Temperatures are kept in the device's own unit and served in both (Seam serves every point in
°C and °F, unrounded). A *delta* converts without the 32° offset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

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
