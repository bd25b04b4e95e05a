"""What a Z-Wave lock or thermostat node says, as lockhub's snapshots and reports (pure: no I/O).

Door Lock CC (98) gives the bolt (`currentMode` 255 secured, anything else unsecured) and the
door; User Code CC (99) the PIN slots; Notification CC (113) type 6 "Access Control" says how the
lock moved (manual, keypad with the user slot, RF, auto) and when PINs changed at the lock;
Battery CC (128) the level. Jams are a state value ("Lock state" 11), not an event.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
from zwave_js_server.const import CommandClass

from lockhub.catalogue import LockMaker, maker_by_zwave_id
from lockhub.catalogue import model as catalogue_model
from lockhub.providers.base import (
    AccessDeniedReport,
    ClimateCommand,
    CodesChangedReport,
    DeviceSnapshot,
    LockOperationReport,
    Report,
    ThermostatState,
)

DOOR_LOCK = CommandClass.DOOR_LOCK
USER_CODE = CommandClass.USER_CODE
NOTIFICATION = CommandClass.NOTIFICATION
BATTERY = CommandClass.BATTERY
SECURED = 255
ACCESS_CONTROL = 6

# Notification CC, Access Control events (Z-Wave Alliance notification types, zwave-js config).
LOCKED = {1: "manual", 3: "remote", 5: "keycode", 9: "automatic"}
UNLOCKED = {2: "manual", 4: "remote", 6: "keycode"}
JAMMED_EVENTS = {7, 8, 10, 11}  # not fully locked (manual, RF, auto), lock jammed
CODES_CHANGED = {12, 13, 14}  # all user codes deleted, one deleted, new code added
DENIED = {19, 20, 21}  # code limit exceeded at the keypad, RF operation with an invalid code
DOOR_OPEN, DOOR_CLOSED = 22, 23
LOCK_STATE_JAMMED = 11


@cache
def _models() -> dict[str, Any]:
    return json.loads(Path(__file__).with_name("models.json").read_text())


def provider_device_id(home_id: int, node_id: int) -> str:
    return f"{home_id}:{node_id}"


def node_id_of(provider_device_id: str) -> int:
    return int(provider_device_id.rsplit(":", 1)[-1])


def _values(node_data: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in node_data.get("values", []) if v.get("endpoint", 0) == 0]


def value_of(node_data: dict[str, Any], command_class: int, prop: str) -> Any:
    for value in _values(node_data):
        if value.get("commandClass") == command_class and value.get("property") == prop:
            return value.get("value")
    return None


def has_cc(node_data: dict[str, Any], command_class: int) -> bool:
    endpoints = node_data.get("endpoints") or [{}]
    ccs = {cc.get("id") for cc in (endpoints[0].get("commandClasses") or [])}
    if ccs:
        return command_class in ccs
    return any(v.get("commandClass") == command_class for v in _values(node_data))


def is_lock(node_data: dict[str, Any]) -> bool:
    return not node_data.get("isControllerNode") and has_cc(node_data, DOOR_LOCK)


def slot_count(node_data: dict[str, Any]) -> int:
    supported = value_of(node_data, USER_CODE, "supportedUsers")
    if isinstance(supported, int) and supported > 0:
        return supported
    return len({v.get("propertyKey") for v in _values(node_data)
                if v.get("commandClass") == USER_CODE and v.get("property") == "userCode"})


def jammed(node_data: dict[str, Any]) -> bool:
    for value in _values(node_data):
        if value.get("commandClass") == NOTIFICATION and value.get("property") == "Access Control" \
                and value.get("propertyKey") == "Lock state":
            return value.get("value") == LOCK_STATE_JAMMED
    return False


def code_lengths(maker: str | None, manufacturer_id: int | None, product_type: int | None,
                 product_id: int | None) -> list[int]:
    table = _models()
    key = f"0x{manufacturer_id or 0:04x}:0x{product_type or 0:04x}:0x{product_id or 0:04x}"
    rules = table["models"].get(key) or table["makers"].get(maker or "") or table["default"]
    return list(rules["supported_code_lengths"])


class NodeIdentity(msgspec.Struct, frozen=True):
    """Who made a node and what it is, as the node and the driver's device database say."""

    node_id: int
    maker: LockMaker | None
    maker_name: str
    label: str | None
    model_name: str
    metadata: dict[str, Any]

    def name(self, node_data: dict[str, Any], kind: str) -> str:
        return node_data.get("name") or f"{self.maker_name} {self.label or kind} " \
            f"(node {self.node_id})"


