"""The device-side world behind the fake TTLock cloud: apps, accounts, locks, gateways,
passcodes and the lock's records.

Everything here is plain state with the rules the real locks apply (passcode windows, the
24-hour first-use rule of generated codes, one command per gateway at a time); the HTTP app
(`app.py`) only translates requests into these calls. Times are epoch milliseconds, as TTLock
speaks them. Tests and the HTTP thread both touch this state, so every change holds `lock`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field

from tests.fakes.ttlock import errors, offline_codes

HOUR_MS = 3_600_000

# featureValue bits (hass-ttlock models.py, after TTLock's featureValue document)
FEATURE_LOCK_REMOTELY = 1 << 8
FEATURE_UNLOCK_VIA_GATEWAY = 1 << 10
FEATURE_PASSAGE_MODE = 1 << 22
FEATURE_WIFI = 1 << 56

# recordType values (euopen.sciener.com/doc/api/v3/lockRecord/list)
RECORD_APP_UNLOCK = 1
RECORD_PASSCODE_UNLOCK = 4
RECORD_LOCK_BY_APP = 11  # "Bluetooth lock" in the docs; remote locks are logged with it too
RECORD_GATEWAY_UNLOCK = 12
RECORD_OPEN_FROM_INSIDE = 32
RECORD_AUTO_LOCK = 45
RECORD_INVALID_PASSCODE_SEVERAL_TIMES = 48

MAX_CUSTOM_PASSCODES = 150  # kksmartlocks.com/api-document-passcodes


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@dataclass
class App:
    """An open-platform application (client_id / client_secret)."""

    client_id: str
    client_secret: str
    reviewed: bool = True
    test_usernames: set[str] = field(default_factory=set)  # the only sign-ins before review


@dataclass
class Account:
    """A TTLock app account (the `username` of the password grant)."""

    username: str
    password_md5: str
    uid: int


@dataclass
class Passcode:
    keyboard_pwd_id: int
    lock_id: int
    code: str
    name: str
    type: int  # keyboardPwdType: 1 one-time, 2 permanent, 3 period, 4 delete, 5-14 cyclic
    start_ms: int
    end_ms: int
    is_custom: bool
    send_ms: int
    sender: str
    version: int = 4
    status: int = 1  # 1 normal, 2 invalid or expired (listKeyboardPwd)
    on_lock: bool = True  # addType=1 (Bluetooth) codes exist only once the app SDK wrote them
    first_used_ms: int | None = None

    def served(self) -> dict[str, object]:
        return {"keyboardPwdId": self.keyboard_pwd_id, "lockId": self.lock_id,
                "keyboardPwd": self.code, "keyboardPwdName": self.name,
                "keyboardPwdVersion": self.version, "keyboardPwdType": self.type,
                "startDate": self.start_ms, "endDate": self.end_ms, "sendDate": self.send_ms,
                "isCustom": 1 if self.is_custom else 0, "status": self.status,
                "senderUsername": self.sender}


@dataclass
class Record:
    lock_id: int
    lock_mac: str
    record_type: int
    success: bool
    username: str
    keyboard_pwd: str
    lock_date: int
    server_date: int
    electric_quantity: int
    record_type_from_lock: int = 0

    def served(self) -> dict[str, object]:
        """A lockRecord/list item."""
        return {"lockId": self.lock_id, "recordType": self.record_type,
                "recordTypeFromLock": self.record_type_from_lock,
                "success": 1 if self.success else 0, "username": self.username,
                "keyboardPwd": self.keyboard_pwd, "lockDate": self.lock_date,
                "serverDate": self.server_date, "electricQuantity": self.electric_quantity}

    def pushed(self) -> dict[str, object]:
        """A record inside the callback's `records` array (hass-ttlock handle_webhook)."""
        return {**self.served(), "lockMac": self.lock_mac}


