"""An async client for the TTLock Open Platform (euopen.ttlock.com), the cloud behind TTLock
and its white-label brands (Sifely, Dusaw, 33 Lock...).

What the user needs:
- a developer account on the open platform (https://euopen.ttlock.com, or open.ttlock.com /
  cnopen.ttlock.com) and an application of their own, which TTLock reviews ("a few days");
  before review only the app's test accounts can sign in (errcode 10006). No paid plan.
- the application's `client_id` and `client_secret`, and the username and password of the
  TTLock *app* account that owns the locks (not the developer account). lockhub sends the
  password's lowercase MD5, as TTLock requires, and should store only that and the tokens.
- a G2/G3 gateway (or a Wi-Fi lock) for anything that reaches the lock remotely: lock,
  unlock, open state, adding or deleting custom passcodes. Without one, only generated
  ("offline") passcodes can be issued. No second factor.

Protocol: every call is a form-encoded POST answered with JSON; failures are HTTP 200 with
`{"errcode", "errmsg"}`. v3 calls carry `clientId`, `accessToken` and `date` (now, in ms; more
than five minutes off is refused with 80000, so the real clock is sent, never a sandbox's).
Tokens last 90 days and are refreshed with the refresh token (valid for years).

Base URL: `LOCKHUB_TTLOCK_API_URL` (default `https://euapi.ttlock.com`; other regions use
`api.ttlock.com`, `api.sciener.com` or the China host); sign-in is on the same host.
Rate limits: none published; an app over its quota gets 30006. A gateway carries one command
at a time and answers -3003 to a second one meanwhile; gateway commands take seconds.

Retries: reads are retried after transport errors and 5xx; any gateway command refused with
"gateway busy" is retried (the lock never saw it). Writes are not retried after a timeout or
a 5xx (the lock may have acted): the caller confirms by reading back. A refused or expired
token is refreshed once and the call repeated. Secrets (client secret, password, tokens)
never appear in logs or exception messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from enum import IntEnum
from typing import Any, TypeVar

import httpx
import msgspec

from lockhub.providers.base import ProviderError

log = logging.getLogger("lockhub.providers.ttlock")

DEFAULT_API_URL = "https://euapi.ttlock.com"
DEFAULT_TIMEOUT_SECONDS = 30.0  # a gateway command wakes the lock over BLE: about 10 s
READ_RETRY_DELAYS = (0.5, 2.0)
BUSY_RETRY_DELAYS = (2.0, 5.0, 10.0)
REFRESH_MARGIN_SECONDS = 24 * 3600  # refresh a day before the 90-day token runs out
PAGE_SIZE = 100  # the documented maximum of the passcode and record lists
HOUR_MS = 3_600_000

T = TypeVar("T")


def api_url() -> str:
    return os.environ.get("LOCKHUB_TTLOCK_API_URL", DEFAULT_API_URL).rstrip("/")


def md5_password(password: str) -> str:
    """What TTLock's password grant expects instead of the password: 32 lowercase hex."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


# --- errors ---------------------------------------------------------------------------------

GATEWAY_BUSY = (-3003, 3003)
TOKEN_REFUSED = (10003, 10004)  # invalid token / invalid grant (expired or revoked)

