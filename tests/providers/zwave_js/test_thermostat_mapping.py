"""The thermostat mapping on node dumps of its own (no stack): which nodes are thermostats, what
their values mean (docs/design/thermostats-and-noise-sensors.md section 4.2), the limits and
maker they report, and the sets a climate command needs, in order."""

from __future__ import annotations

from typing import Any

import pytest

from lockhub.catalogue import model, with_facts
from lockhub.providers.base import ClimateCommand
from lockhub.providers.zwave_js import mapping


def value(cc: int, prop: str, current: Any, key: Any = None, endpoint: int = 0,
          **metadata: Any) -> dict[str, Any]:
    data = {"commandClass": cc, "property": prop, "endpoint": endpoint, "value": current,
            "metadata": metadata}
    if key is not None:
        data["propertyKey"] = key
    return data


def node(*values: dict[str, Any], ccs: tuple[int, ...] = (64, 67), manufacturer: int = 0x0039,
         **extra: Any) -> dict[str, Any]:
    return {"nodeId": 7, "manufacturerId": manufacturer, "status": 4,
            "deviceConfig": {"manufacturer": "Honeywell", "label": "TH6320ZW"},
            "endpoints": [{"commandClasses": [{"id": cc} for cc in ccs]}],
            "values": list(values), **extra}


def honeywell(mode: int = 1, operating: int = 1, fan: int = 6,
              fan_state: int | None = 1) -> dict[str, Any]:
    values = [
        value(64, "mode", mode, states={"0": "Off", "1": "Heat", "2": "Cool", "3": "Auto"}),
        value(67, "setpoint", 68, key=1, unit="°F", min=40, max=90),
        value(67, "setpoint", 76, key=2, unit="°F", min=50, max=99),
        value(66, "state", operating),
        value(68, "mode", fan, states={"0": "Auto low", "1": "Low", "6": "Circulation"}),
        value(49, "Air temperature", 70.5, unit="°F"),
        value(49, "Humidity", 45, unit="%"),
    ]
    if fan_state is not None:
        values.append(value(69, "state", fan_state))
    return node(*values, ccs=(64, 66, 67, 68, 69, 49))


def test_thermostats_are_nodes_with_mode_or_setpoint_and_no_door_lock() -> None:
    assert mapping.is_thermostat(honeywell())
    assert mapping.is_thermostat(node(ccs=(67,)))
    assert not mapping.is_thermostat(node(ccs=(98, 64)))  # a lock with a mode is a lock
    assert not mapping.is_thermostat(node(ccs=(49,)))
    assert not mapping.is_thermostat(node(ccs=(64,), isControllerNode=True))


def test_a_honeywell_node_is_a_honeywell_resideo_thermostat_with_its_limits() -> None:
    snap = mapping.thermostat_snapshot(0xCAFE, honeywell())
    assert (snap.brand, snap.model, snap.device_type, snap.manufacturer) == (
        "zwave_js", "thermostat", "honeywell_resideo_thermostat", "honeywell_resideo")
    assert snap.provider_device_id == f"{0xCAFE}:7" and snap.online
    state = snap.thermostat
    assert state is not None
    assert (state.unit, state.hvac_mode, state.heating_set_point, state.cooling_set_point,
            state.fan_mode, state.temperature, state.relative_humidity) == (
        "fahrenheit", "heat", 68, 76, "circulate", 70.5, 0.45)
    assert (state.is_heating, state.is_cooling, state.is_fan_running) == (True, False, True)
    served = with_facts(model("zwave_js", "thermostat"), snap.model_facts).thermostat
    assert served is not None
    assert served.hvac_modes == ["off", "heat", "cool", "heat_cool"]
    assert served.fan_modes == ["auto", "on", "circulate"]
    assert (served.min_heating_set_point, served.max_heating_set_point,
            served.min_cooling_set_point, served.max_cooling_set_point,
            served.min_heating_cooling_delta) == (40, 90, 50, 99, 3)
    assert served.has_humidity_sensor


@pytest.mark.parametrize(("z_wave", "seam"), [
    (0, "off"), (1, "heat"), (11, "heat"), (2, "cool"), (12, "cool"), (3, "heat_cool"),
    (10, "heat_cool"), (6, None), (31, None)])
def test_z_wave_modes_read_as_seams(z_wave: int, seam: str | None) -> None:
    snap = mapping.thermostat_snapshot(1, honeywell(mode=z_wave))
    assert snap.thermostat is not None and snap.thermostat.hvac_mode == seam


def test_without_fan_state_a_forced_air_operating_state_runs_the_fan() -> None:
    for operating, running in ((0, False), (2, True), (3, True), (4, False)):
        state = mapping.thermostat_state(honeywell(operating=operating, fan_state=None))
        assert state.is_fan_running is running, operating
    assert mapping.thermostat_state(honeywell(operating=2, fan_state=0)).is_fan_running is False


def test_an_unknown_celsius_heat_only_node_keeps_the_generic_limits_in_celsius() -> None:
    data = node(value(64, "mode", 1, states={"0": "Off", "1": "Heat"}),
                value(67, "setpoint", 20.5, key=1, unit="°C"),
                value(49, "Air temperature", 19.0, unit="°C", endpoint=1),
                value(128, "level", 80),
                ccs=(64, 67, 128), manufacturer=0x9999, name="Hall")
    snap = mapping.thermostat_snapshot(1, data)
    assert (snap.device_type, snap.manufacturer, snap.name) == (
        "zwave_thermostat", "unknown", "Hall")
    assert snap.battery_level == 0.8
    assert snap.thermostat is not None
    assert (snap.thermostat.unit, snap.thermostat.heating_set_point,
            snap.thermostat.temperature) == ("celsius", 20.5, 19.0)
    served = with_facts(model("zwave_js", "thermostat"), snap.model_facts).thermostat
    assert served is not None
    assert (served.temperature_unit, served.set_point_step, served.hvac_modes,
            served.fan_modes) == ("celsius", 0.5, ["off", "heat"], [])
    assert served.min_heating_set_point == pytest.approx(4.44, abs=0.01)
    assert served.max_heating_set_point == pytest.approx(32.22, abs=0.01)
    assert served.min_heating_cooling_delta == pytest.approx(1.67, abs=0.01)
    assert served.has_direct_power is False


def test_a_command_sets_the_points_first_then_the_mode_then_the_fan() -> None:
    writes = mapping.climate_writes(honeywell(), ClimateCommand(
        hvac_mode="heat_cool", heating_set_point=66, cooling_set_point=78, fan_mode="on"))
    assert [(w.value_id, w.target) for w in writes] == [
        ("7-67-0-setpoint-1", 66), ("7-67-0-setpoint-2", 78), ("7-64-0-mode", 3),
        ("7-68-0-mode", 1)]
    assert [(w.command_class, w.get_args, w.answer_key) for w in writes[:2]] == [
        (67, (1,), "value"), (67, (2,), "value")]
    off = mapping.climate_writes(honeywell(), ClimateCommand(hvac_mode="off"))
    assert [(w.value_id, w.target) for w in off] == [("7-64-0-mode", 0)]


@pytest.mark.parametrize("command", [
    ClimateCommand(hvac_mode="eco"),
    ClimateCommand(fan_mode="sideways"),
])
def test_what_the_node_cannot_do_is_refused_before_any_set(command: ClimateCommand) -> None:
    with pytest.raises(ValueError):
        mapping.climate_writes(honeywell(), command)
