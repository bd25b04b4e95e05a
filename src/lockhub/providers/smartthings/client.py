"""The SmartThings cloud API (api.smartthings.com) as lockhub needs it, over httpx.

What the user needs: a Samsung account with the locks on a SmartThings hub (Z-Wave or Zigbee
locks such as Schlage BE469, Yale, Kwikset) and an OAuth-In ("API_ONLY") app they register
themselves with the SmartThings CLI (`smartthings apps:create`), giving its client id and
secret, scopes `r:devices:* x:devices:*` (+ `r:locations:*`) and lockhub's callback as a redirect
URI. No developer approval and no paid plan; an app serves up to 500 installs by default.
A personal access token also works (`TokenSet(access_token=...)` without a refresh token) but
lasts only 24 h when issued after 30 Dec 2024, so it is for trying things out.

Sign-in is the OAuth authorization-code flow: `authorize_url()` on the auth host, the user signs
in on Samsung's page, lockhub receives `?code=` and calls `exchange_code()`. Access tokens live
about 24 h; every refresh returns a NEW refresh token and invalidates the old one (and its access
token), so the caller must store each new `TokenSet` (the `on_tokens` callback) before using it,
and only one refresh may run at a time (the client serialises them).

Hosts: `LOCKHUB_SMARTTHINGS_API_URL` (default https://api.smartthings.com) for the API and
`LOCKHUB_SMARTTHINGS_AUTH_URL` (same default) for `/v1/oauth/authorize` and `/v1/oauth/token`.

Commands (`POST /v1/devices/{id}/commands`) answer ACCEPTED before the lock has done anything;
the result shows later in `/status` (the `lock` attribute, or `codeChanged` "3 set" /
"3 failed" for PINs), so every write here returns at once and `wait_for*` reads back.
PINs are slot-based (`lockCodes`): the cloud keeps slot -> name only, never the PIN, and has no
schedules: time-bound codes are set and deleted by lockhub at their start and end.

Rate limits: 12 requests a minute per device for status reads and commands (429
`TooManyRequestError` with `X-RateLimit-*` headers and "retry in N millis"); at most 10
commands per request. Reads and 429s are retried (a 429 never ran the command); other command
failures are not, since a command may have been accepted before the connection broke.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import msgspec

from lockhub.clock import Clock, SystemClock
from lockhub.providers.base import ProviderError

DEFAULT_API_URL = "https://api.smartthings.com"
DEFAULT_AUTH_URL = "https://api.smartthings.com"
SCOPES = "r:devices:* x:devices:* r:locations:*"
MAX_COMMANDS = 10
REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before the access token expires

# The one mapping from SmartThings' answers to lockhub's error types:
# HTTP status -> (error type, retryable, message shown to the user).
ERRORS: dict[int, tuple[str, bool, str]] = {
    400: ("provider_error", False, "SmartThings refused the request as malformed."),
    401: ("account_disconnected", False,
          "SmartThings no longer accepts this account's token; sign in again."),
    403: ("account_disconnected", False,
          "The SmartThings app lacks a permission it needs (scopes r:devices:* x:devices:*)."),
    404: ("device_removed", False, "The device is no longer in the SmartThings account."),
    409: ("provider_error", False, "SmartThings refused the command in the device's state."),
    422: ("provider_error", False, "SmartThings refused the command."),
    429: ("rate_limit_exceeded", True, "SmartThings' per-device rate limit was reached."),
}
SERVER_ERROR = ("provider_error", True, "SmartThings is not available right now.")
# OAuth token endpoint `error` -> error type (a refused refresh means the account must sign in
# again; a refused code or client means the sign-in itself failed).
TOKEN_ERRORS: dict[tuple[str, str], str] = {
    ("authorization_code", "invalid_grant"): "invalid_credentials",
    ("authorization_code", "invalid_client"): "invalid_credentials",
    ("refresh_token", "invalid_grant"): "account_disconnected",
    ("refresh_token", "invalid_client"): "account_disconnected",
}
# codeChanged "<slot> failed" after setCode: the lock refused the PIN (SmartThings does not say
# why: a duplicate, a bad length, or a full lock).
CODE_FAILED = "failed_to_set_on_device"

_RETRY_IN = re.compile(r"retry in (\d+) millis")


def api_url() -> str:
    return os.environ.get("LOCKHUB_SMARTTHINGS_API_URL", DEFAULT_API_URL).rstrip("/")


def auth_url() -> str:
    return os.environ.get("LOCKHUB_SMARTTHINGS_AUTH_URL", DEFAULT_AUTH_URL).rstrip("/")


# --- what the client returns -------------------------------------------------------------------

class TokenSet(msgspec.Struct, frozen=True, omit_defaults=True):
    """What to store for an account. `refresh_token` is single-use: store each new set."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scope: str = ""
    installed_app_id: str | None = None
    owner_account_id: str | None = None

    def __repr__(self) -> str:  # never print tokens
        return f"TokenSet(expires_at={self.expires_at!r}, scope={self.scope!r})"


