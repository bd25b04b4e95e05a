"""Thermostat rules (domain/thermostats.py): units as Seam serves them, the set points a model
accepts and the errors for the others, and the virtual thermostat's temperature over workspace
time (the worked examples of docs/design/thermostats-and-noise-sensors.md, section 3.2)."""

from __future__ import annotations

import pytest

from lockhub.domain.thermostats import (
    Climate,
    SetPointLimits,
    ThermostatRuleError,
    advance,
    both_units,
    check_setting,
    delta_to_fahrenheit,
    settle,
    to_celsius,
)

# An ecobee3 lite: °F in whole degrees, heat 45-79, cool 65-92, 5 °F apart.
ECOBEE = SetPointLimits(unit="fahrenheit", step=1, modes=("off", "heat", "cool", "heat_cool"),
                        min_heating=45, max_heating=79, min_cooling=65, max_cooling=92,
                        min_delta=5)
HEAT_ONLY = SetPointLimits(unit="fahrenheit", step=1, modes=("off", "heat"), min_heating=45,
                           max_heating=99)
NEST = SetPointLimits(unit="celsius", step=0.5, modes=("off", "heat", "cool", "heat_cool", "eco"),
                      min_heating=9, max_heating=32, min_cooling=9, max_cooling=32,
                      min_delta=1.5)


def test_units_as_seam_serves_them() -> None:
    assert both_units("temperature", 45, "fahrenheit") == {
        "temperature_celsius": pytest.approx(7.222222222222222),
        "temperature_fahrenheit": 45}
    assert both_units("temperature", 20, "celsius")["temperature_fahrenheit"] == 68
    # A gap converts without the 32° offset: 5 °F apart is 2.78 °C apart.
    assert delta_to_fahrenheit(2.7777777777777777) == pytest.approx(5)


def test_points_are_checked_in_the_callers_unit_and_stored_in_the_devices() -> None:
    # The minimum given in Celsius passes (float noise aside) and is stored as 45 °F.
    assert check_setting(ECOBEE, "heat", heating=to_celsius(45), cooling=None,
                         unit="celsius") == (45, None)
    assert check_setting(ECOBEE, "heat_cool", heating=68.4, cooling=75, unit="fahrenheit") == (
        68, 75)
    assert check_setting(NEST, "heat", heating=20.3, cooling=None, unit="celsius") == (20.5, None)
    # Points of other modes are not kept.
    assert check_setting(ECOBEE, "cool", heating=60, cooling=72, unit="fahrenheit") == (None, 72)


@pytest.mark.parametrize(("limits", "mode", "heating", "cooling", "unit", "error_type"), [
    (ECOBEE, "heat", 44, None, "fahrenheit", "heating_set_point_out_of_range"),
    (ECOBEE, "heat", 27, None, "celsius", "heating_set_point_out_of_range"),  # 80.6 °F
    (ECOBEE, "cool", None, 64, "fahrenheit", "cooling_set_point_out_of_range"),
    (ECOBEE, "heat_cool", 70, 74, "fahrenheit", "invalid_heating_cooling_delta"),
    (ECOBEE, "heat_cool", 72, 66, "fahrenheit", "invalid_heating_cooling_delta"),  # heat > cool
    (NEST, "heat_cool", 20, 21, "celsius", "invalid_heating_cooling_delta"),
    (HEAT_ONLY, "cool", None, 70, "fahrenheit", "cool_mode_not_available"),
    (HEAT_ONLY, "heat_cool", 60, 70, "fahrenheit", "heat_cool_not_available"),
    (ECOBEE, "eco", None, None, "fahrenheit", "eco_mode_not_available"),
])
def test_settings_the_device_refuses(limits: SetPointLimits, mode: str, heating: float | None,
                                     cooling: float | None, unit: str, error_type: str) -> None:
    with pytest.raises(ThermostatRuleError) as refused:
        check_setting(limits, mode, heating=heating, cooling=cooling, unit=unit)  # type: ignore[arg-type]
    assert refused.value.error_type == error_type
    assert refused.value.message


def test_the_range_message_names_both_units() -> None:
    with pytest.raises(ThermostatRuleError, match=r"45 °F \(7.22 °C\) and 79 °F \(26.11 °C\)"):
        check_setting(ECOBEE, "heat", heating=90, cooling=None, unit="fahrenheit")


def test_heating_runs_to_the_set_point_then_cycles() -> None:
    start = settle(Climate(temperature=17.0, ambient=10.0, mode="heat", heating=20.0))
    assert start.running == "heat"  # 17 is below 20 - 0.5
    assert advance(start, 20).temperature == pytest.approx(18.0)
    assert advance(start, 40).temperature == pytest.approx(19.0)
    at_set_point = advance(start, 60)
    assert at_set_point.temperature == pytest.approx(20.0) and at_set_point.running is None
    # Idle, it drifts toward the 10 °C outside and starts again at 19.5: 16.67 minutes later.
    assert advance(start, 76).running is None
    assert advance(start, 76).temperature == pytest.approx(20 - 0.03 * 16)
    assert advance(start, 77).running == "heat"
    assert advance(start, 86.66).running == "heat"
    assert advance(start, 86.7).running is None
    # A long jump lands on the same point of the cycle as stepping through it.
    week = 7 * 24 * 60
    assert advance(start, week + 60).temperature == pytest.approx(
        advance(advance(start, week), 60).temperature)
    stepped = start
    for _ in range(100):
        stepped = advance(stepped, 26.666666666666668)
    assert stepped.temperature == pytest.approx(advance(start, 2666.6666666666665).temperature)


def test_cooling_and_an_idle_thermostat() -> None:
    start = settle(Climate(temperature=27.0, ambient=30.0, mode="cool", cooling=24.0))
    assert start.running == "cool"
    assert advance(start, 75).temperature == pytest.approx(24.0)
    assert advance(start, 75).running is None
    assert advance(start, 75 + 16.6).running is None
    assert advance(start, 75 + 16.7).running == "cool"
    # Off: the room drifts to the outside temperature and stays there.
    off = Climate(temperature=21.0, ambient=12.0, mode="off")
    assert advance(off, 60).temperature == pytest.approx(19.2)
    assert advance(off, 10_000).temperature == pytest.approx(12.0)
    # Heating with a warmer outside never starts: it drifts up past the set point.
    summer = settle(Climate(temperature=21.0, ambient=28.0, mode="heat", heating=20.0))
    assert summer.running is None and advance(summer, 100).temperature == pytest.approx(24.0)


def test_heat_cool_keeps_the_room_between_its_points() -> None:
    start = settle(Climate(temperature=15.0, ambient=5.0, mode="heat_cool", heating=19.0,
                           cooling=25.0))
    assert start.running == "heat"
    assert advance(start, 80).temperature == pytest.approx(19.0)  # reached after 80 minutes
    for minutes in (90, 200, 1000, 5000):  # then held between 18.5 and 19, never cooled
        later = advance(start, minutes)
        assert 18.5 - 1e-6 <= later.temperature <= 19.0 + 1e-6
        assert later.running != "cool"
