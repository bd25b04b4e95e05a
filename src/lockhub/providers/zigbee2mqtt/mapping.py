"""What Zigbee2MQTT publishes about a lock, as lockhub's snapshots and reports (pure: no I/O).

The contract is /work/shared/reference/zigbee2mqtt-locks.md (§ numbers below). `bridge/devices`
is the source of truth: a device is a lock when one of its exposes has `type == "lock"`,
whatever `supported` says (§2.3, generated definitions). The bolt is `lock_state`, never
`state`, which reads `UNLOCK` for a jammed bolt too (§3.1). Event messages carry `action*`
keys once; their cached `lock_state` may be stale (§3.1 item 2). Payloads are parsed
defensively: anything malformed is None, never an exception.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from lockhub.catalogue import maker_by_zigbee_vendor
from lockhub.providers.base import (
    AccessDeniedReport,
    CodesChangedReport,
    DeviceSnapshot,
    LockMethod,
    LockOperationReport,
    Report,
)

ACCESS_SET = 2
NO_USER = 0xFFFF
BRAND, MODEL = "zigbee2mqtt", "lock"

# §3.5: action → (locked, method); the source decides for plain lock/unlock.
MANUAL_ACTIONS = {"manual_lock": True, "manual_unlock": False, "key_lock": True,
                  "key_unlock": False, "one_touch_lock": True}
AUTOMATIC_ACTIONS = {"auto_lock": True, "schedule_lock": True, "schedule_unlock": False}
SOURCE_METHODS: dict[str, LockMethod] = {"keypad": "keycode", "rf": "remote",
                                         "manual": "manual"}
# Onesti/Nimly raw actions (§3.5): verb from the suffix, method from the prefix.
NIMLY_PREFIXES: dict[str, LockMethod] = {"keypad": "keycode", "manual": "manual",
                                         "key": "manual", "zigbee": "remote"}
DENIED_ACTIONS = {"lock_failure_invalid_pin_or_id", "unlock_failure_invalid_pin_or_id",
                  "lock_failure_invalid_schedule", "unlock_failure_invalid_schedule"}
PROGRAMMING_ACTIONS = {"pin_code_added", "pin_code_deleted", "pin_code_changed"}
UNREACHABLE = ("Delivery failed", "MAC_NO_ACK", "NO_ACK", "offline")
TIMED_OUT = ("Timeout", "timed out")


@cache
def _models() -> dict[str, Any]:
    return json.loads(Path(__file__).with_name("models.json").read_text())


def rules(model: str | None) -> dict[str, Any]:
    table = _models()
    return {**table["default"], **table["models"].get(model or "", {})}


def managed_slots(model: str | None) -> int:
    """How many user slots lockhub uses (1..n), bounded by the lock's pinCodeCount."""
    return max(0, min(int(rules(model)["pin_code_count"]) - 1, int(_models()["managed_slots"])))


# --- parsing payloads --------------------------------------------------------------------

def parse_json(payload: bytes | str) -> Any:
    """The payload as JSON, or None when it is empty or does not parse."""
    try:
        text = payload.decode() if isinstance(payload, bytes | bytearray) else str(payload)
        return json.loads(text) if text.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None


def parse_online(payload: bytes | str) -> bool | None:
    """`bridge/state` and `<fn>/availability`: JSON `{"state": …}` in 2.x, text in 1.x (§1.2)."""
    try:
        text = (payload.decode() if isinstance(payload, bytes | bytearray) else str(payload))
    except UnicodeDecodeError:
        return None
    text = text.strip()
    if text.startswith("{"):
        data = parse_json(text)
        text = data.get("state") if isinstance(data, dict) else None
    if text == "online":
        return True
    if text == "offline":
        return False
    return None


