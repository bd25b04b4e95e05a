"""An async client for the Nuki Web API (https://api.nuki.io).

What the user needs: a Nuki Web account (web.nuki.io) with each lock published to it ("Nuki
Web" switched on in the Nuki app) and connected to Nuki's servers (a Nuki Bridge, or the built-in
WiFi/Thread of newer locks); an API token generated in Nuki Web, menu "API" (free, no paid plan;
tokens do not expire but are destroyed when the account's password changes). Keypad codes need a
paired Nuki Keypad. Webhooks need Nuki's "Advanced API", granted on application; without it
lockhub polls `/smartlock` and `/smartlock/{id}/log`.

Base URL: `LOCKHUB_NUKI_API_URL` (default `https://api.nuki.io`); sign-in is the same host (the
token is the credential, no token exchange). Rate limits: none published ("free and not limited,
but there are some SPAM/abuse protection measures"); a 429 is retried for reads only.

Nuki's cloud is asynchronous: `lock`, `unlock` and every keypad-code change answer 204 at once
and the lock applies them "usually in some seconds" (or at the daily sync if the fast sync
fails). Creating a code returns no id; `add_keypad_code` looks it up by name and code. Callers
confirm changes by reading back (`get_smartlock`, `list_keypad_codes`).

The API token is only ever sent in the Authorization header; it never appears in log lines or
exception messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from lockhub.providers.base import ProviderError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.nuki.io"
KEYPAD_CODE = 13  # auth type for a keypad PIN
ACTION_UNLOCK, ACTION_LOCK, ACTION_UNLATCH = 1, 2, 3
SERVER_ONLINE, SERVER_OFFLINE = 0, 4
# state.state: 1 locked, 2 unlocking, 3 unlocked, 4 locking, 5 unlatched, 6 unlocked (lock'n'go),
# 7 unlatching, 254 motor blocked, 255 undefined
LOCKED_STATES = frozenset({1})
UNLOCKED_STATES = frozenset({3, 5, 6})
MOTOR_BLOCKED = 254
DOOR_CLOSED, DOOR_OPENED = 2, 3
WEBHOOK_FEATURES = ("DEVICE_STATUS", "DEVICE_MASTERDATA", "DEVICE_CONFIG", "DEVICE_LOGS",
                    "DEVICE_AUTHS", "ACCOUNT_USER")

# One table from Nuki's answers to lockhub's error types: (HTTP status, a phrase of Nuki's
# detailMessage or None for any) -> (error type, message, retryable). First match wins.
ERRORS: list[tuple[int, str | None, str, str, bool]] = [
    (401, None, "account_disconnected",
     "Nuki refused the API token (revoked, or the Nuki Web password changed).", False),
    (402, None, "subscription_required", "Nuki says this account has not paid for this.", False),
    (403, None, "provider_error",
     "Nuki refused the request (webhooks need Nuki's Advanced API).", False),
    (404, None, "device_removed", "The smart lock is no longer in this Nuki account.", False),
    (409, "parameter 'code'", "duplicate_code_on_device",
     "The lock already has a keypad code with these digits.", False),
    (400, "parameter 'type'", "accessory_keypad_setup_required",
     "No Nuki Keypad is paired with this lock.", False),
    (400, "parameter 'code'", "code_constraints_violated",
     "Nuki keypad codes are 6 digits from 1-9 and do not start with 12.", False),
    (400, "maximum number of keypad codes", "no_space_for_access_code_on_device",
     "The lock's keypad has no room for another code.", False),
    (422, None, "code_constraints_violated",
     "Nuki could not process the code (names are at most 20 characters).", False),
    (429, None, "rate_limit_exceeded", "Nuki is limiting requests from this account.", True),
    (500, None, "provider_service_unavailable", "Nuki's servers answered with an error.", True),
    (502, None, "provider_service_unavailable", "Nuki's servers are unavailable.", True),
    (503, None, "provider_service_unavailable", "Nuki's servers are unavailable.", True),
    (504, None, "provider_service_unavailable", "Nuki's servers did not answer in time.", True),
]
RETRYABLE_READ_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0


def error_for(status: int, detail: str = "") -> ProviderError:
    """Map one Nuki answer to a typed ProviderError (see ERRORS)."""
    for code, phrase, error_type, message, retryable in ERRORS:
        if code == status and (phrase is None or phrase in detail):
            return ProviderError(error_type, message, retryable=retryable)
    return ProviderError("provider_error", f"Nuki answered HTTP {status}.",
                         retryable=status >= 500)


class Account(msgspec.Struct, frozen=True):
    account_id: int
    email: str
    name: str = ""


class Smartlock(msgspec.Struct, frozen=True):
    """One lock as `GET /smartlock` describes it (the raw JSON stays in `raw`)."""

    smartlock_id: int
    name: str
    type: int
    server_state: int
    state: int | None
    door_state: int | None
    battery_charge: int | None
    battery_critical: bool
    battery_charging: bool
    keypad_paired: bool
    raw: dict[str, Any]

    @property
    def online(self) -> bool:
        """serverState 0; 4 means the lock (or its bridge) is not reachable through the API."""
        return self.server_state == SERVER_ONLINE

    @property
    def locked(self) -> bool | None:
        if self.state in LOCKED_STATES:
            return True
        if self.state in UNLOCKED_STATES:
            return False
        return None

    @property
    def jammed(self) -> bool:
        return self.state == MOTOR_BLOCKED

    @property
    def door_open(self) -> bool | None:
        return {DOOR_OPENED: True, DOOR_CLOSED: False}.get(self.door_state or -1)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Smartlock:
        state = data.get("state") or {}
        config = data.get("config") or {}
        return cls(
            smartlock_id=int(data["smartlockId"]), name=str(data.get("name", "")),
            type=int(data.get("type", 0)), server_state=int(data.get("serverState", SERVER_OFFLINE)),
            state=state.get("state"), door_state=state.get("doorState"),
            battery_charge=state.get("batteryCharge"),
            battery_critical=bool(state.get("batteryCritical", False)),
            battery_charging=bool(state.get("batteryCharging", False)),
            keypad_paired=bool(config.get("keypadPaired") or config.get("keypad2Paired")),
            raw=dict(data))


class KeypadCode(msgspec.Struct, frozen=True):
    """A keypad PIN (auth type 13). `id` is Nuki's auth id, the reference lockhub stores.

    Dates are UTC; `weekdays` is Nuki's bitmask (64 Monday ... 1 Sunday) and the times are
    minutes from midnight in the lock's own time zone.
    """

    id: str
    smartlock_id: int
    name: str
    code: str
    enabled: bool = True
    allowed_from: datetime | None = None
    allowed_until: datetime | None = None
    weekdays: int | None = None
    from_time: int | None = None
    until_time: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeypadCode:
        return cls(
            id=str(data["id"]), smartlock_id=int(data["smartlockId"]), name=str(data.get("name", "")),
            code=str(data.get("code", "")), enabled=bool(data.get("enabled", True)),
            allowed_from=_parse_date(data.get("allowedFromDate")),
            allowed_until=_parse_date(data.get("allowedUntilDate")),
            weekdays=data.get("allowedWeekDays"), from_time=data.get("allowedFromTime"),
            until_time=data.get("allowedUntilTime"))


class LogEntry(msgspec.Struct, frozen=True):
    """One `/smartlock/{id}/log` entry. action: 1 unlock, 2 lock, 3 unlatch, 240 door opened,
    241 door closed; trigger: 0 system, 1 manual, 2 button, 3 automatic, 4 web, 5 app,
    255 keypad; state: 0 success, 1 motor blocked, 224 wrong keypad code; `auth_id` names the
    keypad code used (a KeypadCode.id)."""

    id: str
    smartlock_id: int
    action: int
    trigger: int
    state: int
    date: datetime
    name: str = ""
    auth_id: str | None = None
    source: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogEntry:
        date = _parse_date(data.get("date"))
        return cls(id=str(data["id"]), smartlock_id=int(data["smartlockId"]),
                   action=int(data.get("action", 0)), trigger=int(data.get("trigger", 0)),
                   state=int(data.get("state", 0)), date=date or datetime.fromtimestamp(0, UTC),
                   name=str(data.get("name", "")), auth_id=data.get("authId"),
                   source=int(data.get("source", 0)))


class DecentralWebhook(msgspec.Struct, frozen=True):
    id: int
    url: str
    features: list[str]
    secret: str | None = None  # only in the answer to its creation

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DecentralWebhook:
        return cls(id=int(data["id"]), url=str(data.get("webhookUrl", "")),
                   features=list(data.get("webhookFeatures", [])), secret=data.get("secret"))


def check_pin(code: str) -> None:
    """Nuki's keypad rules: 6 digits 1-9 (no 0), not starting with "12"."""
    if not (len(code) == 6 and all(c in "123456789" for c in code)) or code.startswith("12"):
        raise ProviderError("code_constraints_violated",
                            "Nuki keypad codes are 6 digits from 1-9 and do not start with 12.")


