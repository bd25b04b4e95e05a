"""The device-side world behind the fake Nuki cloud: accounts, locks, keypad codes and the log.

Nuki's cloud accepts a change at once (HTTP 204) and reaches the lock "usually in some seconds"
(developer.nuki.io, "HTTP code 204 but code apparently not created"). The world keeps that gap:
every accepted change is a `Pending` entry until `settle()` applies it, and a lock whose server
state is offline (4) keeps its pending changes until it is back, as the real daily sync does.
A keypad code therefore only shows in `GET /smartlock/{id}/auth` once the lock has applied it.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

# state.state (docs.nuki.io/guide/examples, swagger Smartlock.State)
LOCKED, UNLOCKING, UNLOCKED, LOCKING, UNLATCHED, MOTOR_BLOCKED = 1, 2, 3, 4, 5, 254
# state.doorState
DOOR_UNAVAILABLE, DOOR_CLOSED, DOOR_OPENED = 0, 2, 3
# serverState: 0 online, 4 offline ("not reachable via the REST API")
SERVER_ONLINE, SERVER_OFFLINE = 0, 4
# log action / trigger / source (swagger SmartlockLog)
ACTION_UNLOCK, ACTION_LOCK, ACTION_UNLATCH, ACTION_DOOR_OPENED, ACTION_DOOR_CLOSED = 1, 2, 3, 240, 241
TRIGGER_SYSTEM, TRIGGER_MANUAL, TRIGGER_WEB, TRIGGER_KEYPAD = 0, 1, 4, 255
SOURCE_DEFAULT, SOURCE_KEYPAD_CODE = 0, 1
# log state: 0 success, 1 motor blocked; 224 a wrong keypad code (Nuki's "wrong entry code")
LOG_SUCCESS, LOG_MOTOR_BLOCKED, LOG_WRONG_CODE = 0, 1, 224
KEYPAD_CODE = 13  # auth type: 0 app, 1 bridge, 2 fob, 3 keypad, 13 keypad code, 14 z-key, 15 virtual

Json = dict[str, Any]


def iso(value: datetime) -> str:
    """Nuki's timestamps: UTC, milliseconds, a Z."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def object_id() -> str:
    """Auth and log ids are MongoDB ObjectIds (24 hex digits) on the real API."""
    return secrets.token_hex(12)


@dataclass
class KeypadAuth:
    id: str
    smartlock_id: int
    auth_id: int
    code: int
    name: str
    enabled: bool = True
    remote_allowed: bool = False
    lock_count: int = 0
    allowed_from: datetime | None = None
    allowed_until: datetime | None = None
    weekdays: int | None = None  # bitmask: 64 Monday ... 1 Sunday
    from_time: int | None = None  # minutes from midnight, lock's local time
    until_time: int | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_active: datetime | None = None

    def allows(self, at: datetime, zone: ZoneInfo) -> bool:
        """Dates are UTC; weekdays and times are the lock's local time (developer.nuki.io/t/39789)."""
        if not self.enabled:
            return False
        if self.allowed_from and at < self.allowed_from:
            return False
        if self.allowed_until and at >= self.allowed_until:
            return False
        local = at.astimezone(zone)
        if self.weekdays:
            if not self.weekdays & (64 >> local.weekday()):
                return False
        if self.from_time or self.until_time:
            minute = local.hour * 60 + local.minute
            start, end = self.from_time or 0, self.until_time or 1440
            if not start <= minute < end:
                return False
        return True

    def to_json(self) -> Json:
        data: Json = {
            "id": self.id, "smartlockId": self.smartlock_id, "authId": self.auth_id,
            "code": self.code, "type": KEYPAD_CODE, "name": self.name, "enabled": self.enabled,
            "remoteAllowed": self.remote_allowed, "lockCount": self.lock_count,
            "creationDate": iso(self.created), "updateDate": iso(self.updated),
        }
        if self.allowed_from:
            data["allowedFromDate"] = iso(self.allowed_from)
        if self.allowed_until:
            data["allowedUntilDate"] = iso(self.allowed_until)
        for key, value in (("allowedWeekDays", self.weekdays), ("allowedFromTime", self.from_time),
                           ("allowedUntilTime", self.until_time)):
            if value is not None:
                data[key] = value
        if self.last_active:
            data["lastActiveDate"] = iso(self.last_active)
        return data