class LockDevice(msgspec.Struct, frozen=True):
    device_id: str
    label: str
    name: str
    location_id: str
    hub_id: str | None  # the SmartThings hub the lock is paired with (None for cloud locks)
    network: str  # ZWAVE, ZIGBEE, MATTER, ...
    manufacturer_code: str | None
    capabilities: list[str]


class LockStatus(msgspec.Struct, frozen=True):
    device_id: str
    lock: str | None  # locked, unlocked, "unlocked with timeout", unknown
    lock_method: str | None  # keypad, manual, command, auto, ...
    lock_code_slot: int | None  # the PIN's slot when the keypad unlocked it
    battery: int | None
    codes: dict[int, str]  # slot -> name (PINs themselves are not readable)
    code_changed: str | None  # "3 set", "3 failed", "3 deleted", ...
    code_changed_at: str | None
    max_codes: int | None
    min_code_length: int | None
    max_code_length: int | None

    @property
    def locked(self) -> bool | None:
        if self.lock == "locked":
            return True
        if self.lock in ("unlocked", "unlocked with timeout"):
            return False
        return None


class Health(msgspec.Struct, frozen=True):
    device_id: str
    online: bool
    updated_at: str | None


class HistoryEvent(msgspec.Struct, frozen=True):
    """One row of `/history/devices` (newest first)."""

    device_id: str
    capability: str | None
    attribute: str | None
    value: Any
    data: dict[str, Any]
    epoch_ms: int
    time: str


# --- sign-in (no client instance yet) ----------------------------------------------------------

def authorize_url(client_id: str, redirect_uri: str, state: str, scope: str = SCOPES,
                  base_url: str | None = None) -> str:
    """Where to send the user's browser to sign in and allow lockhub's app."""
    query = urlencode({"client_id": client_id, "scope": scope, "response_type": "code",
                       "redirect_uri": redirect_uri, "state": state})
    return f"{(base_url or auth_url()).rstrip('/')}/v1/oauth/authorize?{query}"


async def exchange_code(code: str, redirect_uri: str, client_id: str, client_secret: str, *,
                        base_url: str | None = None, timeout: float = 10.0,
                        clock: Clock | None = None,
                        transport: httpx.AsyncBaseTransport | None = None) -> TokenSet:
    """The authorization code from the redirect -> the account's first tokens."""
    async with httpx.AsyncClient(timeout=timeout, transport=transport) as http:
        return await _token_call(http, (base_url or auth_url()).rstrip("/"), client_id,
                                 client_secret, {"grant_type": "authorization_code",
                                                 "client_id": client_id, "code": code,
                                                 "redirect_uri": redirect_uri},
                                 clock or SystemClock())