def verify_webhook(body: bytes, signature: str, secret: str) -> bool:
    """True if `X-Nuki-Signature-SHA256` is the HMAC-SHA256 of the raw body with the secret."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _format_date(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("Nuki dates must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class NukiClient:
    """One Nuki Web account, reached with its API token.

    Reads (GET) are retried on 429, 5xx and connection failures, honouring Retry-After up to
    `MAX_RETRY_AFTER`; writes are sent once, because Nuki applies them asynchronously and a
    repeated keypad-code creation would be refused as a duplicate or create a second entry.
    """

    def __init__(self, api_token: str, *, base_url: str | None = None, timeout: float = 10.0,
                 read_retries: int = 2, retry_backoff: float = 0.5,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._token = api_token
        self.base_url = (base_url or os.environ.get("LOCKHUB_NUKI_API_URL")
                         or DEFAULT_API_URL).rstrip("/")
        self.read_retries = read_retries
        self.retry_backoff = retry_backoff
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout,
                                       transport=transport,
                                       headers={"Accept": "application/json"})

    def __repr__(self) -> str:  # never show the token
        return f"NukiClient(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> NukiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- transport ---------------------------------------------------------------------------

    async def _request(self, method: str, path: str, *, json: Any = None,
                       params: Mapping[str, Any] | None = None) -> Any:
        attempts = 1 + (self.read_retries if method == "GET" else 0)
        headers = {"Authorization": f"Bearer {self._token}"}
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._http.request(method, path, json=json, params=params,
                                                    headers=headers)
            except httpx.TimeoutException:
                if last:
                    raise ProviderError("provider_service_unavailable",
                                        f"Nuki did not answer {method} {path} in time.",
                                        retryable=True) from None
                await asyncio.sleep(self._backoff(attempt, None))
                continue
            except httpx.HTTPError as exc:
                if last:
                    raise ProviderError("provider_service_unavailable",
                                        f"Nuki could not be reached ({type(exc).__name__}).",
                                        retryable=True) from None
                await asyncio.sleep(self._backoff(attempt, None))
                continue
            if response.status_code in RETRYABLE_READ_STATUSES and not last:
                log.info("nuki %s %s answered %s; retrying", method, path, response.status_code)
                await asyncio.sleep(self._backoff(attempt, response.headers.get("Retry-After")))
                continue
            if response.status_code >= 400:
                raise error_for(response.status_code, _detail(response))
            if response.status_code == 204 or not response.content:
                return None
            return response.json()
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER)
            except ValueError:
                pass
        return self.retry_backoff * (2 ** attempt)

    # --- account -----------------------------------------------------------------------------

    async def sign_in(self) -> Account:
        """Check the token; a refused token is bad credentials here, not a lost connection."""
        try:
            return await self.get_account()
        except ProviderError as exc:
            if exc.error_type == "account_disconnected":
                raise ProviderError("invalid_credentials",
                                    "Nuki did not accept this API token.") from None
            raise

    async def get_account(self) -> Account:
        data = await self._request("GET", "/account")
        return Account(account_id=int(data["accountId"]), email=str(data.get("email", "")),
                       name=str(data.get("name", "")))

    # --- smart locks -------------------------------------------------------------------------

    async def list_smartlocks(self) -> list[Smartlock]:
        return [Smartlock.from_json(item) for item in await self._request("GET", "/smartlock")]

    async def get_smartlock(self, smartlock_id: int) -> Smartlock:
        return Smartlock.from_json(await self._request("GET", f"/smartlock/{smartlock_id}"))

    async def action(self, smartlock_id: int, action: int) -> None:
        """Send a lock action; Nuki answers 204 before the lock has moved."""
        await self._request("POST", f"/smartlock/{smartlock_id}/action", json={"action": action})

    async def lock(self, smartlock_id: int) -> None:
        await self.action(smartlock_id, ACTION_LOCK)

    async def unlock(self, smartlock_id: int) -> None:
        await self.action(smartlock_id, ACTION_UNLOCK)

    # --- keypad codes ------------------------------------------------------------------------

    async def list_keypad_codes(self, smartlock_id: int) -> list[KeypadCode]:
        data = await self._request("GET", f"/smartlock/{smartlock_id}/auth",
                                   params={"types": str(KEYPAD_CODE)})
        return [KeypadCode.from_json(item) for item in data
                if item.get("type") == KEYPAD_CODE]

    async def create_keypad_code(self, smartlock_id: int, *, name: str, code: str,
                                 allowed_from: datetime | None = None,
                                 allowed_until: datetime | None = None,
                                 weekdays: int | None = None, from_time: int | None = None,
                                 until_time: int | None = None) -> None:
        """Ask Nuki to add a keypad code (204, no id; the lock applies it seconds later)."""
        check_pin(code)
        if not name or len(name) > 20:
            raise ProviderError("code_constraints_violated",
                                "Nuki keypad code names are 1 to 20 characters.")
        body: dict[str, Any] = {"name": name, "type": KEYPAD_CODE, "code": int(code)}
        body.update(_window(allowed_from, allowed_until, weekdays, from_time, until_time))
        await self._request("PUT", f"/smartlock/{smartlock_id}/auth", json=body)

    async def find_keypad_code(self, smartlock_id: int, *, name: str,
                               code: str) -> KeypadCode | None:
        """The created code's entry, matched on name and digits (Nuki's create has no id)."""
        for item in await self.list_keypad_codes(smartlock_id):
            if item.name == name and item.code == code:
                return item
        return None

    async def add_keypad_code(self, smartlock_id: int, *, name: str, code: str,
                              **window: Any) -> KeypadCode | None:
        """Create, then look the code up once; None while the lock has not applied it yet."""
        await self.create_keypad_code(smartlock_id, name=name, code=code, **window)
        return await self.find_keypad_code(smartlock_id, name=name, code=code)

    async def update_keypad_code(self, smartlock_id: int, code_id: str, *,
                                 name: str | None = None, code: str | None = None,
                                 enabled: bool | None = None, **window: Any) -> None:
        """Change a code; window keys given as None are cleared (sent as null)."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if code is not None:
            check_pin(code)
            body["code"] = int(code)
        if enabled is not None:
            body["enabled"] = enabled
        body.update(_window(**window, explicit=set(window)))
        await self._request("POST", f"/smartlock/{smartlock_id}/auth/{code_id}", json=body)

    async def delete_keypad_code(self, smartlock_id: int, code_id: str) -> bool:
        """Remove a code; False if Nuki no longer knows it (already gone counts as done)."""
        try:
            await self._request("DELETE", f"/smartlock/{smartlock_id}/auth/{code_id}")
        except ProviderError as exc:
            if exc.error_type == "device_removed":
                return False
            raise
        return True

    # --- log ---------------------------------------------------------------------------------

    async def list_log(self, smartlock_id: int, *, since: datetime | None = None,
                       until: datetime | None = None, before_id: str | None = None,
                       limit: int = 50) -> list[LogEntry]:
        """Newest first, at most 50 (Nuki's cap); page back with `before_id` (the last id)."""
        params: dict[str, Any] = {"limit": max(1, min(limit, 50))}
        if since is not None:
            params["fromDate"] = _format_date(since)
        if until is not None:
            params["toDate"] = _format_date(until)
        if before_id is not None:
            params["id"] = before_id
        data = await self._request("GET", f"/smartlock/{smartlock_id}/log", params=params)
        return [LogEntry.from_json(item) for item in data]

    # --- decentral webhooks (Advanced API) ---------------------------------------------------

    async def create_webhook(self, url: str,
                             features: tuple[str, ...] = WEBHOOK_FEATURES) -> DecentralWebhook:
        """Register a webhook; the answer carries the signing secret (kept by the caller)."""
        data = await self._request("PUT", "/api/decentralWebhook",
                                   json={"webhookUrl": url, "webhookFeatures": list(features)})
        return DecentralWebhook.from_json(data)

    async def list_webhooks(self) -> list[DecentralWebhook]:
        return [DecentralWebhook.from_json(d)
                for d in await self._request("GET", "/api/decentralWebhook")]

    async def delete_webhook(self, webhook_id: int) -> None:
        await self._request("DELETE", f"/api/decentralWebhook/{webhook_id}")


def _window(allowed_from: datetime | None = None, allowed_until: datetime | None = None,
            weekdays: int | None = None, from_time: int | None = None,
            until_time: int | None = None, *, explicit: set[str] | None = None,
            **unknown: Any) -> dict[str, Any]:
    """Nuki's native schedule fields; a field named in `explicit` is sent even as null
    (which clears it on an update)."""
    if unknown:
        raise TypeError(f"unknown window fields: {sorted(unknown)}")
    if allowed_from and allowed_until and allowed_until <= allowed_from:
        raise ProviderError("code_constraints_violated", "The code's window ends before it starts.")
    values = {"allowed_from": ("allowedFromDate", allowed_from and _format_date(allowed_from)),
              "allowed_until": ("allowedUntilDate", allowed_until and _format_date(allowed_until)),
              "weekdays": ("allowedWeekDays", weekdays), "from_time": ("allowedFromTime", from_time),
              "until_time": ("allowedUntilTime", until_time)}
    keep = explicit or set()
    return {key: value for name, (key, value) in values.items() if value is not None or name in keep}


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        return str(data.get("detailMessage") or data.get("description") or "")
    return ""