@dataclass
class Lock:
    lock_id: int
    owner: str  # username
    alias: str
    mac: str
    name: str = "S31_c401cc"
    battery: int = 90
    gateway_id: int | None = None
    features: int = FEATURE_LOCK_REMOTELY | FEATURE_UNLOCK_VIA_GATEWAY | FEATURE_PASSAGE_MODE
    keyboard_pwd_version: int = 4
    timezone_raw_offset: int = 0
    model_num: str = "SN9206_PV53"
    firmware: str = "6.0.6.210622"
    locked: bool = True
    init_ms: int = 1669690212000
    passcodes: dict[int, Passcode] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    wrong_entries: int = 0

    @property
    def has_gateway(self) -> bool:
        return self.gateway_id is not None

    @property
    def feature_value(self) -> str:
        return format(self.features, "X")

    def listed(self) -> dict[str, object]:
        """A lock/list item."""
        return {"lockId": self.lock_id, "lockName": self.name, "lockAlias": self.alias,
                "lockMac": self.mac, "electricQuantity": self.battery,
                "featureValue": self.feature_value, "hasGateway": 1 if self.has_gateway else 0,
                "keyboardPwdVersion": self.keyboard_pwd_version, "specialValue": 894227955,
                "lockData": "lockdata-" + md5_hex(str(self.lock_id)), "groupId": 0,
                "groupName": "", "date": self.init_ms}

    def detail(self) -> dict[str, object]:
        """The lock/detail answer; the key material is random, as a real lock's would be."""
        return {"lockId": self.lock_id, "lockName": self.name, "lockAlias": self.alias,
                "lockMac": self.mac, "lockKey": secrets.token_hex(8), "lockFlagPos": 0,
                "adminPwd": secrets.token_hex(8), "noKeyPwd": "1234567",
                "deletePwd": "", "aesKeyStr": secrets.token_hex(16),
                "lockVersion": {"protocolType": 5, "protocolVersion": 3, "scene": 2,
                                "groupId": 10, "orgId": 34},
                "keyboardPwdVersion": self.keyboard_pwd_version,
                "electricQuantity": self.battery, "specialValue": 894227955,
                "featureValue": self.feature_value, "hasGateway": 1 if self.has_gateway else 0,
                "timezoneRawOffset": self.timezone_raw_offset, "modelNum": self.model_num,
                "hardwareRevision": "1.6", "firmwareRevision": self.firmware,
                "autoLockTime": 60, "lockSound": 2, "privacyLock": 2, "tamperAlert": 1,
                "resetButton": 1, "passageMode": 2, "passageModeAutoUnlock": 2, "isFrozen": 2,
                "soundVolume": 5, "wirelessKeypadFeatureValue": "0", "displayPasscode": 0,
                "openDirection": 0, "sensitivity": -1, "lockUpdateDate": self.init_ms,
                "date": self.init_ms}