# errcode -> (Seam error type, retryable, message). The one place TTLock's codes are read.
# Codes from https://euopen.ttlock.com/doc/api/error and i2gtrip.com/doc/api/error, except
# -2018 (message cut in the docs), -3007, -3009 and -4043 (not in the readable docs: the
# values the fake uses until real answers are captured).
ERRORS: dict[int, tuple[str, bool, str]] = {
    10000: ("invalid_credentials", False, "TTLock does not know this client_id."),
    10001: ("invalid_credentials", False, "The client_id or client_secret is wrong."),
    10003: ("account_disconnected", False, "TTLock refused the access token."),
    10004: ("account_disconnected", False, "The TTLock authorisation expired or was revoked."),
    10006: ("invalid_credentials", False,
            "This TTLock application is not reviewed yet: only its test accounts can sign in."),
    10007: ("invalid_credentials", False, "The TTLock username or password is wrong."),
    10011: ("account_disconnected", False, "TTLock refused the refresh token; sign in again."),
    20002: ("provider_error", False, "The TTLock account is not an admin of this lock."),
    30001: ("provider_error", False, "The TTLock application may not use this call."),
    30006: ("rate_limit_exceeded", True, "The TTLock application exceeded its API call quota."),
    80000: ("provider_error", False,
            "TTLock refused the request time: this server's clock is more than 5 minutes off."),
    90000: ("provider_error", True, "TTLock reported an internal error."),
    -2012: ("hub_disconnected", False, "The lock is not connected to any TTLock gateway."),
    -2018: ("device_removed", False, "The lock is not in this TTLock account."),
    -3003: ("provider_error", True, "The TTLock gateway is busy with another command."),
    3003: ("provider_error", True, "The TTLock gateway is busy with another command."),
    -3007: ("duplicate_code_on_device", False, "The lock already has this passcode."),
    -3009: ("no_space_for_access_code_on_device", False, "The lock has no room for more passcodes."),
    -4043: ("provider_error", False, "The lock does not support this function."),
}
# -4043 by what was asked
UNSUPPORTED = {"lock": "remote_lock_not_supported", "unlock": "remote_unlock_not_supported",
               "passcode": "access_codes_not_supported"}


class TTLockError(ProviderError):
    """A ProviderError that TTLock itself reported, with its errcode."""

    def __init__(self, errcode: int, errmsg: str, unsupported: str | None = None) -> None:
        error_type, retryable, message = ERRORS.get(
            errcode, ("provider_error", False, f"TTLock refused the request: {errmsg}"))
        if errcode == -4043 and unsupported:
            error_type = UNSUPPORTED[unsupported]
        super().__init__(error_type, f"{message} (errcode {errcode})", retryable=retryable)
        self.errcode = errcode


class _Transient(Exception):
    """A transport failure or 5xx: retried for reads only."""

    def __init__(self, error: ProviderError) -> None:
        self.error = error


# --- what TTLock answers --------------------------------------------------------------------


