"""What the TTLock Open Platform says, as lockhub's snapshots and reports (pure: no I/O).

A lock is keyed by its `lockId`. `lock/list` gives the battery (`electricQuantity`), whether a
gateway is bound (`hasGateway`), the feature bits and the passcode version; it never gives the
bolt's position (only `queryOpenState`, a gateway command, does), so snapshots built from it
leave `locked` unknown and the last known position stands. The lock's records
(`lockRecord/list`, or a callback push) say how it moved: a passcode unlock names the digits
typed, which lockhub maps to the passcode's `keyboardPwdId`, the ref `set_code` (a custom
passcode) or `create_offline_code` (a generated one, which TTLock lists too) returned.

Models (catalogue `ttlock`): a Wi-Fi lock is its own gateway (`wifi_keypad_lock`); any other
lock needs a G2/G3 gateway for remote operations and custom passcodes (`keypad_deadbolt`,
`requires_hub`): without one it shows `hub_disconnected`, as a sandbox lock whose gateway is
gone. Remote unlock switched off in the TTLock app (feature bit 10 clear) shows the brand's
`ttlock_lock_gateway_unlocking_not_enabled` warning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lockhub.providers.base import (
    AccessDeniedReport,
    CodeOnDevice,
    DeviceSnapshot,
    LockOperationReport,
    Report,
)
from lockhub.providers.ttlock.client import Lock, Passcode, Record

BRAND = "ttlock"
WIFI_MODEL = "wifi_keypad_lock"
GATEWAY_MODEL = "keypad_deadbolt"

# featureValue bits (TTLock's featureValue document, as hass-ttlock reads it)
FEATURE_PASSCODE = 1 << 0
FEATURE_LOCK_REMOTELY = 1 << 8
FEATURE_UNLOCK_VIA_GATEWAY = 1 << 10
FEATURE_WIFI = 1 << 56

# Documented limits of custom passcodes (keyboardPwd/add): 4-9 digits, at most 150 per lock.
CODE_LENGTHS = [4, 5, 6, 7, 8, 9]
MAX_CUSTOM_PASSCODES = 150

# recordType (euopen.ttlock.com/doc/api/v3/lockRecord/list) -> (locked, method)
OPERATIONS: dict[int, tuple[bool, str]] = {
    1: (False, "remote"),  # unlock by the app (Bluetooth)
    4: (False, "keycode"),  # unlock by passcode
    7: (False, "unknown"),  # IC card
    8: (False, "unknown"),  # fingerprint
    9: (False, "unknown"),  # wristband
    10: (False, "manual"),  # mechanical key
    11: (True, "remote"),  # lock by app / gateway
    12: (False, "remote"),  # unlock by gateway
    32: (False, "manual"),  # open from inside
    33: (True, "manual"),  # lock by fingerprint / key
    45: (True, "automatic"),  # auto lock
    47: (True, "manual"),  # lock by lock key
}
REMOTE_RECORDS = {11, 12}  # what lockhub's own lock/unlock leave in the log
PASSCODE_UNLOCK = 4
INVALID_PASSCODE_SEVERAL_TIMES = 48


def provider_device_id(lock_id: int) -> str:
    return str(lock_id)


def lock_id_of(provider_device_id: str) -> int:
    return int(provider_device_id)


def model_key(lock: Lock) -> str:
    return WIFI_MODEL if lock.is_wifi else GATEWAY_MODEL


def snapshot(lock: Lock, *, locked: bool | None = None) -> DeviceSnapshot:
    """A `lock/list` (or `lock/detail`) item as lockhub's device state."""
    features = lock.features()
    battery = lock.electric_quantity
    return DeviceSnapshot(
        provider_device_id=provider_device_id(lock.lock_id), brand=BRAND, model=model_key(lock),
        name=lock.lock_alias or lock.lock_name or f"TTLock {lock.lock_id}",
        online=True, locked=locked,
        battery_level=max(0.0, min(1.0, battery / 100)) if battery is not None else None,
        hub_connected=None if lock.is_wifi else lock.gateway_connected,
        remote_unlock_enabled=lock.remote_unlock_enabled,
        metadata={"lock_id": lock.lock_id, "lock_alias": lock.lock_alias,
                  "feature_value": lock.feature_value, "has_gateway": lock.gateway_connected,
                  "timezone_raw_offset_ms": lock.timezone_raw_offset,
                  "features": {"passcode": bool(features & FEATURE_PASSCODE),
                               "lock_command": bool(features & FEATURE_LOCK_REMOTELY),
                               "unlock_via_gateway": lock.remote_unlock_enabled,
                               "wifi": lock.is_wifi,
                               "passcode_management": lock.supports_custom_passcodes}},
        model_facts=model_facts(lock))


def model_facts(lock: Lock) -> dict[str, Any]:
    """What TTLock says this lock can do: custom passcodes only on V4-passcode locks, 4-9
    digits, 150 of them, with a native window; generated ("offline") passcodes on every lock
    with a passcode version; remote lock only with its feature bit."""
    custom = lock.supports_custom_passcodes
    return {"online_access_codes": custom,
            "offline_access_codes": lock.supports_generated_passcodes,
            "native_scheduling": custom, "supported_code_lengths": CODE_LENGTHS,
            "max_active_codes_supported": MAX_CUSTOM_PASSCODES if custom else 0,
            "code_slots": MAX_CUSTOM_PASSCODES if custom else 0,
            "remote_lock": bool(lock.features() & FEATURE_LOCK_REMOTELY),
            # Auto-lock time is set in the TTLock app; lockhub cannot configure it yet.
            "auto_lock": False}


def _at(ms: int) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def code_on_device(passcode: Passcode) -> CodeOnDevice | None:
    """A passcode the lock holds now (expired and pending ones are not)."""
    if passcode.status != 1 or not passcode.keyboard_pwd:
        return None
    windowed = bool(passcode.start_date and passcode.end_date)
    return CodeOnDevice(code=passcode.keyboard_pwd, name=passcode.keyboard_pwd_name or None,
                        ref=str(passcode.keyboard_pwd_id),
                        starts_at=_at(passcode.start_date) if windowed else None,
                        ends_at=_at(passcode.end_date) if windowed else None)


def record_key(record: Record) -> tuple[Any, ...]:
    """What tells one record from another (records have no id of their own)."""
    return (record.lock_id, record.record_type, record.lock_date, record.server_date,
            record.keyboard_pwd, record.success)


def record_report(record: Record, code_refs: dict[str, str]) -> Report | None:
    """A record as a lock operation or a refused entry; `code_refs` maps digits to the
    keyboardPwdId of the passcode holding them."""
    pdid = provider_device_id(record.lock_id)
    occurred_at = _at(record.lock_date or record.server_date)
    if record.record_type == INVALID_PASSCODE_SEVERAL_TIMES:
        return AccessDeniedReport(provider_device_id=pdid, occurred_at=occurred_at)
    operation = OPERATIONS.get(record.record_type)
    if operation is None:
        return None
    locked, method = operation
    code_ref = code_refs.get(record.keyboard_pwd) if method == "keycode" else None
    if not record.success:
        if method == "keycode":
            return AccessDeniedReport(provider_device_id=pdid, code_ref=code_ref,
                                      occurred_at=occurred_at)
        return None
    return LockOperationReport(provider_device_id=pdid, locked=locked,
                               method=method,  # type: ignore[arg-type]
                               code_ref=code_ref, occurred_at=occurred_at)
