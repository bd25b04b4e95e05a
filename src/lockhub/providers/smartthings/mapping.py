"""SmartThings' answers -> lockhub's snapshots and reports (pure functions, no I/O).

A lock is a device with the `lock` capability on a hub; its catalogue model follows the radio it
uses (Z-Wave or Zigbee) and `model_facts` carry what the lock itself reports through `lockCodes`
(slots, PIN lengths). `lockCodes` has no schedules, so time-bound codes are set and removed by
lockhub at their start and end (native_scheduling false).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from lockhub.providers.base import (
    CodesChangedReport,
    DeviceSnapshot,
    LockMethod,
    LockOperationReport,
    Report,
)
from lockhub.providers.smartthings.client import HistoryEvent, LockDevice, LockStatus, TokenSet

BRAND = "smartthings"
MODELS = {"ZIGBEE": "zigbee_keypad_deadbolt"}
DEFAULT_MODEL = "zwave_keypad_deadbolt"
# `data.method` of a lock event -> Seam's lock method ("command" is an app's remote command).
METHODS: dict[str, LockMethod] = {"keypad": "keycode", "manual": "manual", "auto": "automatic",
                                  "command": "remote", "rfid": "keycode"}


def model_key(device: LockDevice) -> str:
    return MODELS.get(device.network.upper(), DEFAULT_MODEL)


def model_facts(status: LockStatus | None) -> dict[str, Any]:
    facts: dict[str, Any] = {"native_scheduling": False}
    if status is None:
        return facts
    if status.max_codes:
        facts["code_slots"] = status.max_codes
        facts["max_active_codes_supported"] = status.max_codes
    low, high = status.min_code_length, status.max_code_length
    if low and high and 0 < low <= high:
        facts["supported_code_lengths"] = list(range(low, high + 1))
    return facts


def snapshot(device: LockDevice, status: LockStatus | None, *, online: bool,
             hub_online: bool | None) -> DeviceSnapshot:
    battery = status.battery if status is not None else None
    return DeviceSnapshot(
        provider_device_id=device.device_id, brand=BRAND, model=model_key(device),
        name=device.label or device.name, online=online and hub_online is not False,
        locked=status.locked if status is not None else None,
        battery_level=battery / 100 if battery is not None else None,
        hub_connected=hub_online,
        metadata={"device_id": device.device_id, "device_name": device.label or device.name,
                  "location_id": device.location_id},
        model_facts=model_facts(status))


def event_key(event: HistoryEvent) -> str:
    """Identifies one history row (rows with the same epoch are told apart by content)."""
    return json.dumps([event.epoch_ms, event.capability, event.attribute, event.value,
                       event.data], sort_keys=True, default=str)


def occurred_at(event: HistoryEvent) -> datetime | None:
    if not event.epoch_ms:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=event.epoch_ms)


def event_report(event: HistoryEvent) -> Report | None:
    """A lock or code event of the history, as a report (None for others: battery, ...)."""
    if event.capability == "lock" and event.attribute == "lock":
        locked = {"locked": True, "unlocked": False,
                  "unlocked with timeout": False}.get(str(event.value))
        if locked is None:
            return None
        method = METHODS.get(str(event.data.get("method", "")), "unknown")
        code_id = event.data.get("codeId")
        code_ref = str(code_id) if method == "keycode" and str(code_id or "").isdigit() \
            else None
        return LockOperationReport(provider_device_id=event.device_id, locked=locked,
                                   method=method, code_ref=code_ref,
                                   occurred_at=occurred_at(event))
    if event.capability == "lockCodes" and event.attribute == "codeChanged":
        return CodesChangedReport(provider_device_id=event.device_id)
    return None


def code_slot(event: HistoryEvent) -> int | None:
    """The slot a codeChanged event names ("3 set" -> 3)."""
    head = str(event.value or "").split(" ", 1)[0]
    return int(head) if head.isdigit() else None


# --- tokens as stored (sealed) in the connected account ------------------------------------------

def credentials(tokens: TokenSet) -> dict[str, Any]:
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at.isoformat() if tokens.expires_at else None,
            "scope": tokens.scope, "installed_app_id": tokens.installed_app_id,
            "owner_account_id": tokens.owner_account_id}


def tokens(stored: dict[str, Any]) -> TokenSet:
    expires_at = stored.get("expires_at")
    return TokenSet(access_token=str(stored.get("access_token", "")),
                    refresh_token=stored.get("refresh_token"),
                    expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
                    scope=str(stored.get("scope", "")),
                    installed_app_id=stored.get("installed_app_id"),
                    owner_account_id=stored.get("owner_account_id"))