class World:
    """The whole fake cloud's state, plus the switches tests flip."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.apps: dict[str, App] = {}
        self.accounts: dict[str, Account] = {}
        self.locks: dict[int, Lock] = {}
        self.tokens: dict[str, tuple[str, str, int]] = {}  # access -> (client_id, user, exp ms)
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh -> (client_id, user)
        self.busy_gateways: set[int] = set()
        self.token_lifetime_s = 7_776_000  # 90 days, the documented default
        self.clock_offset_ms = 0  # the fake's clock minus real time (for the 80000 check)
        self.quota_exceeded = False  # every v3 call answers 30006
        self.busy_next = 0  # the next n gateway commands answer -3003 as if another ran
        self.invalid_attempts_before_alarm = 5
        self.calls: list[str] = []  # paths in arrival order
        self._next_id = 24242

    # --- time and ids --------------------------------------------------------------------

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def next_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    # --- set-up ----------------------------------------------------------------------------

    def add_app(self, client_id: str, client_secret: str, *, reviewed: bool = True) -> App:
        app = App(client_id, client_secret, reviewed)
        self.apps[client_id] = app
        return app

    def add_account(self, username: str, password: str) -> Account:
        account = Account(username, md5_hex(password), uid=self.next_id())
        self.accounts[username] = account
        return account

    def add_lock(self, owner: str, alias: str, **facts: object) -> Lock:
        lock_id = self.next_id()
        mac = ":".join(f"{b:02X}" for b in lock_id.to_bytes(6, "big"))
        lock = Lock(lock_id=lock_id, owner=owner, alias=alias, mac=mac, **facts)  # type: ignore[arg-type]
        self.locks[lock_id] = lock
        return lock

    # --- OAuth -----------------------------------------------------------------------------

    def issue_tokens(self, client_id: str, username: str) -> tuple[str, str]:
        with self.lock:
            access, refresh = secrets.token_hex(16), secrets.token_hex(16)
            self.tokens[access] = (client_id, username,
                                   self.now_ms() + self.token_lifetime_s * 1000)
            self.refresh_tokens[refresh] = (client_id, username)
            return access, refresh

    def expire_tokens(self) -> None:
        """Every access token issued so far is past its expiry (refresh tokens still work)."""
        with self.lock:
            self.tokens = {t: (c, u, 0) for t, (c, u, _) in self.tokens.items()}

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    def token_owner(self, client_id: str, access_token: str) -> str:
        """The username an access token acts for, or the TTLock error refusing it."""
        entry = self.tokens.get(access_token)
        if entry is None or entry[0] != client_id:
            raise errors.TTLockError(errors.INVALID_TOKEN)
        if entry[2] <= self.now_ms():
            raise errors.TTLockError(errors.INVALID_GRANT)
        return entry[1]

    # --- locks -----------------------------------------------------------------------------

    def owned_lock(self, username: str, lock_id: int) -> Lock:
        lock = self.locks.get(lock_id)
        if lock is None or lock.owner != username:
            raise errors.TTLockError(errors.PERMISSION_DENIED)
        return lock

    def record(self, lock: Lock, record_type: int, *, success: bool = True, username: str = "",
               keyboard_pwd: str = "", at_ms: int | None = None) -> Record:
        at = self.now_ms() if at_ms is None else at_ms
        entry = Record(lock.lock_id, lock.mac, record_type, success, username, keyboard_pwd,
                       lock_date=at, server_date=self.now_ms(), electric_quantity=lock.battery,
                       record_type_from_lock=record_type)
        lock.records.append(entry)
        return entry

    def claim_gateway(self, lock: Lock) -> int:
        """Take the lock's gateway for one command: -2012 without one, -3003 while busy."""
        with self.lock:
            # a Wi-Fi lock is its own gateway
            gateway = -lock.lock_id if lock.features & FEATURE_WIFI else lock.gateway_id
            if gateway is None:
                raise errors.TTLockError(errors.NO_GATEWAY)
            if self.busy_next > 0:
                self.busy_next -= 1
                raise errors.TTLockError(errors.GATEWAY_BUSY)
            if gateway in self.busy_gateways:
                raise errors.TTLockError(errors.GATEWAY_BUSY)
            self.busy_gateways.add(gateway)
            return gateway

    def free_gateway(self, gateway_id: int) -> None:
        with self.lock:
            self.busy_gateways.discard(gateway_id)

    # --- passcodes -------------------------------------------------------------------------

    def add_custom_passcode(self, lock: Lock, code: str, name: str, start_ms: int, end_ms: int,
                            sender: str, *, on_lock: bool) -> Passcode:
        if not (code.isascii() and code.isdigit() and 4 <= len(code) <= 9):
            raise errors.TTLockError(errors.INVALID_PARAMETER)
        if lock.keyboard_pwd_version != 4:
            raise errors.TTLockError(errors.NOT_SUPPORTED)
        with self.lock:
            live = [p for p in lock.passcodes.values() if p.status == 1]
            if any(p.code == code for p in live):
                raise errors.TTLockError(errors.PASSCODE_EXISTS)
            if sum(p.is_custom for p in live) >= MAX_CUSTOM_PASSCODES:
                raise errors.TTLockError(errors.PASSCODE_STORAGE_FULL)
            permanent = start_ms == 0 and end_ms == 0
            passcode = Passcode(self.next_id(), lock.lock_id, code, name,
                                type=2 if permanent else 3, start_ms=start_ms, end_ms=end_ms,
                                is_custom=True, send_ms=self.now_ms(), sender=sender,
                                on_lock=on_lock)
            lock.passcodes[passcode.keyboard_pwd_id] = passcode
            return passcode

    def generate_passcode(self, lock: Lock, kind: int, start_ms: int, end_ms: int, name: str,
                          sender: str) -> Passcode:
        """keyboardPwd/get: the cloud computes a code the lock will accept without being told."""
        offline_codes.check_request(kind, start_ms, end_ms, lock.timezone_raw_offset)
        with self.lock:
            taken = {p.code for p in lock.passcodes.values()}
            code = offline_codes.generate(lock.lock_id, kind, start_ms, end_ms, taken)
            passcode = Passcode(self.next_id(), lock.lock_id, code, name, type=kind,
                                start_ms=start_ms, end_ms=end_ms, is_custom=False,
                                send_ms=self.now_ms(), sender=sender,
                                version=lock.keyboard_pwd_version)
            lock.passcodes[passcode.keyboard_pwd_id] = passcode
            return passcode

    def delete_passcode(self, lock: Lock, keyboard_pwd_id: int) -> None:
        """Unknown ids are not an error: TTLock answers errcode 0 for them too."""
        with self.lock:
            lock.passcodes.pop(keyboard_pwd_id, None)

    # --- at the lock -----------------------------------------------------------------------

    def enter_pin(self, lock: Lock, pin: str, at_ms: int | None = None) -> Record | None:
        """Someone types `pin` on the keypad. An accepted code unlocks and logs recordType 4;
        refused codes log nothing until several in a row raise recordType 48."""
        at = self.now_ms() if at_ms is None else at_ms
        with self.lock:
            match = next((p for p in lock.passcodes.values()
                          if p.code == pin and p.on_lock and p.status == 1), None)
            if match is not None and offline_codes.accepts(match, at, lock.timezone_raw_offset):
                if match.first_used_ms is None:
                    match.first_used_ms = at
                if match.type == offline_codes.ONE_TIME:  # works once
                    match.status = 2
                if match.type == offline_codes.DELETE:  # erases every other code
                    lock.passcodes = {match.keyboard_pwd_id: match}
                lock.wrong_entries = 0
                lock.locked = False
                return self.record(lock, RECORD_PASSCODE_UNLOCK, username=match.sender,
                                   keyboard_pwd=pin, at_ms=at)
            lock.wrong_entries += 1
            if lock.wrong_entries >= self.invalid_attempts_before_alarm:
                lock.wrong_entries = 0
                return self.record(lock, RECORD_INVALID_PASSCODE_SEVERAL_TIMES,
                                   keyboard_pwd=pin, at_ms=at)
            return None