class Tokens(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds
    uid: int | None = None


class Lock(msgspec.Struct, rename="camel", frozen=True):
    """A lock of `lock/list` or `lock/detail` (detail adds timezoneRawOffset, modelNum...)."""

    lock_id: int
    lock_alias: str = ""
    lock_name: str = ""
    lock_mac: str = ""
    electric_quantity: int | None = None  # battery, percent
    has_gateway: int = 0
    feature_value: str = ""
    keyboard_pwd_version: int = 0
    timezone_raw_offset: int = 0  # ms from UTC
    model_num: str | None = None
    firmware_revision: str | None = None

    @property
    def gateway_connected(self) -> bool:
        return self.has_gateway == 1

    def features(self) -> int:
        try:
            return int(self.feature_value or "0", 16)
        except ValueError:
            return 0

    @property
    def is_wifi(self) -> bool:
        return bool(self.features() & (1 << 56))

    @property
    def remote_unlock_enabled(self) -> bool:
        return bool(self.features() & (1 << 10))

    @property
    def supports_custom_passcodes(self) -> bool:
        return self.keyboard_pwd_version == 4

    @property
    def supports_generated_passcodes(self) -> bool:
        """keyboardPwd/get works for every passcode version (1-4); 0 is a lock without
        keypad passcodes."""
        return 1 <= self.keyboard_pwd_version <= 4


class Passcode(msgspec.Struct, rename="camel", frozen=True):
    """A `lock/listKeyboardPwd` item; TTLock returns the digits, so codes are readable."""

    keyboard_pwd_id: int
    keyboard_pwd: str = ""
    keyboard_pwd_name: str = ""
    keyboard_pwd_type: int = 0
    start_date: int = 0  # ms; 0 with endDate 0 for a permanent custom code
    end_date: int = 0
    is_custom: int = 0
    status: int = 1  # 1 normal, 2 invalid or expired, 3-9 NB-IoT pending states


class OfflinePasscode(msgspec.Struct, rename="camel", frozen=True):
    keyboard_pwd: str
    keyboard_pwd_id: int


class Record(msgspec.Struct, rename="camel", frozen=True):
    """A `lockRecord/list` item, and a record in a callback push."""

    lock_id: int
    record_type: int  # 4 passcode unlock, 12 gateway unlock, 45 auto lock, 48 bad codes...
    success: int = 1
    username: str = ""
    keyboard_pwd: str = ""  # the passcode (or card number) used
    lock_date: int = 0  # ms, the lock's clock
    server_date: int = 0
    record_type_from_lock: int | None = None
    electric_quantity: int | None = None
    lock_mac: str | None = None


class CallbackPush(msgspec.Struct, frozen=True):
    lock_id: int
    lock_mac: str
    notify_type: int
    admin: str
    records: list[Record]


class OfflineKind(IntEnum):
    """keyboardPwdType of a generated code (https://open.sciener.com/doc/api/v3/keyboardPwd/get)."""

    ONE_TIME = 1  # once, within 6 h of the start
    PERMANENT = 2  # must be used once within 24 h of the start
    PERIOD = 3  # start to end; must be used once within 24 h of the start
    DELETE = 4  # erases every other code on the lock
    WEEKEND = 5
    DAILY = 6
    WORKDAY = 7
    MONDAY = 8
    TUESDAY = 9
    WEDNESDAY = 10
    THURSDAY = 11
    FRIDAY = 12
    SATURDAY = 13
    SUNDAY = 14


def parse_callback(form: Mapping[str, str]) -> CallbackPush:
    """The form TTLock POSTs to the application's callback URL (no signature: keep the URL
    secret). Raises ValueError when it is not a TTLock push."""
    try:
        records = msgspec.convert(json.loads(form.get("records", "[]")), list[Record],
                                  strict=False)
        return CallbackPush(lock_id=int(form["lockId"]), lock_mac=form.get("lockMac", ""),
                            notify_type=int(form.get("notifyType", 1)),
                            admin=form.get("admin", ""), records=records)
    except (KeyError, ValueError, msgspec.ValidationError) as exc:
        raise ValueError(f"not a TTLock callback: {exc}") from None


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


# --- the client -----------------------------------------------------------------------------


class TTLockClient:
    """One TTLock application signed in as one account. Use as an async context manager."""

    def __init__(self, client_id: str, client_secret: str, *, tokens: Tokens | None = None,
                 base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 read_retry_delays: tuple[float, ...] = READ_RETRY_DELAYS,
                 busy_retry_delays: tuple[float, ...] = BUSY_RETRY_DELAYS,
                 on_tokens: Callable[[Tokens], Awaitable[None] | None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.tokens = tokens
        self.base_url = (base_url or api_url()).rstrip("/")
        self.read_retry_delays = read_retry_delays
        self.busy_retry_delays = busy_retry_delays
        self._on_tokens = on_tokens
        self._clock = clock
        self._refreshing = asyncio.Lock()
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout,
                                       headers={"Accept": "application/json"})

    async def __aenter__(self) -> TTLockClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- sign-in ---------------------------------------------------------------------------

    async def sign_in(self, username: str, password: str | None = None, *,
                      password_md5: str | None = None) -> Tokens:
        """Password grant with the TTLock app account; `password_md5` when only the hash is
        stored. Raises invalid_credentials for a wrong client, account or password."""
        hashed = password_md5 if password_md5 is not None else md5_password(password or "")
        answer = await self._token_request({"grant_type": "password", "username": username,
                                            "password": hashed})
        return await self._keep_tokens(answer)

    async def refresh(self) -> Tokens:
        """A new access token from the refresh token; account_disconnected when refused."""
        if self.tokens is None:
            raise ProviderError("account_disconnected", "Not signed in to TTLock.")
        stale = self.tokens.access_token
        async with self._refreshing:
            if self.tokens.access_token != stale:  # another call refreshed meanwhile
                return self.tokens
            answer = await self._token_request({"grant_type": "refresh_token",
                                                "refresh_token": self.tokens.refresh_token})
            return await self._keep_tokens(answer)

    async def _token_request(self, fields: dict[str, str]) -> dict[str, Any]:
        form = {"client_id": self.client_id, "client_secret": self._client_secret, **fields}
        answer = await self._post("/oauth2/token", form, retry=False)
        if "access_token" not in answer:
            raise ProviderError("provider_error", "TTLock's token answer had no access token.")
        return answer

    async def _keep_tokens(self, answer: dict[str, Any]) -> Tokens:
        uid = answer.get("uid", self.tokens.uid if self.tokens else None)
        self.tokens = Tokens(access_token=str(answer["access_token"]),
                             refresh_token=str(answer.get("refresh_token", "")),
                             expires_at=self._clock() + float(answer.get("expires_in", 0)),
                             uid=int(uid) if uid is not None else None)
        if self._on_tokens is not None:
            result = self._on_tokens(self.tokens)
            if result is not None:
                await result
        return self.tokens

    # --- locks -----------------------------------------------------------------------------

    async def list_locks(self) -> list[Lock]:
        """Every lock of the account, with battery (`electricQuantity`) and `hasGateway`."""
        return await self._pages("/v3/lock/list", {}, Lock)

    async def get_lock(self, lock_id: int) -> Lock:
        """Details: battery, features, passcode version, time zone offset, model, firmware."""
        answer = await self._v3("/v3/lock/detail", {"lockId": lock_id}, read=True)
        return self._convert(answer, Lock)

    async def is_locked(self, lock_id: int) -> bool | None:
        """The bolt, asked through the gateway: True locked, False unlocked, None unknown."""
        answer = await self._v3("/v3/lock/queryOpenState", {"lockId": lock_id}, read=True,
                                gateway=True)
        return {0: True, 1: False}.get(answer.get("state", 2))

    async def lock(self, lock_id: int) -> None:
        await self._v3("/v3/lock/lock", {"lockId": lock_id}, gateway=True, unsupported="lock")

    async def unlock(self, lock_id: int) -> None:
        await self._v3("/v3/lock/unlock", {"lockId": lock_id}, gateway=True,
                       unsupported="unlock")

    # --- passcodes -------------------------------------------------------------------------

    async def list_passcodes(self, lock_id: int) -> list[Passcode]:
        return await self._pages("/v3/lock/listKeyboardPwd", {"lockId": lock_id}, Passcode)

    async def add_passcode(self, lock_id: int, code: str, *, name: str = "",
                           starts_at: datetime | None = None,
                           ends_at: datetime | None = None) -> int:
        """A custom passcode (4-9 digits, V4-passcode locks) written through the gateway;
        without a window it is permanent, with one the lock enforces it. Returns its
        keyboardPwdId."""
        if (starts_at is None) != (ends_at is None):
            raise ValueError("give both starts_at and ends_at, or neither")
        fields: dict[str, Any] = {
            "lockId": lock_id, "keyboardPwd": code, "keyboardPwdName": name, "addType": 2,
            "startDate": epoch_ms(starts_at) if starts_at else 0,
            "endDate": epoch_ms(ends_at) if ends_at else 0}
        answer = await self._v3("/v3/keyboardPwd/add", fields, gateway=True,
                                unsupported="passcode")
        return int(answer["keyboardPwdId"])

    async def delete_passcode(self, lock_id: int, passcode_id: int) -> None:
        """Through the gateway. TTLock answers success for ids it never had: read back."""
        await self._v3("/v3/keyboardPwd/delete",
                       {"lockId": lock_id, "keyboardPwdId": passcode_id, "deleteType": 2},
                       gateway=True, unsupported="passcode")

    async def get_offline_passcode(self, lock_id: int, kind: OfflineKind, *,
                                   starts_at: datetime, ends_at: datetime | None = None,
                                   name: str = "", keyboard_pwd_version: int = 4,
                                   tz_offset_ms: int = 0) -> OfflinePasscode:
        """A generated code the lock accepts without being told (no gateway needed). The
        window must be whole hours of the lock's time zone (`timezoneRawOffset`); the code
        must be used once within 24 h of the start (6 h, and only once, for ONE_TIME)."""
        fields: dict[str, Any] = {"lockId": lock_id, "keyboardPwdType": int(kind),
                                  "keyboardPwdVersion": keyboard_pwd_version,
                                  "keyboardPwdName": name, "startDate": epoch_ms(starts_at)}
        if ends_at is not None:
            fields["endDate"] = epoch_ms(ends_at)
        for value in (fields["startDate"], fields.get("endDate", 0)):
            if (value + tz_offset_ms) % HOUR_MS:
                raise ValueError("TTLock generated codes start and end on whole hours")
        answer = await self._v3("/v3/keyboardPwd/get", fields, unsupported="passcode")
        return self._convert(answer, OfflinePasscode)

    # --- records ---------------------------------------------------------------------------

    async def list_records(self, lock_id: int, *, since: datetime | None = None,
                           until: datetime | None = None) -> list[Record]:
        """The lock's records, newest first (who unlocked, with which passcode)."""
        fields = {"lockId": lock_id, "startDate": epoch_ms(since) if since else 0,
                  "endDate": epoch_ms(until) if until else 0}
        return await self._pages("/v3/lockRecord/list", fields, Record)

    # --- plumbing --------------------------------------------------------------------------

    async def _pages(self, path: str, fields: dict[str, Any], kind: type[T]) -> list[T]:
        items: list[T] = []
        number = 1
        while True:
            answer = await self._v3(path, {**fields, "pageNo": number, "pageSize": PAGE_SIZE},
                                    read=True)
            items.extend(self._convert(item, kind) for item in answer.get("list") or [])
            if number >= int(answer.get("pages") or 1):
                return items
            number += 1

    def _convert(self, data: Any, kind: type[T]) -> T:
        try:
            return msgspec.convert(data, kind, strict=False)
        except msgspec.ValidationError as exc:
            raise ProviderError("provider_error",
                                f"TTLock answered in an unexpected shape: {exc}") from None

    async def _v3(self, path: str, fields: dict[str, Any], *, read: bool = False,
                  gateway: bool = False, unsupported: str | None = None) -> dict[str, Any]:
        """One v3 call with the auth fields, refreshing the token once when refused and
        retrying a busy gateway."""
        if self.tokens is None:
            raise ProviderError("account_disconnected", "Not signed in to TTLock.")
        if self.tokens.expires_at - REFRESH_MARGIN_SECONDS <= self._clock():
            await self.refresh()
        refreshed = False
        busy = iter(self.busy_retry_delays if gateway else ())
        while True:
            form = {"clientId": self.client_id, "accessToken": self.tokens.access_token,
                    "date": int(self._clock() * 1000), **fields}
            try:
                return await self._post(path, form, retry=read, unsupported=unsupported)
            except TTLockError as exc:
                errcode = exc.errcode
                if errcode in TOKEN_REFUSED and not refreshed:
                    refreshed = True
                    await self.refresh()
                    continue
                if errcode in GATEWAY_BUSY:
                    delay = next(busy, None)
                    if delay is not None:
                        log.info("TTLock %s: gateway busy, retrying in %.1f s", path, delay)
                        await asyncio.sleep(delay)
                        continue
                raise

    async def _post(self, path: str, form: dict[str, Any], *, retry: bool,
                    unsupported: str | None = None) -> dict[str, Any]:
        delays = iter(self.read_retry_delays if retry else ())
        while True:
            try:
                return await self._post_once(path, form, unsupported)
            except _Transient as exc:
                delay = next(delays, None)
                if delay is None:
                    raise exc.error from None
                log.info("TTLock %s: %s, retrying in %.1f s", path, exc.error.message, delay)
                await asyncio.sleep(delay)

    async def _post_once(self, path: str, form: dict[str, Any],
                         unsupported: str | None) -> dict[str, Any]:
        try:
            response = await self._http.post(path, data={k: str(v) for k, v in form.items()})
        except httpx.TimeoutException:
            raise _Transient(ProviderError(
                "device_communication_timeout", f"TTLock did not answer {path} in time.",
                retryable=True)) from None
        except httpx.HTTPError as exc:
            raise _Transient(ProviderError(
                "provider_error", f"Could not reach TTLock ({type(exc).__name__}).",
                retryable=True)) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise _Transient(ProviderError(
                "provider_error", f"TTLock answered HTTP {response.status_code} to {path}.",
                retryable=True))
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400 or not isinstance(answer, dict):
            raise ProviderError("provider_error",
                                f"TTLock answered HTTP {response.status_code} to {path} "
                                "without a JSON body.")
        errcode = answer.get("errcode", 0)
        if errcode not in (0, None, "0"):
            try:
                errcode = int(errcode)
            except (TypeError, ValueError):
                errcode = 1
            log.debug("TTLock %s: errcode %s", path, errcode)
            raise TTLockError(errcode, str(answer.get("errmsg", "")), unsupported)
        return answer