async def _token_call(http: httpx.AsyncClient, base: str, client_id: str, client_secret: str,
                      form: dict[str, str], clock: Clock) -> TokenSet:
    grant_type = form["grant_type"]
    try:
        resp = await http.post(f"{base}/v1/oauth/token", data=form,
                               auth=(client_id, client_secret),
                               headers={"Accept": "application/json"})
    except httpx.TimeoutException as exc:
        raise ProviderError("provider_error", "SmartThings' sign-in did not answer in time.",
                            retryable=True) from exc
    except httpx.TransportError as exc:
        raise ProviderError("provider_error", "SmartThings' sign-in cannot be reached.",
                            retryable=True) from exc
    if resp.status_code >= 500:
        raise ProviderError(SERVER_ERROR[0], SERVER_ERROR[2], retryable=True)
    body = _json(resp)
    if resp.status_code != 200 or "access_token" not in body:
        code = str(body.get("error", "")) if isinstance(body, dict) else ""
        error_type = TOKEN_ERRORS.get((grant_type, code), "provider_error")
        # error_description repeats the code or refresh token: never pass it on.
        what = "sign-in code" if grant_type == "authorization_code" else "saved sign-in"
        raise ProviderError(error_type, f"SmartThings refused the {what} ({code or resp.status_code}).")
    expires_in = body.get("expires_in")
    return TokenSet(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token"),
        expires_at=clock.now() + timedelta(seconds=int(expires_in)) if expires_in else None,
        scope=body.get("scope", ""),
        installed_app_id=body.get("installed_app_id"),
        owner_account_id=body.get("owner_account_id"),
    )


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return {}


def retry_after_seconds(resp: httpx.Response) -> float:
    """How long a 429 says to wait: Retry-After if sent, else X-RateLimit-Reset (milliseconds,
    matching the body's "retry in N millis"), else the body's message."""
    header = resp.headers.get("Retry-After")
    if header and header.replace(".", "", 1).isdigit():
        return float(header)
    reset = resp.headers.get("X-RateLimit-Reset")
    if reset and reset.isdigit():
        return int(reset) / 1000
    match = _RETRY_IN.search(resp.text)
    return int(match.group(1)) / 1000 if match else 1.0