@dataclass
class Smartlock:
    smartlock_id: int
    account_id: int
    name: str
    type: int = 4  # 0 keyturner, 1 box, 2 opener, 3 smartdoor, 4 smartlock 3.0+
    state: int = LOCKED
    door_state: int = DOOR_CLOSED
    battery_charge: int = 90
    battery_critical: bool = False
    battery_charging: bool = False
    keypad_paired: bool = True
    keypad_capacity: int = 200
    # How the lock reaches Nuki's servers: through a bridge (bridge_online) or built-in WiFi
    # (bridge_online is None); either way the API only shows the result, serverState.
    lock_online: bool = True
    bridge_online: bool | None = True
    timezone: str = "Europe/Vienna"
    jam_next: bool = False
    last_action: int = ACTION_LOCK
    trigger: int = TRIGGER_SYSTEM
    auths: dict[str, KeypadAuth] = field(default_factory=dict)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def server_state(self) -> int:
        reachable = self.lock_online and self.bridge_online is not False
        return SERVER_ONLINE if reachable else SERVER_OFFLINE

    def state_json(self) -> Json:
        return {
            "mode": 2, "state": self.state, "trigger": self.trigger, "lastAction": self.last_action,
            "batteryCritical": self.battery_critical, "batteryCharging": self.battery_charging,
            "batteryCharge": self.battery_charge, "keypadBatteryCritical": False,
            "doorsensorBatteryCritical": False, "doorState": self.door_state,
            "ringToOpenTimer": 0, "nightMode": False,
        }

    def to_json(self) -> Json:
        return {
            "smartlockId": self.smartlock_id, "accountId": self.account_id, "type": self.type,
            "authId": 1, "name": self.name, "favorite": False,
            "config": {
                "name": self.name, "latitude": 48.2, "longitude": 16.37, "autoUnlatch": False,
                "pairingEnabled": True, "buttonEnabled": True, "ledEnabled": True,
                "ledBrightness": 3, "timezoneOffset": 0, "daylightSavingMode": 1,
                "fobPaired": False, "keypadPaired": self.keypad_paired, "keypad2Paired": False,
                "singleLock": False, "advertisingMode": 0, "homekitState": 0,
                "timezoneId": 37, "deviceType": self.type,
            },
            "advancedConfig": {"lngTimeout": 20, "singleButtonPressAction": 1,
                               "doubleButtonPressAction": 4, "automaticBatteryTypeDetection": True,
                               "unlatchDuration": 3, "autoLockTimeout": 0},
            "state": self.state_json(),
            "firmwareVersion": 263430, "hardwareVersion": 1793,
            "serverState": self.server_state, "adminPinState": 0, "virtualDevice": False,
            "creationDate": iso(self.created), "updateDate": iso(self.created),
        }


@dataclass
class Pending:
    """A change the cloud accepted and the lock has not applied yet."""

    smartlock_id: int
    apply: Callable[[], None]
    description: str


@dataclass
class Account:
    account_id: int
    email: str
    name: str
    api_tokens: set[str]
    advanced_api: bool = False


