"""A real Z-Wave thermostat behind the Seam API: the official SDK against a lockhub server whose
production workspace is connected, through a Connect Webview, to a real zwave-js driver and
zwave-server running the mock network's thermostat (node 5, a Honeywell T6 Pro TH6320ZW, °F).
Settings go through the SDK; the room and a person at the thermostat through the mock's control
API (tests/zwave_harness/README.md)."""

from __future__ import annotations

from typing import Any

import pytest
from seam import Seam
from seam.exceptions import SeamActionAttemptFailedError, SeamHttpApiError

from tests.conformance.helpers import wait_until
from tests.providers.webview import events_of
from tests.providers.zwave_js.stack import HONEYWELL_T6, ZWaveStack

T6 = HONEYWELL_T6
OFF, HEAT, COOL, AUTO = 0, 1, 2, 3  # Z-Wave Thermostat Mode
AUTO_LOW, LOW, CIRCULATION = 0, 1, 6  # Z-Wave Thermostat Fan Mode


def setting(seam: Seam, device_id: str) -> Any:
    return seam.devices.get(device_id=device_id).properties.current_climate_setting


@pytest.fixture
def thermostat(seam: Seam, account: str, stack: ZWaveStack) -> Any:
    """Node 5 as lockhub serves it, once lockhub sees it back at Off, 68/76 °F, fan auto and
    70 °F in the room (earlier tests change them)."""
    stack.set_refuse(T6, on=False)
    stack.adjust_at_thermostat(T6, mode=OFF, heat=68, cool=76, fan=AUTO_LOW)
    stack.temperature(T6, 70)
    found = wait_until(lambda: seam.thermostats.list(connected_account_id=account), timeout=30,
                       message="the thermostat listed")
    assert len(found) == 1
    device_id = found[0].device_id

    def reset() -> bool:
        props = seam.devices.get(device_id=device_id).properties
        return (props.current_climate_setting.hvac_mode_setting == "off"
                and props.fan_mode_setting == "auto" and props.temperature_fahrenheit == 70)

    wait_until(reset, timeout=30, message="the thermostat reset")
    return seam.devices.get(device_id=device_id)


def test_the_thermostat_is_listed_with_its_maker_modes_and_limits(
        seam: Seam, account: str, thermostat: Any) -> None:
    listed = seam.thermostats.list(connected_account_id=account)
    assert [t.device_id for t in listed] == [thermostat.device_id]
    assert thermostat.device_id not in {d.device_id for d in seam.locks.list()}
    assert len(seam.locks.list(connected_account_id=account)) == 3
    assert thermostat.device_type == "honeywell_resideo_thermostat"
    assert [t.device_id for t in seam.thermostats.list(
        device_type="honeywell_resideo_thermostat")] == [thermostat.device_id]
    props = thermostat.properties
    assert props.manufacturer == "honeywell_resideo"
    assert "TH6320ZW" in props.model.display_name
    assert thermostat.display_name.endswith(f"(node {T6})")
    assert thermostat.device_provider.device_provider_name == "zwave_js"
    assert props.online is True and thermostat.errors == []
    assert props.available_hvac_mode_settings == ["off", "heat", "cool", "heat_cool"]
    assert props.available_fan_mode_settings == ["auto", "on", "circulate"]
    assert (props.min_heating_set_point_fahrenheit,
            props.max_heating_set_point_fahrenheit) == (40, 90)
    assert (props.min_cooling_set_point_fahrenheit,
            props.max_cooling_set_point_fahrenheit) == (50, 99)
    assert props.min_heating_set_point_celsius == pytest.approx(4.4444444)
    assert props.max_heating_set_point_celsius == pytest.approx(32.2222222)
    assert props.min_cooling_set_point_celsius == pytest.approx(10)
    assert props.max_cooling_set_point_celsius == pytest.approx(37.2222222)
    assert props.min_heating_cooling_delta_fahrenheit == pytest.approx(3)
    assert props.temperature_fahrenheit == 70
    assert props.temperature_celsius == pytest.approx(21.1111111)
    assert props.relative_humidity == pytest.approx(0.45)
    assert props.is_heating is False and props.is_cooling is False
    assert thermostat.can_hvac_heat and thermostat.can_hvac_cool
    assert thermostat.can_hvac_heat_cool and thermostat.can_turn_off_hvac


