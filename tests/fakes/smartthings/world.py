"""The device-side world behind the fake SmartThings cloud: a location, hubs, and Z-Wave/Zigbee
locks with the `lock`, `lockCodes` and `battery` capabilities.

Attribute values and event data follow what SmartThings' Edge lock drivers report (see the
status fixtures in tests/fakes/smartthings/examples/): `lock` is locked / unlocked /
"unlocked with timeout" / unknown with `data.method`; `lockCodes` is a JSON *string* mapping
slot -> name (PINs are never readable); every code change sets `codeChanged` to "<slot> set",
"<slot> changed", "<slot> deleted" or "<slot> failed" with `data.codeName`.

All methods run under one lock: the fake's HTTP handlers (server thread) and the test (its own
thread) both touch this state.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lockhub.clock import ManualClock

LOCK_VALUES = ("locked", "unlocked", "unlocked with timeout", "unknown")


def iso_ms(value: datetime) -> str:
    """SmartThings' attribute timestamp format: UTC with milliseconds and a Z."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


@dataclass
class Attribute:
    value: Any
    timestamp: datetime | None = None
    unit: str | None = None
    data: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value}
        if self.unit is not None:
            out["unit"] = self.unit
        if self.data is not None:
            out["data"] = self.data
        if self.timestamp is not None:
            out["timestamp"] = iso_ms(self.timestamp)
        return out


@dataclass
class Hub:
    device_id: str
    label: str
    online: bool = True
    changed_at: datetime | None = None


@dataclass
class Lock:
    device_id: str
    label: str
    hub_id: str
    network: str = "ZWAVE"  # or "ZIGBEE"
    manufacturer_code: str = "0129-8107-09D5"
    lock: str = "locked"
    lock_data: dict[str, Any] = field(default_factory=dict)
    battery: int = 90
    online: bool = True
    max_codes: int = 30
    min_code_length: int = 4
    max_code_length: int = 8
    codes: dict[int, tuple[str, str]] = field(default_factory=dict)  # slot -> (pin, name)
    code_changed: Attribute | None = None
    lock_changed_at: datetime | None = None
    codes_changed_at: datetime | None = None
    health_changed_at: datetime | None = None
    created_at: datetime | None = None


@dataclass
class PendingCommand:
    device_id: str
    capability: str
    command: str
    arguments: list[Any]