class World:
    """All state of the fake cloud, guarded by one lock (the server thread and tests share it)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.guard = threading.RLock()
        self.accounts: dict[int, Account] = {}
        self.locks: dict[int, Smartlock] = {}
        self.logs: dict[int, list[Json]] = {}
        self.pending: list[Pending] = []
        self.lose_next = False
        # Called with (account_id, feature, payload) whenever a webhook-worthy change happens.
        self.notify: Callable[[int, str, Json], None] = lambda *_: None
        self._auth_ids = itertools.count(3000)

    # --- lookups -----------------------------------------------------------------------------

    def account_for_token(self, token: str) -> Account | None:
        for account in self.accounts.values():
            if token in account.api_tokens:
                return account
        return None

    def lock_of(self, account: Account, smartlock_id: int) -> Smartlock | None:
        lock = self.locks.get(smartlock_id)
        return lock if lock and lock.account_id == account.account_id else None

    def pending_codes(self, smartlock_id: int) -> list[int]:
        return [int(p.description.split(":")[1]) for p in self.pending
                if p.smartlock_id == smartlock_id and p.description.startswith("add-code:")]

    # --- accepting changes (the HTTP layer calls these) --------------------------------------

    def accept(self, smartlock_id: int, description: str, apply: Callable[[], None]) -> None:
        if self.lose_next:  # the fast sync failed and the change never reaches the lock
            self.lose_next = False
            return
        self.pending.append(Pending(smartlock_id, apply, description))

    def settle(self) -> int:
        """Apply what reachable locks have pending, in order; return how many were applied."""
        with self.guard:
            done, kept = 0, []
            for item in self.pending:
                lock = self.locks.get(item.smartlock_id)
                if lock is None or lock.server_state != SERVER_ONLINE:
                    kept.append(item)
                    continue
                item.apply()
                done += 1
            self.pending = kept
            return done

    # --- what happens at the lock ------------------------------------------------------------

    def move_bolt(self, lock: Smartlock, action: int, trigger: int, *, auth: KeypadAuth | None = None,
                  name: str = "Nuki Web", source: int = SOURCE_DEFAULT) -> None:
        if lock.jam_next:
            lock.jam_next = False
            lock.state = MOTOR_BLOCKED
            self.log(lock, action, trigger, LOG_MOTOR_BLOCKED, name=name, auth=auth, source=source)
        else:
            lock.state = LOCKED if action == ACTION_LOCK else (
                UNLATCHED if action == ACTION_UNLATCH else UNLOCKED)
            self.log(lock, action, trigger, LOG_SUCCESS, name=name, auth=auth, source=source)
        lock.last_action, lock.trigger = action, trigger
        self.status_changed(lock)

    def log(self, lock: Smartlock, action: int, trigger: int, state: int, *, name: str,
            auth: KeypadAuth | None = None, source: int = SOURCE_DEFAULT) -> Json:
        entry: Json = {
            "id": object_id(), "smartlockId": lock.smartlock_id, "deviceType": 0,
            "name": name, "action": action, "trigger": trigger, "state": state,
            "autoUnlock": False, "date": iso(self.now()), "source": source,
        }
        if auth is not None:
            entry["authId"] = auth.id
        self.logs.setdefault(lock.smartlock_id, []).append(entry)
        self.notify(lock.account_id, "DEVICE_LOGS", {"smartlockLog": entry})
        return entry

    def status_changed(self, lock: Smartlock) -> None:
        self.notify(lock.account_id, "DEVICE_STATUS", {
            "smartlockId": lock.smartlock_id, "state": lock.state_json(),
            "serverState": lock.server_state, "adminPinState": 0})

    def auths_changed(self, lock: Smartlock, auth: KeypadAuth, *, deleted: bool = False) -> None:
        self.notify(lock.account_id, "DEVICE_AUTHS",
                    {"smartlockId": lock.smartlock_id, "deleted": deleted,
                     "smartlockAuth": auth.to_json()})

    def new_auth(self, lock: Smartlock, **fields: Any) -> KeypadAuth:
        now = self.now()
        return KeypadAuth(id=object_id(), smartlock_id=lock.smartlock_id,
                          auth_id=next(self._auth_ids), created=now, updated=now, **fields)

    def enter_pin(self, lock: Smartlock, code: int, at: datetime) -> bool:
        """Someone types a code on the keypad: the lock unlocks if an allowed code matches."""
        zone = ZoneInfo(lock.timezone)
        for auth in lock.auths.values():
            if auth.code == code and auth.allows(at, zone):
                auth.lock_count += 1
                auth.last_active = at
                self.move_bolt(lock, ACTION_UNLOCK, TRIGGER_KEYPAD, auth=auth, name=auth.name,
                               source=SOURCE_KEYPAD_CODE)
                return True
        self.log(lock, ACTION_UNLOCK, TRIGGER_KEYPAD, LOG_WRONG_CODE, name="",
                 source=SOURCE_KEYPAD_CODE)
        return False
