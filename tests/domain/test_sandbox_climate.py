"""A virtual thermostat's and noise sensor's state as the sandbox keeps it
(providers/sandbox/climate.py): what they report at an instant, and when they next have
something new to report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lockhub.catalogue import model
from lockhub.providers.base import ClimateCommand
from lockhub.providers.sandbox import climate

NEST = model("nest", "learning_thermostat").thermostat
MINUT = model("minut", "gen3").noise_sensor
T0 = datetime(2026, 1, 15, 9, 20, tzinfo=UTC)


def room(**given: object) -> dict[str, object]:
    device = {"climate": {"hvac_mode": "heat", "heating_set_point": 20.0, "fan_mode": "auto",
                          "temperature": 17.0, "ambient_celsius": 10.0, **given}}
    assert NEST is not None
    return climate.initial_climate(device, NEST, T0)


def test_a_heating_room_reaches_its_point_in_an_hour_and_the_fan_runs_with_it() -> None:
    assert NEST is not None
    start = room()
    state = climate.thermostat_state(start, T0)
    assert (state.is_heating, state.is_fan_running, state.temperature) == (True, True, 17.0)
    later = climate.advanced(start, NEST, T0 + timedelta(minutes=40))
    assert climate.thermostat_state(later, T0).temperature == 19.0
    done = climate.advanced(start, NEST, T0 + timedelta(minutes=60))
    state = climate.thermostat_state(done, T0 + timedelta(minutes=60))
    assert (state.temperature, state.is_heating, state.is_fan_running) == (20.0, False, False)


def test_the_next_report_is_the_next_switch_or_five_minutes() -> None:
    assert NEST is not None
    start = room()
    assert climate.next_thermostat_report(start, NEST, T0) == T0 + timedelta(minutes=5)
    at = T0 + timedelta(minutes=58)
    near = climate.advanced(start, NEST, at)
    # 19.9 °C, 0.1 °C from the point at 3 °C an hour: the heating stops in two minutes.
    assert climate.next_thermostat_report(near, NEST, at) == at + timedelta(minutes=2)
    # Idle at 19.9 °C (above the 0.5 °C differential): drifting, reported every 5 minutes.
    idle = room(temperature=19.9)
    assert climate.thermostat_state(idle, T0).is_heating is False
    assert climate.next_thermostat_report(idle, NEST, T0) == T0 + timedelta(minutes=5)


def test_circulate_runs_the_fan_the_first_quarter_of_each_hour() -> None:
    idle = room(hvac_mode="off", fan_mode="circulate")
    assert climate.thermostat_state(idle, T0.replace(minute=10)).is_fan_running is True
    assert climate.thermostat_state(idle, T0.replace(minute=20)).is_fan_running is False
    assert NEST is not None
    assert climate.next_thermostat_report(idle, NEST, T0.replace(minute=10)) == T0.replace(
        minute=15)


def test_a_command_applies_at_once_and_a_static_room_stays() -> None:
    assert NEST is not None
    cooled = climate.applied(room(), NEST, ClimateCommand(hvac_mode="off"),
                             T0 + timedelta(minutes=20))
    state = climate.thermostat_state(cooled, T0 + timedelta(minutes=20))
    assert (state.hvac_mode, state.is_heating, state.temperature) == ("off", False, 18.0)
    static = room(physics="static")
    assert climate.advanced(static, NEST, T0 + timedelta(hours=5)) == static
    assert climate.next_thermostat_report(static, NEST, T0) is None


def test_a_disturbance_rises_holds_and_falls_back() -> None:
    assert MINUT is not None
    quiet = climate.initial_noise({"noise": {"time_zone": "America/Los_Angeles"}})
    loud = climate.disturbed(quiet, 80.0, T0)
    assert climate.noise_state(loud, MINUT, "sensor", T0).noise_level_decibels == 80.0
    assert climate.noise_state(loud, MINUT, "sensor",
                               T0 + timedelta(minutes=10)).noise_level_decibels == 70.0
    assert climate.next_noise_report(loud, "sensor", T0) == T0 + timedelta(minutes=1)
    after = T0 + timedelta(minutes=40)
    assert climate.noise_state(loud, MINUT, "sensor", after).noise_level_decibels < 50
    assert climate.next_noise_report(loud, "sensor", after) == after + timedelta(minutes=5)