@pytest.mark.parametrize(("mode", "points", "expected"), [
    ("heat", {"heating_set_point_fahrenheit": 72}, {"mode": HEAT, "heating_set_point": 72}),
    ("cool", {"cooling_set_point_fahrenheit": 74}, {"mode": COOL, "cooling_set_point": 74}),
    # 19 °C = 66.2 °F and 25.5 °C = 77.9 °F: on the T6's 1 °F step
    ("heat_cool", {"heating_set_point_celsius": 19, "cooling_set_point_celsius": 25.5},
     {"mode": AUTO, "heating_set_point": 66, "cooling_set_point": 78}),
    ("off", {}, {"mode": OFF}),
])
def test_hvac_modes_through_the_sdk_change_the_thermostat(
        seam: Seam, stack: ZWaveStack, thermostat: Any, mode: str, points: dict[str, float],
        expected: dict[str, float]) -> None:
    device_id = thermostat.device_id
    if mode == "off":  # from a mode that runs
        assert seam.thermostats.heat(device_id=device_id, heating_set_point_fahrenheit=71,
                                     wait_for_action_attempt={"timeout": 40}).status == "success"
        assert stack.thermostat_state(T6)["mode"] == HEAT
    attempt = getattr(seam.thermostats, mode)(device_id=device_id,
                                              wait_for_action_attempt={"timeout": 40}, **points)
    assert attempt.status == "success", attempt.error
    state = stack.thermostat_state(T6)
    assert {key: state[key] for key in expected} == expected
    current = setting(seam, device_id)
    assert current.hvac_mode_setting == mode
    for name in ("heating_set_point", "cooling_set_point"):
        if name in expected:
            assert getattr(current, f"{name}_fahrenheit") == expected[name]
    adjusted = events_of(seam, device_id, "thermostat.manually_adjusted")
    assert any(e.method == "seam" and e.hvac_mode_setting == mode for e in adjusted)


def test_fan_modes_through_the_sdk_change_the_thermostat(
        seam: Seam, stack: ZWaveStack, thermostat: Any) -> None:
    device_id = thermostat.device_id
    for fan, z_wave in (("on", LOW), ("circulate", CIRCULATION), ("auto", AUTO_LOW)):
        attempt = seam.thermostats.set_fan_mode(device_id=device_id, fan_mode_setting=fan,
                                                wait_for_action_attempt={"timeout": 40})
        assert attempt.status == "success", attempt.error
        assert stack.thermostat_state(T6)["fan_mode"] == z_wave
        assert seam.devices.get(device_id=device_id).properties.fan_mode_setting == fan
    # The mock's fan runs in fan mode Low: lockhub hears the Fan State.
    seam.thermostats.set_fan_mode(device_id=device_id, fan_mode_setting="on",
                                  wait_for_action_attempt={"timeout": 40})
    wait_until(lambda: seam.devices.get(device_id=device_id).properties.is_fan_running,
               timeout=20, message="the fan running")


@pytest.mark.parametrize(("call", "error_type"), [
    (lambda s, d: s.thermostats.heat(device_id=d, heating_set_point_fahrenheit=95),
     "heating_set_point_out_of_range"),
    (lambda s, d: s.thermostats.cool(device_id=d, cooling_set_point_celsius=5),
     "cooling_set_point_out_of_range"),
])
def test_a_set_point_outside_the_nodes_limits_is_refused_before_it_reaches_the_node(
        seam: Seam, stack: ZWaveStack, thermostat: Any, call: Any, error_type: str) -> None:
    with pytest.raises(SeamHttpApiError) as refused:
        call(seam, thermostat.device_id)
    assert (refused.value.status_code, refused.value.code) == (400, error_type)
    state = stack.thermostat_state(T6)
    assert (state["mode"], state["heating_set_point"], state["cooling_set_point"]) == (OFF, 68, 76)


