"""What a Z-Wave lock node says, as lockhub's snapshots and reports (pure: no I/O).

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

from zwave_js_server.const import CommandClass

from lockhub.catalogue import maker_by_zwave_id
from lockhub.providers.base import (
    AccessDeniedReport,
    CodesChangedReport,
    DeviceSnapshot,
    LockOperationReport,
    Report,
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


def snapshot(home_id: int, node_data: dict[str, Any]) -> DeviceSnapshot:
    """A lock node as lockhub's device state."""
    node_id = node_data["nodeId"]
    config = node_data.get("deviceConfig") or {}
    manufacturer_id = node_data.get("manufacturerId")
    maker = maker_by_zwave_id(manufacturer_id)
    maker_name = maker.display_name if maker else (config.get("manufacturer") or "Z-Wave")
    label = config.get("label") or node_data.get("label")
    description = config.get("description")
    model_name = " ".join(p for p in (label, description) if p) or "Z-Wave lock"
    mode = value_of(node_data, DOOR_LOCK, "currentMode")
    door = value_of(node_data, DOOR_LOCK, "doorStatus")
    battery = value_of(node_data, BATTERY, "level")
    codes = has_cc(node_data, USER_CODE)
    slots = slot_count(node_data) if codes else 0
    facts: dict[str, Any] = {
        "display_name": model_name,
        "has_built_in_keypad": codes,
        "online_access_codes": codes and slots > 0,
        "code_slots": slots,
        "max_active_codes_supported": slots,
        "supported_code_lengths": code_lengths(maker.key if maker else None, manufacturer_id,
                                               node_data.get("productType"),
                                               node_data.get("productId")),
        "door_sensor": door is not None,
        "supports_backup_access_code_pool": slots > 3,
    }
    return DeviceSnapshot(
        provider_device_id=provider_device_id(home_id, node_id),
        brand="zwave_js", model="lock",
        name=node_data.get("name") or f"{maker_name} {label or 'lock'} (node {node_id})",
        # Dead is the driver's verdict after its retries; asleep FLiRS locks still answer.
        online=node_data.get("status") != 3,
        locked=None if mode is None or mode == 254 else mode == SECURED,
        door_open=None if door is None else door == "open",
        battery_level=None if battery is None else max(0.0, min(1.0, battery / 100)),
        jammed=jammed(node_data),
        manufacturer=maker.key if maker else "unknown",
        manufacturer_display_name=maker_name,
        device_type=maker.device_type if maker else "zwave_lock",
        metadata={"node_id": node_id, "home_id": home_id,
                  "manufacturer_id": manufacturer_id,
                  "product_type": node_data.get("productType"),
                  "product_id": node_data.get("productId"),
                  "firmware_version": node_data.get("firmwareVersion"),
                  "device_database_url": node_data.get("deviceDatabaseUrl")},
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
