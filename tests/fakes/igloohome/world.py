"""The device side of the fake igloohome cloud: locks, bridges, keypads, PINs and activity logs.

What the cloud API reports (device list, job results) is read from here, and tests act "at the
lock" through it (enter a PIN on the keypad, turn the thumb-turn), producing the activity-log
entries a bridge job 15 later returns. igloohome's own numbering of log types is not in any public
material found; the `LOG_*` values below are this fake's.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lockhub.clock import Clock

MAX_PINS_PER_LOCK = 199  # online and offline PINs together (Seam's igloohome guide)
FIRST_USE_WINDOW = timedelta(hours=24)  # an algoPIN must be entered once within 24 h of start
ONETIME_VALIDITY = timedelta(hours=24)

# Activity-log types (this fake's numbering; the entry shape is igloohome's Android SDK one).
LOG_UNLOCK_PIN = 1
LOG_UNLOCK_BRIDGE = 2
LOG_LOCK_BRIDGE = 3
LOG_LOCK_MANUAL = 4
LOG_UNLOCK_MANUAL = 5
LOG_PIN_REFUSED = 6


@dataclass
class Pin:
    pin: str
    name: str
    kind: str  # "custom" (bridge job 4) or an algoPIN kind: hourly, daily, permanent, onetime
    key_id: int
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    pin_id: str | None = None  # algoPINs only
    variance: int = 1
    first_used_at: datetime | None = None
    uses: int = 0

    def valid_at(self, now: datetime) -> bool:
        if self.starts_at is not None and now < self.starts_at:
            return False
        if self.kind == "onetime":
            assert self.starts_at is not None
            return self.uses == 0 and now < self.starts_at + ONETIME_VALIDITY
        if self.ends_at is not None and now >= self.ends_at:
            return False
        if self.kind != "custom" and self.first_used_at is None and self.starts_at is not None:
            return now < self.starts_at + FIRST_USE_WINDOW
        return True


@dataclass
class Lock:
    device_id: str
    name: str
    id: str
    battery_level: int | None = 100
    locked: bool = True
    in_bridge_range: bool = True
    bridge_id: str | None = None
    keypad_id: str | None = None
    paired_at: str = "2024-11-09T11:19:25+00:00"
    home_ids: list[str] = field(default_factory=list)
    last_sync: datetime | None = None
    pins: list[Pin] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)

    def find_pin(self, pin: str) -> Pin | None:
        return next((p for p in self.pins if p.pin == pin), None)


@dataclass
class Bridge:
    device_id: str
    name: str
    id: str
    online: bool = True
    lock_ids: list[str] = field(default_factory=list)
    paired_at: str = "2024-11-09T11:19:25+00:00"


@dataclass
class Keypad:
    device_id: str
    name: str
    id: str
    lock_id: str
    battery_level: int | None = 100
    paired_at: str = "2024-11-09T11:19:25+00:00"


class World:
    """Every device of one iglooaccess account. Guarded by `lock`: the fake's HTTP thread and the
    test thread both change it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.locks: dict[str, Lock] = {}
        self.bridges: dict[str, Bridge] = {}
        self.keypads: dict[str, Keypad] = {}
        self._ids = itertools.count(100001)
        self._key_ids = itertools.count(1)
        self._operation_ids = itertools.count(1)

    # --- building the account -----------------------------------------------------------------

    def add_bridge(self, device_id: str, name: str = "Bridge") -> Bridge:
        with self.lock:
            bridge = Bridge(device_id, name, str(next(self._ids)))
            self.bridges[device_id] = bridge
            return bridge

    def add_lock(self, device_id: str, name: str = "Front Door", *, bridge: str | None = None,
                 battery_level: int | None = 100) -> Lock:
        with self.lock:
            lock = Lock(device_id, name, str(next(self._ids)), battery_level=battery_level,
                        last_sync=self.clock.now())
            self.locks[device_id] = lock
            if bridge is not None:
                self.link(device_id, bridge)
            return lock

    def add_keypad(self, device_id: str, lock_id: str, name: str = "Keypad") -> Keypad:
        with self.lock:
            keypad = Keypad(device_id, name, str(next(self._ids)), lock_id)
            self.keypads[device_id] = keypad
            self.locks[lock_id].keypad_id = device_id
            return keypad

    def link(self, lock_id: str, bridge_id: str) -> None:
        with self.lock:
            self.locks[lock_id].bridge_id = bridge_id
            if lock_id not in self.bridges[bridge_id].lock_ids:
                self.bridges[bridge_id].lock_ids.append(lock_id)

    def remove(self, device_id: str) -> None:
        """The owner unpaired the device in the igloohome app."""
        with self.lock:
            self.locks.pop(device_id, None)
            self.keypads.pop(device_id, None)
            bridge = self.bridges.pop(device_id, None)
            for lock in self.locks.values():
                if bridge is not None and lock.bridge_id == device_id:
                    lock.bridge_id = None

    # --- what the cloud reports ---------------------------------------------------------------

    def device_ids(self) -> list[str]:
        with self.lock:
            return [*self.bridges, *self.locks, *self.keypads]

    def device_json(self, device_id: str) -> dict | None:
        """One device as GET /devices/{deviceId} returns it."""
        with self.lock:
            if (lock := self.locks.get(device_id)) is not None:
                linked = []
                if lock.bridge_id:
                    linked.append({"type": "Bridge", "deviceId": lock.bridge_id})
                if lock.keypad_id:
                    linked.append({"type": "Keypad", "deviceId": lock.keypad_id})
                return self._device("Lock", lock.id, lock.device_id, lock.name, lock.paired_at,
                                    lock.home_ids, linked, lock.battery_level, lock.last_sync)
            if (bridge := self.bridges.get(device_id)) is not None:
                linked = [{"type": "Lock", "deviceId": lid} for lid in bridge.lock_ids]
                return self._device("Bridge", bridge.id, bridge.device_id, bridge.name,
                                    bridge.paired_at, [], linked, None, None)
            if (keypad := self.keypads.get(device_id)) is not None:
                linked = [{"type": "Lock", "deviceId": keypad.lock_id}]
                return self._device("Keypad", keypad.id, keypad.device_id, keypad.name,
                                    keypad.paired_at, [], linked, keypad.battery_level, None)
            return None

    @staticmethod
    def _device(kind: str, id_: str, device_id: str, name: str, paired_at: str,
                home_ids: list[str], linked: list[dict], battery: int | None,
                last_sync: datetime | None) -> dict:
        return {"id": id_, "type": kind, "deviceId": device_id, "deviceName": name,
                "pairedAt": paired_at, "homeId": list(home_ids), "linkedDevices": linked,
                "batteryLevel": battery,
                "lastSync": last_sync.isoformat(timespec="seconds") if last_sync else None}

    # --- at the lock --------------------------------------------------------------------------

    def log(self, lock: Lock, log_type: int, key_id: int | None = None) -> None:
        entry: dict = {"logType": log_type,
                       "entryDate": int(self.clock.now().timestamp() * 1000),
                       "keyId": key_id if key_id is not None else 0,
                       "operationId": next(self._operation_ids)}
        lock.logs.append(entry)

    def enter_pin(self, lock_id: str, pin: str) -> bool:
        """Someone types `pin` on the lock's keypad; True when the lock opens."""
        with self.lock:
            lock = self.locks[lock_id]
            now = self.clock.now()
            found = lock.find_pin(pin)
            if found is None or not found.valid_at(now):
                self.log(lock, LOG_PIN_REFUSED, found.key_id if found else None)
                return False
            found.uses += 1
            found.first_used_at = found.first_used_at or now
            lock.locked = False
            self.log(lock, LOG_UNLOCK_PIN, found.key_id)
            return True

    def turn_by_hand(self, lock_id: str, *, locked: bool) -> None:
        with self.lock:
            lock = self.locks[lock_id]
            lock.locked = locked
            self.log(lock, LOG_LOCK_MANUAL if locked else LOG_UNLOCK_MANUAL)

    def add_pin(self, lock: Lock, **fields: object) -> Pin:
        pin = Pin(key_id=next(self._key_ids), **fields)  # type: ignore[arg-type]
        lock.pins.append(pin)
        return pin
