"""What the igloohome cloud says about a lock, as lockhub's snapshots and reports (pure: no I/O).

No igloohome endpoint reports the bolt position, so a snapshot never carries `locked` (lockhub
keeps the last position it knows: its own commands and the activity log's entries). Battery is
the cloud's last value; the bridge link is the lock's `linkedDevices`, and a bridge that went
offline shows only when a job is refused (`hub_online=False`).

Activity-log `logType` numbers are not public; the ones below are the fake cloud's
(tests/fakes/igloohome/world.py), to be checked against a real bridge's answers.
"""

from __future__ import annotations

from typing import Any

from lockhub.providers.base import (
    AccessDeniedReport,
    DeviceSnapshot,
    LockMethod,
    LockOperationReport,
    Report,
)
from lockhub.providers.igloohome.client import ActivityLog, Device

BRAND = "igloohome"
DEFAULT_MODEL = "deadbolt_2s"
# igloohome device ids start with a product prefix; the ones lockhub can tell apart.
MODEL_PREFIXES = {"EK": "keybox_3"}
# igloohome's documented limits (Seam's igloohome guide): 199 PINs per lock, online and offline
# together; custom PINs of 4-10 digits (the bridge refuses others); the lock enforces a custom
# PIN's start and end itself. Offline algoPINs need no bridge (the provider's
# `create_offline_code`; their rules are the catalogue's `offline_code_rules`).
MAX_PINS = 199
CODE_LENGTHS = list(range(4, 11))

LOG_UNLOCK_PIN = 1
LOG_UNLOCK_BRIDGE = 2
LOG_LOCK_BRIDGE = 3
LOG_LOCK_MANUAL = 4
LOG_UNLOCK_MANUAL = 5
LOG_PIN_REFUSED = 6
MOVES: dict[int, tuple[bool, LockMethod]] = {
    LOG_UNLOCK_PIN: (False, "keycode"),
    LOG_LOCK_MANUAL: (True, "manual"),
    LOG_UNLOCK_MANUAL: (False, "manual"),
}
# Bridge jobs: lockhub's own lock/unlock, already recorded with the action attempt.
BRIDGE_MOVES = {LOG_UNLOCK_BRIDGE, LOG_LOCK_BRIDGE}


def is_lock(device: Device) -> bool:
    return device.type == "Lock"


def model_of(device: Device) -> str:
    return MODEL_PREFIXES.get(device.device_id[:2].upper(), DEFAULT_MODEL)


def model_facts() -> dict[str, Any]:
    return {"code_slots": MAX_PINS, "max_active_codes_supported": MAX_PINS,
            "supported_code_lengths": CODE_LENGTHS, "native_scheduling": True,
            "offline_access_codes": True}


def snapshot(device: Device, *, hub_online: bool | None = None,
             locked: bool | None = None) -> DeviceSnapshot:
    """A lock of the device list; `hub_online` False once a job was refused for its bridge."""
    bridge = device.bridge_id
    metadata: dict[str, Any] = {"device_id": device.device_id, "device_name": device.name}
    if bridge:
        metadata["bridge_id"] = bridge
    if device.keypad_id:
        metadata["keypad_id"] = device.keypad_id
    level = device.battery_level
    return DeviceSnapshot(
        provider_device_id=device.device_id, brand=BRAND, model=model_of(device),
        name=device.name or device.device_id, online=True, locked=locked,
        battery_level=max(0.0, min(1.0, level / 100))
        if isinstance(level, int | float) and not isinstance(level, bool) else None,
        hub_connected=bridge is not None and hub_online is not False,
        metadata=metadata, model_facts=model_facts())


def key_ref(key_id: Any) -> str | None:
    """A lock's key id as the code reference lockhub stores (0 or missing: no PIN)."""
    if isinstance(key_id, bool) or not isinstance(key_id, int | str):
        return None
    text = str(key_id).strip()
    return text if text and text != "0" else None


def log_report(device_id: str, entry: ActivityLog) -> Report | None:
    """One activity-log entry as a report; None for lockhub's own bridge jobs and the rest."""
    if entry.log_type in MOVES:
        locked, method = MOVES[entry.log_type]
        return LockOperationReport(
            provider_device_id=device_id, locked=locked, method=method,
            code_ref=key_ref(entry.key_id) if method == "keycode" else None,
            occurred_at=entry.occurred_at)
    if entry.log_type == LOG_PIN_REFUSED:
        return AccessDeniedReport(provider_device_id=device_id, code_ref=key_ref(entry.key_id),
                                  occurred_at=entry.occurred_at)
    return None