def _walk(exposes: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for expose in exposes if isinstance(exposes, list) else []:
        if isinstance(expose, dict):
            out.append(expose)
            out.extend(_walk(expose.get("features")))
    return out


def _definition(entry: dict[str, Any]) -> dict[str, Any]:
    definition = entry.get("definition")
    return definition if isinstance(definition, dict) else {}


def _exposes(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return _walk(_definition(entry).get("exposes"))


def _has(entry: dict[str, Any], name: str) -> bool:
    return any(x.get("name") == name for x in _exposes(entry))


# The auto-relock delay a lock takes (`e.auto_relock_time()` with the lock extensions, §6).
AUTO_RELOCK_SECONDS = (1, 3600)
_ACCESS_SET = 2  # expose access bit: the value can be written with /set


def can_set_auto_relock(entry: dict[str, Any]) -> bool:
    """The lock's `auto_relock_time` can be written (Nimly's is read-only)."""
    return any(x.get("name") == "auto_relock_time" and int(x.get("access") or 0) & _ACCESS_SET
               for x in _exposes(entry))


def ieee(entry: dict[str, Any]) -> str | None:
    value = entry.get("ieee_address")
    return value if isinstance(value, str) and value else None


def friendly_name(entry: dict[str, Any]) -> str:
    name = entry.get("friendly_name")
    return name if isinstance(name, str) and name else str(entry.get("ieee_address"))


def is_lock(entry: Any) -> bool:
    return isinstance(entry, dict) and ieee(entry) is not None \
        and entry.get("type") != "Coordinator" and not entry.get("disabled") \
        and any(x.get("type") == "lock" for x in _exposes(entry))


def locks(devices: Any) -> list[dict[str, Any]]:
    """The lock entries of a `bridge/devices` payload (anything else is ignored)."""
    return [d for d in devices if is_lock(d)] if isinstance(devices, list) else []


def can_set_pins(entry: dict[str, Any]) -> bool:
    """A `pin_code` composite writable with `/set` (§7.1)."""
    return any(x.get("name") == "pin_code" and x.get("type") == "composite"
               and isinstance(x.get("access"), int) and x["access"] & ACCESS_SET
               for x in _exposes(entry))


def reads_pins(entry: dict[str, Any]) -> bool:
    """Whether `/get pin_code` is answered with `users`: the `expose_pin` device option belongs
    to that converter (fz.lock_pin_code_response); Nimly-style locks lack both (§3.4)."""
    options = _definition(entry).get("options")
    return any(isinstance(o, dict) and o.get("name") == "expose_pin"
               for o in (options if isinstance(options, list) else []))


def online_codes(entry: dict[str, Any]) -> bool:
    """lockhub confirms every PIN by reading it back, so it needs both."""
    return can_set_pins(entry) and reads_pins(entry) \
        and managed_slots(_definition(entry).get("model")) > 0


def lock_state(state: dict[str, Any] | None) -> str | None:
    value = (state or {}).get("lock_state")
    return value if value in ("locked", "unlocked", "not_fully_locked") else None


def snapshot(entry: dict[str, Any], state: dict[str, Any] | None, *, available: bool | None,
             bridge_online: bool) -> DeviceSnapshot:
    """A lock entry of `bridge/devices` and its cached state as lockhub's device state."""
    definition = _definition(entry)
    vendor = definition.get("vendor") if isinstance(definition.get("vendor"), str) else None
    model = definition.get("model") if isinstance(definition.get("model"), str) else None
    maker = maker_by_zigbee_vendor(vendor)
    description = definition.get("description")
    display = " ".join(str(p) for p in (vendor, model, description) if p) or "Zigbee lock"
    pins = online_codes(entry)
    slots = managed_slots(model) if pins else 0
    settable_relock = can_set_auto_relock(entry)
    facts: dict[str, Any] = {
        "display_name": display,
        "has_built_in_keypad": can_set_pins(entry),
        "online_access_codes": pins,
        "code_slots": slots,
        "max_active_codes_supported": slots,
        "supported_code_lengths": list(rules(model)["supported_code_lengths"]),
        "door_sensor": _has(entry, "door_state"),
        "auto_lock": settable_relock,
        "supports_backup_access_code_pool": slots > 3,
    }
    state = state or {}
    bolt = lock_state(state)
    relock = state.get("auto_relock_time") if settable_relock else None
    if not isinstance(relock, int) or isinstance(relock, bool):
        relock = None
    battery = state.get("battery")
    door = state.get("door_state")
    return DeviceSnapshot(
        provider_device_id=str(ieee(entry)), brand=BRAND, model=MODEL,
        name=friendly_name(entry),
        online=bridge_online and available is not False,
        locked=None if bolt is None else bolt == "locked",
        door_open=door == "open" if door in ("open", "closed") else None,
        battery_level=max(0.0, min(1.0, battery / 100))
        if isinstance(battery, int | float) and not isinstance(battery, bool) else None,
        jammed=bolt == "not_fully_locked",
        # 0 switches auto-relock off (the delay it had is kept as last known).
        auto_lock_enabled=None if relock is None else relock > 0,
        auto_lock_delay_seconds=float(relock) if relock else None,
        manufacturer=maker.key if maker else "unknown",
        manufacturer_display_name=maker.display_name if maker else (vendor or "Zigbee"),
        device_type=maker.device_type if maker else "zigbee_lock",
        metadata={"ieee_address": ieee(entry), "friendly_name": friendly_name(entry),
                  "vendor": vendor, "model": model, "model_id": entry.get("model_id"),
                  "manufacturer": entry.get("manufacturer"),
                  "software_build_id": entry.get("software_build_id"),
                  "supported": bool(entry.get("supported"))},
        model_facts=facts,
    )


# --- events --------------------------------------------------------------------------------

def _ref(slot: int | None) -> str | None:
    """A user slot as the code reference lockhub stores (see CodeOnDevice)."""
    return None if slot is None else str(slot)


def _user(value: Any) -> int | None:
    """A ZCL user id as a slot: 65535 (and 0 for RF/manual) mean nobody (§3.5)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value in (NO_USER,) or value < 0:
        return None
    return value


def event_report(pdid: str, message: dict[str, Any]) -> Report | None:
    """The report an event message means (§3.5), or None (no event, or one lockhub ignores:
    `null` placeholders, unknown values, RFID and fingerprint which Seam calls `card`)."""
    action = message.get("action")
    if not isinstance(action, str) or not action:
        return None
    source = message.get("action_source_name")
    user = _user(message.get("action_user"))
    if action in ("lock", "unlock"):
        method = SOURCE_METHODS.get(source) if isinstance(source, str) else None
        if method is None:
            return None
        return LockOperationReport(provider_device_id=pdid, locked=action == "lock",
                                   method=method,
                                   code_ref=_ref(user) if method == "keycode" else None)
    if action in MANUAL_ACTIONS:
        return LockOperationReport(provider_device_id=pdid, locked=MANUAL_ACTIONS[action],
                                   method="manual")
    if action in AUTOMATIC_ACTIONS:
        return LockOperationReport(provider_device_id=pdid, locked=AUTOMATIC_ACTIONS[action],
                                   method="automatic")
    if action in DENIED_ACTIONS:
        return AccessDeniedReport(provider_device_id=pdid, code_ref=_ref(user))
    if action in PROGRAMMING_ACTIONS:
        return CodesChangedReport(provider_device_id=pdid)
    prefix, _, verb = action.rpartition("_")
    if verb in ("lock", "unlock") and prefix in NIMLY_PREFIXES:
        method = NIMLY_PREFIXES[prefix]
        slot = _user(message.get(f"last_{verb}_user")) if method == "keycode" else None
        return LockOperationReport(provider_device_id=pdid, locked=verb == "lock",
                                   method=method, code_ref=_ref(slot))
    return None


def programming_slot(message: dict[str, Any]) -> tuple[str, int | None, str | None] | None:
    """(action, slot, source) of a PIN programming event."""
    action = message.get("action")
    if action not in PROGRAMMING_ACTIONS:
        return None
    source = message.get("action_source_name")
    return action, _user(message.get("action_user")), source if isinstance(source, str) else None


# --- PIN slots (§3.4) ----------------------------------------------------------------------

def normalise_pin(value: Any) -> str | None:
    """A PIN as Z2M versions publish it: a string, a serialised Buffer, an object keyed by
    index; `{}` and `""` are unknown."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        data = value.get("data") if value.get("type") == "Buffer" else None
        if data is None and value and all(k.isdigit() for k in value):
            data = [value[k] for k in sorted(value, key=int)]
        if isinstance(data, list) and data and all(isinstance(b, int) and 0 <= b < 256
                                                   for b in data):
            return bytes(data).decode("latin-1")
    return None


def users(message: dict[str, Any]) -> dict[int, tuple[str, str | None]]:
    """slot → (status, pin) from a state message's `users` map."""
    raw = message.get("users")
    found: dict[int, tuple[str, str | None]] = {}
    if not isinstance(raw, dict):
        return found
    for key, entry in raw.items():
        if not (isinstance(key, str) and key.isdigit() and isinstance(entry, dict)):
            continue
        status = entry.get("status")
        if isinstance(status, str):
            found[int(key)] = (status, normalise_pin(entry.get("pin_code")))
    return found


# --- failures on bridge/logging (§4) -------------------------------------------------------

def command_failure(payload: Any, fn: str, kind: str, key: str) -> str | None:
    """The error text of a `bridge/logging` error about this command, or None."""
    if not isinstance(payload, dict) or payload.get("level") != "error":
        return None
    message = payload.get("message")
    if not isinstance(message, str):
        return None
    if f"Publish '{kind}' '{key}' to '{fn}' failed" in message \
            or f"No converter available for '{key}' on '{fn}'" in message \
            or f"Entity '{fn}' is unknown" in message:
        return message
    return None


def failure_type(message: str, default: str) -> str:
    if any(s in message for s in UNREACHABLE):
        return "device_offline"
    if any(s in message for s in TIMED_OUT):
        return "device_communication_timeout"
    if "is unknown" in message:
        return "device_removed"
    return default