def identity(home_id: int, node_data: dict[str, Any], kind: str) -> NodeIdentity:
    """The node's maker (lockhub's maker table, else the device database's name), its model
    name (`kind` when the node names none) and the metadata lockhub serves for it."""
    config = node_data.get("deviceConfig") or {}
    manufacturer_id = node_data.get("manufacturerId")
    maker = maker_by_zwave_id(manufacturer_id)
    label = config.get("label") or node_data.get("label")
    description = config.get("description")
    return NodeIdentity(
        node_id=node_data["nodeId"], maker=maker,
        maker_name=maker.display_name if maker else (config.get("manufacturer") or "Z-Wave"),
        label=label,
        model_name=" ".join(p for p in (label, description) if p) or f"Z-Wave {kind}",
        metadata={"node_id": node_data["nodeId"], "home_id": home_id,
                  "manufacturer_id": manufacturer_id,
                  "product_type": node_data.get("productType"),
                  "product_id": node_data.get("productId"),
                  "firmware_version": node_data.get("firmwareVersion"),
                  "device_database_url": node_data.get("deviceDatabaseUrl")})


def snapshot(home_id: int, node_data: dict[str, Any]) -> DeviceSnapshot:
    """A lock node as lockhub's device state."""
    who = identity(home_id, node_data, "lock")
    maker = who.maker
    mode = value_of(node_data, DOOR_LOCK, "currentMode")
    door = value_of(node_data, DOOR_LOCK, "doorStatus")
    battery = value_of(node_data, BATTERY, "level")
    codes = has_cc(node_data, USER_CODE)
    slots = slot_count(node_data) if codes else 0
    facts: dict[str, Any] = {
        "display_name": who.model_name,
        "has_built_in_keypad": codes,
        "online_access_codes": codes and slots > 0,
        "code_slots": slots,
        "max_active_codes_supported": slots,
        "supported_code_lengths": code_lengths(maker.key if maker else None,
                                               node_data.get("manufacturerId"),
                                               node_data.get("productType"),
                                               node_data.get("productId")),
        "door_sensor": door is not None,
        "supports_backup_access_code_pool": slots > 3,
    }
    return DeviceSnapshot(
        provider_device_id=provider_device_id(home_id, who.node_id),
        brand="zwave_js", model="lock", name=who.name(node_data, "lock"),
        # Dead is the driver's verdict after its retries; asleep FLiRS locks still answer.
        online=node_data.get("status") != 3,
        locked=None if mode is None or mode == 254 else mode == SECURED,
        door_open=None if door is None else door == "open",
        battery_level=None if battery is None else max(0.0, min(1.0, battery / 100)),
        jammed=jammed(node_data),
        manufacturer=maker.key if maker else "unknown",
        manufacturer_display_name=who.maker_name,
        device_type=maker.device_type if maker else "zwave_lock",
        metadata=who.metadata,
        model_facts=facts,
    )


def notification_report(pdid: str, event: int,
                        parameters: dict[str, Any]) -> tuple[Report | None, bool | None]:
    """(report, jammed) for an Access Control notification; either may be None."""
    user = parameters.get("userId")
    ref = str(user) if isinstance(user, int) else None
    if event in LOCKED:
        return LockOperationReport(provider_device_id=pdid, locked=True, method=LOCKED[event],
                                   code_ref=ref if event == 5 else None), False
    if event in UNLOCKED:
        return LockOperationReport(provider_device_id=pdid, locked=False,
                                   method=UNLOCKED[event],
                                   code_ref=ref if event == 6 else None), False
    if event in JAMMED_EVENTS:
        return None, True
    if event in CODES_CHANGED:
        return CodesChangedReport(provider_device_id=pdid), None
    if event in DENIED:
        return AccessDeniedReport(provider_device_id=pdid, code_ref=ref), None
    return None, None


# --- thermostats ---------------------------------------------------------------------------
#
# Thermostat Mode CC (64) `mode`, Thermostat Setpoint CC (67) `setpoint` by type (1 heating,
# 2 cooling; metadata unit and, with v3, min/max), Thermostat Operating State (66) `state`,
# Thermostat Fan Mode (68) `mode`, Thermostat Fan State (69) `state`, Multilevel Sensor (49)
# "Air temperature" and "Humidity" (docs/design/thermostats-and-noise-sensors.md section 4).