def test_the_room_temperature_reaches_lockhub_and_a_change_becomes_an_event(
        seam: Seam, stack: ZWaveStack, thermostat: Any) -> None:
    device_id = thermostat.device_id
    before = len(events_of(seam, device_id, "thermostat.temperature_changed"))
    stack.temperature(T6, 73.5)  # +3.5 °F: ~1.9 °C
    wait_until(lambda: seam.devices.get(device_id=device_id).properties.temperature_fahrenheit
               == 73.5, timeout=20, message="the new temperature")
    changed = wait_until(lambda: (found := events_of(
        seam, device_id, "thermostat.temperature_changed")) and len(found) > before and found,
        timeout=20, message="thermostat.temperature_changed")
    assert any(e.temperature_fahrenheit == 73.5 for e in changed)
    stack.humidity(T6, 38)
    wait_until(lambda: seam.devices.get(device_id=device_id).properties.relative_humidity
               == pytest.approx(0.38), timeout=20, message="the new humidity")
    stack.humidity(T6, 45)


def test_a_change_at_the_thermostat_changes_the_current_climate_setting(
        seam: Seam, stack: ZWaveStack, thermostat: Any) -> None:
    device_id = thermostat.device_id
    stack.adjust_at_thermostat(T6, mode=HEAT, heat=66, fan=CIRCULATION)

    def adjusted() -> bool:
        props = seam.devices.get(device_id=device_id).properties
        current = props.current_climate_setting
        return (current.hvac_mode_setting == "heat"
                and current.heating_set_point_fahrenheit == 66
                and props.fan_mode_setting == "circulate")

    wait_until(adjusted, timeout=20, message="the setting made at the thermostat")
    # Recorded as a change at the thermostat, not lockhub's (right after the new state).
    external = wait_until(lambda: [
        e for e in seam.events.list(since="2000-01-01T00:00:00Z", device_id=device_id,
                                    event_type="thermostat.manually_adjusted")
        if e.method == "external"], timeout=20, message="the change recorded as external")
    assert external[0].hvac_mode_setting == "heat"
    # The room (70 °F) is above 66 °F: the mock does not heat.
    assert seam.devices.get(device_id=device_id).properties.is_heating is False
    stack.temperature(T6, 64)
    wait_until(lambda: seam.devices.get(device_id=device_id).properties.is_heating, timeout=20,
               message="heating reported")


@pytest.mark.parametrize(("condition", "error_type"), [
    ("refuse", "device_cannot_perform_action"),
    ("dead", "device_offline"),
])
def test_a_thermostat_that_refuses_or_is_dead_fails_the_attempt_with_a_typed_error(
        seam: Seam, stack: ZWaveStack, thermostat: Any, condition: str, error_type: str) -> None:
    device_id = thermostat.device_id
    switch = stack.set_refuse if condition == "refuse" else stack.set_dead
    switch(T6, True)
    try:
        with pytest.raises(SeamActionAttemptFailedError) as failed:
            seam.thermostats.heat(device_id=device_id, heating_set_point_fahrenheit=73,
                                  wait_for_action_attempt={"timeout": 40})
        assert failed.value.action_attempt.error.type == error_type
        state = stack.thermostat_state(T6)
        assert (state["mode"], state["heating_set_point"]) == (OFF, 68)
        if condition == "dead":
            wait_until(lambda: seam.devices.get(device_id=device_id).properties.online is False,
                       timeout=20, message="the dead thermostat offline")
    finally:
        switch(T6, False)
    wait_until(lambda: seam.devices.get(device_id=device_id).properties.online, timeout=30,
               message="the thermostat back online")