class World:
    """Locks, hubs and their history; the clock is the test's to move."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        self.clock = clock or ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
        self.mutex = threading.RLock()
        self.location_id = "c4d3b2a1-09f8-765e-4d3c-2b1a09f8e7d6"
        self.location_name = "Beach House"
        self.owner_id = "d47f2b19-3a6e-4c8d-bf21-9e8a7c5d134e"
        self.hubs: dict[str, Hub] = {}
        self.locks: dict[str, Lock] = {}
        self.history: list[dict[str, Any]] = []  # newest last
        self.pending: list[PendingCommand] = []

    # --- building the world ------------------------------------------------------------------

    def add_hub(self, label: str = "SmartThings v3 Hub", device_id: str | None = None) -> Hub:
        with self.mutex:
            hub = Hub(device_id or str(uuid.uuid4()), label, changed_at=self.clock.now())
            self.hubs[hub.device_id] = hub
            return hub

    def add_lock(self, label: str, hub: Hub, device_id: str | None = None, **kw: Any) -> Lock:
        with self.mutex:
            now = self.clock.now()
            lock = Lock(device_id or str(uuid.uuid4()), label, hub.device_id, created_at=now,
                        lock_changed_at=now, codes_changed_at=now, health_changed_at=now, **kw)
            self.locks[lock.device_id] = lock
            return lock

    # --- what the cloud reads -----------------------------------------------------------------

    def hub_of(self, lock: Lock) -> Hub:
        return self.hubs[lock.hub_id]

    def reachable(self, lock: Lock) -> bool:
        """The cloud reaches a hub-connected lock only through an online hub."""
        return lock.online and self.hub_of(lock).online

    def lock_codes_json(self, lock: Lock) -> str:
        return json.dumps({str(slot): name for slot, (_, name) in sorted(lock.codes.items())},
                          separators=(",", ":"))

    # --- commands: accepted by the cloud, carried out by the device later ---------------------

    def enqueue(self, command: PendingCommand) -> None:
        with self.mutex:
            self.pending.append(command)

    def deliver_pending(self) -> int:
        """The devices carry out every accepted command they can reach; commands for an
        unreachable device stay queued (the hub retries when it is back). Returns how many
        were carried out."""
        with self.mutex:
            done, waiting = [], []
            for cmd in self.pending:
                lock = self.locks.get(cmd.device_id)
                if lock is not None and self.reachable(lock):
                    done.append((lock, cmd))
                else:
                    waiting.append(cmd)
            self.pending = waiting
            for lock, cmd in done:
                self._carry_out(lock, cmd)
            return len(done)

    def drop_pending(self) -> None:
        with self.mutex:
            self.pending.clear()

    def _carry_out(self, lock: Lock, cmd: PendingCommand) -> None:
        match (cmd.capability, cmd.command):
            case ("lock", "lock"):
                self.set_lock(lock, "locked", {"method": "command"})
            case ("lock", "unlock"):
                self.set_lock(lock, "unlocked", {"method": "command"})
            case ("lockCodes", "setCode"):
                slot, pin = int(cmd.arguments[0]), str(cmd.arguments[1])
                name = str(cmd.arguments[2]) if len(cmd.arguments) > 2 else f"Code {slot}"
                self.set_code(lock, slot, pin, name)
            case ("lockCodes", "deleteCode"):
                self.delete_code(lock, int(cmd.arguments[0]))
            case ("lockCodes", "nameSlot"):
                slot, name = int(cmd.arguments[0]), str(cmd.arguments[1])
                if slot in lock.codes:
                    lock.codes[slot] = (lock.codes[slot][0], name)
                    self._code_event(lock, f"{slot} renamed", name)
            case ("lockCodes", "reloadAllCodes") | ("refresh", "refresh"):
                pass
            case _:
                raise AssertionError(f"unhandled command {cmd}")

    # --- device-side changes (at the lock, or a command being carried out) --------------------

    def set_lock(self, lock: Lock, value: str, data: dict[str, Any]) -> None:
        with self.mutex:
            lock.lock, lock.lock_data, lock.lock_changed_at = value, data, self.clock.now()
            self._record(lock, "lock", "lock", value, data)

    def set_code(self, lock: Lock, slot: int, pin: str, name: str) -> bool:
        """What a lock does with setCode: refuse a bad slot, a PIN of the wrong length or
        one already stored in another slot ("<slot> failed"); otherwise store it."""
        with self.mutex:
            duplicate = any(p == pin and s != slot for s, (p, _) in lock.codes.items())
            if (not 1 <= slot <= lock.max_codes or not pin.isdigit()
                    or not lock.min_code_length <= len(pin) <= lock.max_code_length
                    or duplicate):
                self._code_event(lock, f"{slot} failed", name)
                return False
            change = "changed" if slot in lock.codes else "set"
            lock.codes[slot] = (pin, name)
            self._code_event(lock, f"{slot} {change}", name)
            return True

    def delete_code(self, lock: Lock, slot: int) -> None:
        with self.mutex:
            _, name = lock.codes.pop(slot, ("", f"Code {slot}"))
            self._code_event(lock, f"{slot} deleted", name)

    def keypad_unlock(self, device_id: str, pin: str) -> bool:
        """Someone types a PIN at the lock: it unlocks if the PIN is stored (reporting which
        slot), otherwise nothing changes. Returns whether it opened."""
        with self.mutex:
            lock = self.locks[device_id]
            for slot, (stored, name) in lock.codes.items():
                if stored == pin:
                    self.set_lock(lock, "unlocked",
                                  {"method": "keypad", "codeId": str(slot), "codeName": name})
                    return True
            return False

    def manual(self, device_id: str, value: str) -> None:
        """Someone turns the thumb-turn."""
        with self.mutex:
            self.set_lock(self.locks[device_id], value, {"method": "manual"})

    def set_battery(self, device_id: str, level: int) -> None:
        with self.mutex:
            lock = self.locks[device_id]
            lock.battery = level
            self._record(lock, "battery", "battery", level, {})

    def set_lock_online(self, device_id: str, online: bool) -> None:
        with self.mutex:
            lock = self.locks[device_id]
            lock.online, lock.health_changed_at = online, self.clock.now()

    def set_hub_online(self, hub_id: str, online: bool) -> None:
        with self.mutex:
            hub = self.hubs[hub_id]
            hub.online, hub.changed_at = online, self.clock.now()

    def _code_event(self, lock: Lock, value: str, name: str) -> None:
        now = self.clock.now()
        lock.code_changed = Attribute(value, now, data={"codeName": name})
        lock.codes_changed_at = now
        self._record(lock, "lockCodes", "codeChanged", value, {"codeName": name})

    def _record(self, lock: Lock, capability: str, attribute: str, value: Any,
                data: dict[str, Any]) -> None:
        """One row of the device history (GET /history/devices)."""
        now = self.clock.now()
        epoch = int(now.timestamp() * 1000)
        self.history.append({
            "deviceId": lock.device_id,
            "deviceName": lock.label,
            "locationId": self.location_id,
            "locationName": self.location_name,
            "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "text": f"{attribute} of {lock.label} is: {value}",
            "component": "main",
            "componentLabel": lock.label,
            "capability": capability,
            "attribute": attribute,
            "value": value,
            "data": data,
            "translatedAttributeName": attribute,
            "translatedAttributeValue": str(value),
            "epoch": epoch,
            "hash": (hash((lock.device_id, epoch, len(self.history))) & 0x7FFFFFFF),
        })