THERMOSTAT_MODE = CommandClass.THERMOSTAT_MODE
THERMOSTAT_OPERATING_STATE = CommandClass.THERMOSTAT_OPERATING_STATE
THERMOSTAT_SETPOINT = CommandClass.THERMOSTAT_SETPOINT
THERMOSTAT_FAN_MODE = CommandClass.THERMOSTAT_FAN_MODE
THERMOSTAT_FAN_STATE = CommandClass.THERMOSTAT_FAN_STATE
SENSOR_MULTILEVEL = CommandClass.SENSOR_MULTILEVEL
HEATING, COOLING = 1, 2  # set point types

# Z-Wave mode -> Seam hvac_mode_setting (HA's ZW_HVAC_MODE_MAP); modes Seam has no name for
# (5 Resume, 6 Fan, 8 Dry, 9 Moist, 31 Manufacturer specific) read as None.
MODE_READ = {0: "off", 1: "heat", 4: "heat", 7: "heat", 11: "heat", 15: "heat",
             2: "cool", 12: "cool", 3: "heat_cool", 10: "heat_cool", 13: "heat_cool"}
# Seam mode -> the Z-Wave modes to write, first supported wins.
MODE_WRITE = {"off": (0,), "heat": (1,), "cool": (2,), "heat_cool": (3, 10)}
# The set point types a mode uses, when the node has them (zjs-py THERMOSTAT_MODE_SETPOINT_MAP).
HEATING_TYPE_BY_MODE = {7: 7, 11: 11, 15: 15, 10: 10, 13: 13}
COOLING_TYPE_BY_MODE = {12: 12, 10: 10, 13: 14}
# Z-Wave fan mode <-> Seam fan_mode_setting (lockhub's mapping).
FAN_READ = {0: "auto", 2: "auto", 4: "auto", 1: "on", 3: "on", 5: "on", 6: "circulate"}
FAN_WRITE = {"auto": (0, 2, 4), "on": (1, 3, 5), "circulate": (6,)}
HEATING_STATES = {1, 7, 8, 10, 11}
COOLING_STATES = {2, 9}
FAN_RUNNING_STATES = {1, 2, 3, 6, 7, 8, 9, 10, 11}  # without Fan State CC (forced air)
SET_POINT_STEP = {"fahrenheit": 1.0, "celsius": 0.5}
HVAC_ORDER = ("off", "heat", "cool", "heat_cool")
FAN_ORDER = ("auto", "on", "circulate")


def is_thermostat(node_data: dict[str, Any]) -> bool:
    return (not node_data.get("isControllerNode") and not has_cc(node_data, DOOR_LOCK)
            and (has_cc(node_data, THERMOSTAT_MODE) or has_cc(node_data, THERMOSTAT_SETPOINT)))


def find_value(node_data: dict[str, Any], command_class: int, prop: str,
               key: Any = None) -> dict[str, Any] | None:
    """The value on endpoint 0, else on the lowest endpoint that has it."""
    found = [v for v in node_data.get("values", [])
             if v.get("commandClass") == command_class and v.get("property") == prop
             and (key is None or v.get("propertyKey") == key)]
    return min(found, key=lambda v: v.get("endpoint") or 0) if found else None


def _number(value: dict[str, Any] | None) -> float | None:
    raw = None if value is None else value.get("value")
    return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None


def _integer(value: dict[str, Any] | None) -> int | None:
    raw = None if value is None else value.get("value")
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _meta(value: dict[str, Any] | None) -> dict[str, Any]:
    return (value or {}).get("metadata") or {}


def _states(value: dict[str, Any] | None) -> set[int]:
    return {int(k) for k in (_meta(value).get("states") or {}) if str(k).lstrip("-").isdigit()}


def _unit_of(value: dict[str, Any] | None) -> str | None:
    unit = str(_meta(value).get("unit") or "")
    if "F" in unit:
        return "fahrenheit"
    if "C" in unit:
        return "celsius"
    return None


def _convert(value: float, unit: str | None, wanted: str) -> float:
    if unit is None or unit == wanted:
        return value
    return value * 9 / 5 + 32 if wanted == "fahrenheit" else (value - 32) * 5 / 9


def set_point_value(node_data: dict[str, Any], set_point_type: int) -> dict[str, Any] | None:
    return find_value(node_data, THERMOSTAT_SETPOINT, "setpoint", set_point_type)


def thermostat_unit(node_data: dict[str, Any]) -> str:
    """The unit the thermostat keeps its set points in (the set points' metadata unit, else the
    air temperature's; Fahrenheit when it says neither)."""
    for value in (set_point_value(node_data, HEATING), set_point_value(node_data, COOLING),
                  find_value(node_data, SENSOR_MULTILEVEL, "Air temperature")):
        if (unit := _unit_of(value)) is not None:
            return unit
    return "fahrenheit"


