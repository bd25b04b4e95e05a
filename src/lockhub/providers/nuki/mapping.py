"""What the Nuki Web API says, as lockhub's snapshots and reports (pure: no I/O).

A lock is keyed by its `smartlockId`. `serverState` 4 means Nuki's servers cannot reach the
lock: for a lock behind a Nuki Bridge that is the bridge (or the Bluetooth link to it), for a
lock with built-in WiFi the lock itself. The Web API does not say which of the two a lock uses,
so the model follows the lock's `type`: type 0 (Smart Lock 1.0/2.0, Bluetooth only) always needs
a bridge (catalogue `smart_lock_3`, `requires_hub`: offline shows `hub_disconnected`); newer
types (3.0 and later, with or without a bridge) are `smart_lock_3_pro` and show `device_offline`.

Keypad log entries name the keypad code used (`authId`), which is the ref `set_code` returned,
so a keypad unlock's event names its access code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lockhub.providers.base import (
    AccessDeniedReport,
    CodeOnDevice,
    DeviceSnapshot,
    LockOperationReport,
    Report,
)
from lockhub.providers.nuki.client import (
    ACTION_LOCK,
    ACTION_UNLATCH,
    ACTION_UNLOCK,
    KeypadCode,
    LogEntry,
    Smartlock,
)

BRAND = "nuki"
BRIDGE_MODEL = "smart_lock_3"
WIFI_MODEL = "smart_lock_3_pro"
BLUETOOTH_ONLY_TYPES = frozenset({0})
# Keypad codes: 6 digits 1-9, not starting with 12 (the catalogue's code constraints); Nuki
# documents no per-lock maximum (the catalogue assumes 100).
CODE_LENGTHS = [6]
MAX_KEYPAD_CODES = 100

# log trigger -> lockhub method
TRIGGER_MANUAL, TRIGGER_BUTTON, TRIGGER_AUTOMATIC, TRIGGER_WEB, TRIGGER_APP = 1, 2, 3, 4, 5
TRIGGER_KEYPAD = 255
METHODS = {TRIGGER_MANUAL: "manual", TRIGGER_BUTTON: "manual", TRIGGER_AUTOMATIC: "automatic",
           TRIGGER_WEB: "remote", TRIGGER_APP: "remote", TRIGGER_KEYPAD: "keycode"}
LOG_SUCCESS, LOG_WRONG_CODE = 0, 224


def provider_device_id(smartlock_id: int) -> str:
    return str(smartlock_id)


def smartlock_id_of(provider_device_id: str) -> int:
    return int(provider_device_id)


def model_key(lock: Smartlock) -> str:
    return BRIDGE_MODEL if lock.type in BLUETOOTH_ONLY_TYPES else WIFI_MODEL


def needs_bridge(lock: Smartlock) -> bool:
    return model_key(lock) == BRIDGE_MODEL


def snapshot(lock: Smartlock) -> DeviceSnapshot:
    """A `/smartlock` item as lockhub's device state."""
    bridged = needs_bridge(lock)
    battery = lock.battery_charge
    return DeviceSnapshot(
        provider_device_id=provider_device_id(lock.smartlock_id), brand=BRAND,
        model=model_key(lock), name=lock.name or f"Nuki {lock.smartlock_id}",
        online=lock.online or bridged, locked=lock.locked, door_open=lock.door_open,
        battery_level=max(0.0, min(1.0, battery / 100)) if battery is not None else None,
        hub_connected=lock.online if bridged else None, jammed=lock.jammed,
        metadata={"device_id": str(lock.smartlock_id), "device_name": lock.name,
                  "keypad_paired": lock.keypad_paired,
                  "keypad_2_paired": bool((lock.raw.get("config") or {}).get("keypad2Paired")),
                  "keypad_battery_critical": bool(
                      (lock.raw.get("state") or {}).get("keypadBatteryCritical"))},
        model_facts=model_facts(lock))


def model_facts(lock: Smartlock) -> dict[str, Any]:
    """Keypad codes only with a paired Nuki Keypad, 6 digits, with a window the lock enforces
    (allowedFromDate/allowedUntilDate: native scheduling); no offline codes."""
    keypad = lock.keypad_paired
    return {"online_access_codes": keypad, "offline_access_codes": False,
            "native_scheduling": True, "supported_code_lengths": CODE_LENGTHS,
            "max_active_codes_supported": MAX_KEYPAD_CODES if keypad else 0,
            "code_slots": MAX_KEYPAD_CODES if keypad else 0,
            "can_connect_accessory_keypad": True,
            # The lock's auto-lock is set in the Nuki app; lockhub cannot configure it yet.
            "auto_lock": False}


def code_on_device(code: KeypadCode) -> CodeOnDevice:
    return CodeOnDevice(code=code.code, name=code.name or None, ref=code.id,
                        starts_at=code.allowed_from, ends_at=code.allowed_until)


def log_report(entry: LogEntry) -> Report | None:
    """A log entry as a lock operation or a refused keypad entry (door events and failed
    movements are not operations)."""
    pdid = provider_device_id(entry.smartlock_id)
    occurred_at: datetime = entry.date
    if entry.trigger == TRIGGER_KEYPAD and entry.state == LOG_WRONG_CODE:
        return AccessDeniedReport(provider_device_id=pdid, occurred_at=occurred_at)
    if entry.state != LOG_SUCCESS or entry.action not in (ACTION_LOCK, ACTION_UNLOCK,
                                                          ACTION_UNLATCH):
        return None
    method = METHODS.get(entry.trigger, "unknown")
    return LockOperationReport(provider_device_id=pdid, locked=entry.action == ACTION_LOCK,
                               method=method,  # type: ignore[arg-type]
                               code_ref=entry.auth_id if method == "keycode" else None,
                               occurred_at=occurred_at)