def _error_code(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def _details(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    if not isinstance(details, list):
        return ""
    return "; ".join(str(d.get("message", "")) for d in details if isinstance(d, dict))


# --- the client ---------------------------------------------------------------------------------

class SmartThingsClient:
    """One account's API client. Pass `client_id`/`client_secret` to refresh OAuth tokens;
    `on_tokens` is awaited with every new TokenSet before it is used."""

    def __init__(self, tokens: TokenSet, *, client_id: str | None = None,
                 client_secret: str | None = None, base_url: str | None = None,
                 auth_base_url: str | None = None, timeout: float = 10.0,
                 on_tokens: Callable[[TokenSet], Awaitable[None]] | None = None,
                 clock: Clock | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 max_retries: int = 2, max_retry_wait: float = 15.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.tokens = tokens
        self.client_id, self._client_secret = client_id, client_secret
        self.base_url = (base_url or api_url()).rstrip("/")
        self.auth_base_url = (auth_base_url or auth_url()).rstrip("/")
        self.on_tokens = on_tokens
        self.clock = clock or SystemClock()
        self.sleep = sleep
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait  # a longer 429 wait is the caller's to schedule
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport,
                                       headers={"Accept": "application/json"})
        self._refresh_lock = asyncio.Lock()

    async def __aenter__(self) -> SmartThingsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- tokens --------------------------------------------------------------------------------

    @property
    def can_refresh(self) -> bool:
        return bool(self.tokens.refresh_token and self.client_id and self._client_secret)

    async def refresh(self, stale_access_token: str | None = None) -> TokenSet:
        """Trade the refresh token for a new pair. Concurrent callers that saw the same stale
        token share one refresh: the refresh token is single-use, a second refresh with it
        would disconnect the account."""
        async with self._refresh_lock:
            if stale_access_token is not None and self.tokens.access_token != stale_access_token:
                return self.tokens
            if not self.can_refresh:
                raise ProviderError("account_disconnected", ERRORS[401][2])
            assert self.client_id and self._client_secret and self.tokens.refresh_token
            tokens = await _token_call(self._http, self.auth_base_url, self.client_id,
                                       self._client_secret,
                                       {"grant_type": "refresh_token",
                                        "refresh_token": self.tokens.refresh_token,
                                        "client_id": self.client_id}, self.clock)
            if self.on_tokens is not None:
                await self.on_tokens(tokens)
            self.tokens = tokens
            return tokens

    def _expiring(self) -> bool:
        expires_at = self.tokens.expires_at
        return expires_at is not None and expires_at - REFRESH_MARGIN <= self.clock.now()

    # --- requests ------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, *, params: Any = None,
                       body: Any = None) -> Any:
        """One API call with the retries SmartThings allows: a refresh on 401, a wait on 429
        (the command was not run), and for reads, retries on 5xx and lost connections."""
        idempotent = method == "GET"
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        refreshed = False
        attempt = 0
        while True:
            if self.can_refresh and self._expiring():
                await self.refresh(self.tokens.access_token)
            token = self.tokens.access_token
            try:
                resp = await self._http.request(method, url, params=params, json=body,
                                                headers={"Authorization": f"Bearer {token}"})
            except httpx.TransportError as exc:
                timed_out = isinstance(exc, httpx.TimeoutException)
                if idempotent and attempt < self.max_retries:
                    attempt += 1
                    await self.sleep(self._backoff(attempt))
                    continue
                if timed_out:
                    raise ProviderError("device_communication_timeout",
                                        "SmartThings did not answer in time.",
                                        retryable=True) from exc
                raise ProviderError("provider_error", "SmartThings cannot be reached.",
                                    retryable=True) from exc
            status = resp.status_code
            if status == 401 and not refreshed and self.can_refresh:
                refreshed = True
                await self.refresh(token)
                continue
            if status == 429 and attempt < self.max_retries:
                wait = retry_after_seconds(resp)
                if wait <= self.max_retry_wait:
                    attempt += 1
                    await self.sleep(wait)
                    continue
            if status >= 500 and idempotent and attempt < self.max_retries:
                attempt += 1
                await self.sleep(self._backoff(attempt))
                continue
            if 200 <= status < 300:
                return _json(resp) if resp.content else None
            raise self._error(resp)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return min(0.25 * 2 ** (attempt - 1), 2.0)

    @staticmethod
    def _error(resp: httpx.Response) -> ProviderError:
        status = resp.status_code
        error_type, retryable, message = SERVER_ERROR if status >= 500 else \
            ERRORS.get(status, ("provider_error", False, "SmartThings refused the request."))
        body = _json(resp)
        code, details = _error_code(body), _details(body)
        if status == 429:
            message += f" Retry in {retry_after_seconds(resp):.0f} s."
        elif details:
            message += f" ({code}: {details})"
        elif code:
            message += f" ({code})"
        return ProviderError(error_type, message, retryable=retryable)

    # --- devices -------------------------------------------------------------------------------

    async def list_locks(self) -> list[LockDevice]:
        """Every device with the `lock` capability, across pages."""
        locks: list[LockDevice] = []
        page = await self._request("GET", "/v1/devices", params={"capability": "lock"})
        while True:
            locks += [_lock_device(item) for item in page.get("items", [])]
            next_href = (page.get("_links") or {}).get("next", {}) or {}
            if not next_href.get("href"):
                return locks
            page = await self._request("GET", self._same_host(next_href["href"]))

    def _same_host(self, href: str) -> str:
        """A paging link, kept on the configured host (links name the public host)."""
        _, _, rest = href.partition("://")
        _, slash, path = rest.partition("/")
        return f"{self.base_url}{slash}{path}"

    async def get_device(self, device_id: str) -> LockDevice:
        return _lock_device(await self._request("GET", f"/v1/devices/{device_id}"))

    async def get_status(self, device_id: str) -> LockStatus:
        body = await self._request("GET", f"/v1/devices/{device_id}/status")
        return _lock_status(device_id, body)

    async def get_health(self, device_id: str) -> Health:
        body = await self._request("GET", f"/v1/devices/{device_id}/health")
        return Health(device_id, body.get("state") == "ONLINE", body.get("lastUpdatedDate"))

    async def list_codes(self, device_id: str) -> dict[int, str]:
        """Slot -> name of the PINs on the lock (the PINs themselves are not readable)."""
        return (await self.get_status(device_id)).codes

    async def list_events(self, device_id: str, *, limit: int = 20,
                          after_epoch_ms: int | None = None) -> list[HistoryEvent]:
        """The device's recent history, newest first (lock/unlock with method and code slot,
        codeChanged, battery)."""
        params: dict[str, Any] = {"deviceId": device_id, "limit": limit, "oldestFirst": "false"}
        if after_epoch_ms is not None:
            params["pagingAfterEpoch"] = after_epoch_ms
        body = await self._request("GET", "/history/devices", params=params)
        return [HistoryEvent(item.get("deviceId", device_id), item.get("capability"),
                             item.get("attribute"), item.get("value"), item.get("data") or {},
                             int(item.get("epoch", 0)), item.get("time", ""))
                for item in body.get("items", [])]

    # --- commands: accepted now, carried out later ---------------------------------------------

    async def send_commands(self, device_id: str, commands: list[dict[str, Any]]) -> list[str]:
        """Sends up to 10 commands; returns their ids once SmartThings has ACCEPTED them."""
        if not 1 <= len(commands) <= MAX_COMMANDS:
            raise ProviderError("provider_error",
                                f"SmartThings takes 1 to {MAX_COMMANDS} commands per request.")
        body = await self._request("POST", f"/v1/devices/{device_id}/commands",
                                   body={"commands": [{"component": "main", **c}
                                                      for c in commands]})
        results = (body or {}).get("results", [])
        refused = [r for r in results if r.get("status") not in ("ACCEPTED", "COMPLETED")]
        if refused:
            raise ProviderError("provider_error",
                                f"SmartThings did not accept the command ({refused[0].get('status')}).")
        return [r.get("id", "") for r in results]

    async def lock(self, device_id: str) -> str:
        return (await self.send_commands(device_id, [{"capability": "lock",
                                                      "command": "lock"}]))[0]

    async def unlock(self, device_id: str) -> str:
        return (await self.send_commands(device_id, [{"capability": "lock",
                                                      "command": "unlock"}]))[0]

    async def set_code(self, device_id: str, slot: int, pin: str, name: str) -> str:
        return (await self.send_commands(device_id, [{
            "capability": "lockCodes", "command": "setCode", "arguments": [slot, pin, name],
        }]))[0]

    async def delete_code(self, device_id: str, slot: int) -> str:
        return (await self.send_commands(device_id, [{
            "capability": "lockCodes", "command": "deleteCode", "arguments": [slot],
        }]))[0]

    @staticmethod
    def free_slot(status: LockStatus) -> int:
        """The lowest slot without a code, or no_space_for_access_code_on_device."""
        for slot in range(1, (status.max_codes or 0) + 1):
            if slot not in status.codes:
                return slot
        raise ProviderError("no_space_for_access_code_on_device",
                            "Every PIN slot on the lock is in use.")

    async def wait_for(self, device_id: str, done: Callable[[LockStatus], bool], *,
                       timeout: float, interval: float = 5.0) -> LockStatus:
        """Reads the status until `done(status)`; on timeout says why: the hub is offline
        (hub_disconnected), the lock is (device_offline), or it just did not answer.
        Mind the rate limit (12 reads a minute per device) when choosing `interval`."""
        deadline = self.clock.now() + timedelta(seconds=timeout)
        while True:
            status = await self.get_status(device_id)
            if done(status):
                return status
            if self.clock.now() + timedelta(seconds=interval) > deadline:
                raise await self._why_not_done(device_id)
            await self.sleep(interval)

    async def wait_for_lock(self, device_id: str, locked: bool, *, timeout: float,
                            interval: float = 5.0) -> LockStatus:
        return await self.wait_for(device_id, lambda s: s.locked is locked, timeout=timeout,
                                   interval=interval)

    async def wait_for_code(self, device_id: str, slot: int, before: LockStatus, *,
                            deleted: bool = False, timeout: float,
                            interval: float = 5.0) -> LockStatus:
        """Waits for the lock's answer to setCode / deleteCode on `slot`: a new codeChanged
        for the slot (compared with `before`, read before sending). "<slot> failed" raises
        failed_to_set_on_device."""
        def done(status: LockStatus) -> bool:
            changed = (status.code_changed, status.code_changed_at) != \
                (before.code_changed, before.code_changed_at)
            event = (status.code_changed or "").split(" ", 1)
            if not changed or event[0] != str(slot):
                return deleted and slot not in status.codes
            if len(event) > 1 and event[1] == "failed":
                raise ProviderError(CODE_FAILED, f"The lock refused the PIN for slot {slot}.")
            return (slot not in status.codes) if deleted else (slot in status.codes)

        return await self.wait_for(device_id, done, timeout=timeout, interval=interval)

    async def _why_not_done(self, device_id: str) -> ProviderError:
        device = await self.get_device(device_id)
        if device.hub_id and not (await self.get_health(device.hub_id)).online:
            return ProviderError("hub_disconnected", "The SmartThings hub is offline.",
                                 retryable=True)
        if not (await self.get_health(device_id)).online:
            return ProviderError("device_offline", "The lock is offline.", retryable=True)
        return ProviderError("device_communication_timeout",
                             "The lock did not confirm the command in time.", retryable=True)


def _lock_device(item: dict[str, Any]) -> LockDevice:
    network = str(item.get("type", ""))
    details = item.get(network.lower()) if network else None
    hub_id = (details or {}).get("hubId") if isinstance(details, dict) else None
    capabilities = [c.get("id", "") for comp in item.get("components", [])
                    if comp.get("id") == "main" for c in comp.get("capabilities", [])]
    return LockDevice(
        device_id=item["deviceId"],
        label=item.get("label") or item.get("name", ""),
        name=item.get("name", ""),
        location_id=item.get("locationId", ""),
        hub_id=hub_id or item.get("parentDeviceId"),
        network=network,
        manufacturer_code=item.get("deviceManufacturerCode"),
        capabilities=capabilities,
    )


def _value(main: dict[str, Any], capability: str, attribute: str) -> Any:
    return ((main.get(capability) or {}).get(attribute) or {}).get("value")


def _lock_status(device_id: str, body: dict[str, Any]) -> LockStatus:
    main = (body.get("components") or {}).get("main") or {}
    lock_attr = (main.get("lock") or {}).get("lock") or {}
    data = lock_attr.get("data") or {}
    raw_codes = _value(main, "lockCodes", "lockCodes")
    codes: dict[int, str] = {}
    if isinstance(raw_codes, str) and raw_codes:
        try:
            parsed = json.loads(raw_codes)
        except ValueError:
            parsed = {}
        codes = {int(k): str(v) for k, v in parsed.items() if str(k).isdigit()}
    changed = (main.get("lockCodes") or {}).get("codeChanged") or {}
    code_id = data.get("codeId")
    battery = _value(main, "battery", "battery")
    return LockStatus(
        device_id=device_id,
        lock=lock_attr.get("value"),
        lock_method=data.get("method"),
        lock_code_slot=int(code_id) if str(code_id or "").isdigit() else None,
        battery=int(battery) if isinstance(battery, (int, float)) else None,
        codes=codes,
        code_changed=changed.get("value"),
        code_changed_at=changed.get("timestamp"),
        max_codes=_value(main, "lockCodes", "maxCodes"),
        min_code_length=_value(main, "lockCodes", "minCodeLength"),
        max_code_length=_value(main, "lockCodes", "maxCodeLength"),
    )