def _mode_set_points(node_data: dict[str, Any], mode: int | None) -> tuple[
        dict[str, Any] | None, dict[str, Any] | None]:
    """The heating and cooling set point values the current mode uses."""
    heating = set_point_value(node_data, HEATING_TYPE_BY_MODE.get(mode or 0, HEATING)) \
        or set_point_value(node_data, HEATING)
    cooling = set_point_value(node_data, COOLING_TYPE_BY_MODE.get(mode or 0, COOLING)) \
        or set_point_value(node_data, COOLING)
    return heating, cooling


def thermostat_state(node_data: dict[str, Any]) -> ThermostatState:
    unit = thermostat_unit(node_data)
    mode = _integer(find_value(node_data, THERMOSTAT_MODE, "mode"))
    heating, cooling = _mode_set_points(node_data, mode)
    points = {}
    for name, value in (("heating_set_point", heating), ("cooling_set_point", cooling)):
        number = _number(value)
        if number is not None:
            points[name] = round(_convert(number, _unit_of(value), unit), 4)
    air = find_value(node_data, SENSOR_MULTILEVEL, "Air temperature")
    temperature = _number(air)
    humidity = _number(find_value(node_data, SENSOR_MULTILEVEL, "Humidity"))
    operating = _integer(find_value(node_data, THERMOSTAT_OPERATING_STATE, "state"))
    fan_state = find_value(node_data, THERMOSTAT_FAN_STATE, "state")
    fan = _integer(find_value(node_data, THERMOSTAT_FAN_MODE, "mode"))
    if fan_state is not None and _integer(fan_state) is not None:
        fan_running = _integer(fan_state) != 0
    else:
        fan_running = operating in FAN_RUNNING_STATES
    return ThermostatState(
        unit=unit,  # type: ignore[arg-type]
        hvac_mode=None if mode is None else MODE_READ.get(mode),
        fan_mode=None if fan is None else FAN_READ.get(fan),
        temperature=None if temperature is None
        else round(_convert(temperature, _unit_of(air), unit), 4),
        relative_humidity=None if humidity is None else max(0.0, min(1.0, humidity / 100)),
        is_heating=operating in HEATING_STATES,
        is_cooling=operating in COOLING_STATES,
        is_fan_running=fan_running,
        **points,
    )


def _generic_thermostat() -> Any:
    return catalogue_model("zwave_js", "thermostat").thermostat


def thermostat_facts(node_data: dict[str, Any]) -> dict[str, Any]:
    """What this thermostat accepts, from what the node reports: its modes (the `mode` value's
    `states`), fan modes, unit and step, and set point limits (Setpoint v3 Capabilities, the
    set points' metadata min/max); limits it does not report are the generic model's."""
    unit = thermostat_unit(node_data)
    mode_states = _states(find_value(node_data, THERMOSTAT_MODE, "mode"))
    facts: dict[str, Any] = {"temperature_unit": unit, "set_point_step": SET_POINT_STEP[unit]}
    if mode_states:
        facts["hvac_modes"] = [m for m in HVAC_ORDER if set(MODE_WRITE[m]) & mode_states]
    fan = find_value(node_data, THERMOSTAT_FAN_MODE, "mode")
    facts["fan_modes"] = [f for f in FAN_ORDER if set(FAN_WRITE[f]) & _states(fan)] \
        if fan is not None else []
    generic = _generic_thermostat()
    for kind, set_point_type in (("heating", HEATING), ("cooling", COOLING)):
        value = set_point_value(node_data, set_point_type)
        for bound in ("min", "max"):
            raw = _meta(value).get(bound)
            name = f"{bound}_{kind}_set_point"
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                facts[name] = round(_convert(float(raw), _unit_of(value), unit), 4)
            elif unit != generic.temperature_unit and getattr(generic, name) is not None:
                facts[name] = round(_convert(getattr(generic, name),
                                             generic.temperature_unit, unit), 2)
    if unit != generic.temperature_unit and generic.min_heating_cooling_delta is not None:
        delta = generic.min_heating_cooling_delta
        facts["min_heating_cooling_delta"] = round(
            delta * 5 / 9 if unit == "celsius" else delta * 9 / 5, 2)
    facts["has_humidity_sensor"] = find_value(node_data, SENSOR_MULTILEVEL, "Humidity") is not None
    facts["has_direct_power"] = not has_cc(node_data, BATTERY)
    return facts


def thermostat_snapshot(home_id: int, node_data: dict[str, Any]) -> DeviceSnapshot:
    """A thermostat node as lockhub's device state."""
    who = identity(home_id, node_data, "thermostat")
    maker = who.maker
    battery = value_of(node_data, BATTERY, "level")
    return DeviceSnapshot(
        provider_device_id=provider_device_id(home_id, who.node_id),
        brand="zwave_js", model="thermostat", name=who.name(node_data, "thermostat"),
        online=node_data.get("status") != 3,
        battery_level=None if battery is None else max(0.0, min(1.0, battery / 100)),
        manufacturer=maker.key if maker else "unknown",
        manufacturer_display_name=who.maker_name,
        device_type=(maker.thermostat_device_type if maker else None) or "zwave_thermostat",
        metadata=who.metadata,
        model_facts={"display_name": who.model_name, "thermostat": thermostat_facts(node_data)},
        thermostat=thermostat_state(node_data),
    )


class ClimateWrite(msgspec.Struct, frozen=True):
    """One value lockhub writes to change a thermostat's settings, and how to read it back:
    `async_invoke_cc_api(command_class, "get", *get_args)` answers `{answer_key: value}`."""

    what: str  # "heating set point", "mode", "fan mode"
    value_id: str
    target: float | int
    command_class: int
    get_args: tuple[int, ...] = ()
    answer_key: str = "mode"


def climate_writes(node_data: dict[str, Any], command: ClimateCommand) -> list[ClimateWrite]:
    """The sets a command needs, in order: set points first (so the HVAC does not run toward
    an old point), then the mode, then the fan. ValueError for what the node cannot do."""
    node_id = node_data["nodeId"]
    unit = thermostat_unit(node_data)
    writes: list[ClimateWrite] = []
    mode_value = find_value(node_data, THERMOSTAT_MODE, "mode")
    target_mode: int | None = None
    if command.hvac_mode is not None:
        supported = _states(mode_value)
        candidates = MODE_WRITE.get(command.hvac_mode, ())
        target_mode = next((m for m in candidates if not supported or m in supported), None)
        if mode_value is None or target_mode is None:
            raise ValueError(f"The thermostat has no {command.hvac_mode} mode.")
    for what, point, by_mode, default in (
            ("heating set point", command.heating_set_point, HEATING_TYPE_BY_MODE, HEATING),
            ("cooling set point", command.cooling_set_point, COOLING_TYPE_BY_MODE, COOLING)):
        if point is None:
            continue
        current_mode = target_mode if target_mode is not None else _integer(mode_value)
        value = set_point_value(node_data, by_mode.get(current_mode or 0, default)) \
            or set_point_value(node_data, default)
        if value is None:
            raise ValueError(f"The thermostat has no {what}.")
        key = value.get("propertyKey")
        target = round(_convert(point, unit, _unit_of(value) or unit), 1)
        writes.append(ClimateWrite(
            what=what, target=int(target) if target == int(target) else target,
            value_id=_value_id(node_id, value), command_class=THERMOSTAT_SETPOINT,
            get_args=(int(key),), answer_key="value"))
    if target_mode is not None and mode_value is not None:
        writes.append(ClimateWrite(what="mode", target=target_mode, command_class=THERMOSTAT_MODE,
                                   value_id=_value_id(node_id, mode_value)))
    if command.fan_mode is not None:
        fan_value = find_value(node_data, THERMOSTAT_FAN_MODE, "mode")
        supported = _states(fan_value)
        fan = next((f for f in FAN_WRITE.get(command.fan_mode, ())
                    if not supported or f in supported), None)
        if fan_value is None or fan is None:
            raise ValueError(f"The thermostat has no {command.fan_mode} fan mode.")
        writes.append(ClimateWrite(what="fan mode", target=fan,
                                   command_class=THERMOSTAT_FAN_MODE,
                                   value_id=_value_id(node_id, fan_value)))
    return writes


def _value_id(node_id: int, value: dict[str, Any]) -> str:
    parts = [str(node_id), str(value.get("commandClass")), str(value.get("endpoint") or 0),
             str(value.get("property"))]
    if value.get("propertyKey") is not None:
        parts.append(str(value["propertyKey"]))
    return "-".join(parts)


def adjusted_setting(value: Any) -> bool:
    """A value update that changes a thermostat's settings (mode, a set point, the fan mode)."""
    return (getattr(value, "command_class", None), getattr(value, "property_", None)) in (
        (THERMOSTAT_MODE, "mode"), (THERMOSTAT_SETPOINT, "setpoint"),
        (THERMOSTAT_FAN_MODE, "mode"))
