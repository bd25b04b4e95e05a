"""The igloohome cloud (iglooaccess API, formerly igloodeveloper) over httpx.

What the user needs: an igloohome account with the locks paired in the igloohome app, an
**iglooaccess** subscription on the same account (30-day trial, then USD 2 per active lock per
month) and an API key from its "API access" page: a client id and client secret, sent with the
OAuth2 client-credentials grant. No second factor. Remote lock/unlock and custom PINs need an
igloohome **Bridge** linked to the lock (one bridge serves up to 5 locks); offline **algoPINs**
need nothing but the cloud.

Hosts: `LOCKHUB_IGLOOHOME_AUTH_URL` (default https://auth.igloohome.co, token at
`/oauth2/token`) and `LOCKHUB_IGLOOHOME_API_URL` (default
https://api.igloodeveloper.co/igloohome).

How the API behaves, and what this client does about it:
- Tokens are JWTs that live ~24 h (`expires_in`); there is no refresh token, so the client signs
  in again shortly before expiry, and once more when the API answers 401.
- Scope: none is requested by default, so the token carries every permission the API key owns
  (requesting one it does not own refuses the whole sign-in). A call the key lacks permission
  for answers 403.
- Online operations are bridge **jobs**: creating one (`jobType` 1 lock, 2 unlock, 4 create PIN,
  5 delete PIN, 9 battery, 15 activity logs) only queues it; the job is polled at `/jobs/{id}`
  until `jobResponse.jobStatus` says done (0) or failed (2). A bridge runs one job at a time
  (about two a minute) and an unpolled job holds it until it expires.
- algoPINs are computed by the cloud (`/devices/{id}/algopin/{kind}`), answer at once, need
  dates on the hour with an explicit offset, and cannot be revoked remotely.
- No endpoint reports the bolt position or lists the PINs stored on a lock.
- Rate limits are not documented; the API gateway answers 429 when throttling, and a throttled
  request never reached igloohome, so it is retried (with Retry-After when sent). Reads are also
  retried after 5xx and network errors; job and algoPIN creation are not (a second attempt
  could queue a second job).

Secrets (client secret, tokens) never appear in logs or exception messages.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec

from lockhub.clock import Clock, SystemClock
from lockhub.providers.base import ProviderError

log = logging.getLogger("lockhub.providers.igloohome")

API_URL_ENV = "LOCKHUB_IGLOOHOME_API_URL"
AUTH_URL_ENV = "LOCKHUB_IGLOOHOME_AUTH_URL"
DEFAULT_API_URL = "https://api.igloodeveloper.co/igloohome"
DEFAULT_AUTH_URL = "https://auth.igloohome.co"

DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 0.5
MAX_RETRY_AFTER = 30.0
DEFAULT_JOB_POLL_INTERVAL = 3.0
DEFAULT_JOB_MAX_POLLS = 40  # ~2 min: a bridge is slow and may have other jobs queued
TOKEN_MARGIN = timedelta(minutes=5)  # sign in again this long before the token expires

JOB_LOCK, JOB_UNLOCK, JOB_CREATE_PIN, JOB_DELETE_PIN = 1, 2, 4, 5
JOB_BATTERY, JOB_ACTIVITY_LOGS = 9, 15
JOB_STATUS_DONE, JOB_STATUS_FAILED = 0, 2
# jobData.pinType of a custom PIN: 4 (a PIN with a start and an end) is seen in integrators'
# code; 1 for a PIN without end is unverified.
PIN_TYPE_PERMANENT, PIN_TYPE_DURATION = 1, 4
ALGOPIN_KINDS = ("hourly", "daily", "permanent", "onetime")
# How many different PINs igloohome derives for one window (picked by `variance`).
ALGOPIN_VARIANCES = {"hourly": 3, "daily": 3, "permanent": 3, "onetime": 5}

# --- igloohome's errors → Seam error types: the one mapping table ------------------------------
# (HTTP status or None for a failed job, pattern on igloohome's message, error type, retryable).
# First match wins. Job-failure wording is not public; the patterns are deliberately loose.
ERRORS: list[tuple[int | None, str, str, bool]] = [
    (400, r"^(invalid_client|unauthorized_client|invalid_grant)$", "invalid_credentials", False),
    (401, r"^(invalid_client|unauthorized_client)$", "invalid_credentials", False),
    (400, r"^invalid_scope$", "invalid_credentials", False),
    (401, r"", "account_disconnected", False),
    (403, r"Missing Authentication Token", "provider_error", False),
    (403, r"", "account_disconnected", False),  # the API key lacks a permission
    (404, r"", "device_not_found", False),
    (406, r"", "hub_disconnected", True),  # "Unable to contact bridge"
    (400, r"not linked to the bridge", "hub_disconnected", False),
    (422, r"limit of \d+ PINs", "no_space_for_access_code_on_device", False),
    (429, r"", "rate_limit_exceeded", True),
    (504, r"", "device_communication_timeout", True),
    (None, r"already exists|duplicate", "duplicate_code_on_device", False),
    (None, r"full|limit", "no_space_for_access_code_on_device", False),
    (None, r"range|unable to contact|offline|unreachable", "device_offline", True),
    (None, r"not found", "access_code_not_found", False),
]


def error_for(status: int | None, message: str) -> ProviderError:
    """The ProviderError for an igloohome answer (status None: a bridge job that failed)."""
    for code, pattern, error_type, retryable in ERRORS:
        if code == status and re.search(pattern, message, re.IGNORECASE):
            return ProviderError(error_type, _describe(status, message), retryable=retryable)
    retryable = status is not None and status >= 500
    return ProviderError("provider_error", _describe(status, message), retryable=retryable)


def _describe(status: int | None, message: str) -> str:
    said = f": {message}" if message else ""
    if status is None:
        return f"The igloohome bridge job failed{said}."
    return f"igloohome answered HTTP {status}{said}."


# --- what the API returns --------------------------------------------------------------------

class LinkedDevice(msgspec.Struct, frozen=True):
    type: str  # "Lock", "Bridge" or "Keypad"
    device_id: str


class Device(msgspec.Struct, frozen=True):
    """One entry of GET /devices: a lock, a bridge or a keypad accessory."""

    id: str
    type: str
    device_id: str  # the id every other call takes (e.g. "OE1X123cbb11")
    name: str
    paired_at: str | None = None
    home_ids: list[str] = []
    linked: list[LinkedDevice] = []
    battery_level: int | None = None  # last value the cloud heard (from the app or a bridge)
    last_sync: str | None = None  # when the cloud last heard from the device

    @property
    def bridge_id(self) -> str | None:
        """The bridge this lock is linked to; None without one (algoPINs only)."""
        return next((d.device_id for d in self.linked if d.type == "Bridge"), None)

    @property
    def keypad_id(self) -> str | None:
        return next((d.device_id for d in self.linked if d.type == "Keypad"), None)


class JobStatus(msgspec.Struct, frozen=True):
    job_id: str
    job_type: int | None
    completed: bool
    status: int | None  # jobResponse.jobStatus: 0 done, 2 failed, None while pending
    response: dict[str, Any]
    expires_at: str | None = None

    @property
    def failed(self) -> bool:
        return self.status is not None and self.status != JOB_STATUS_DONE

    @property
    def done(self) -> bool:
        return self.status == JOB_STATUS_DONE or (self.completed and self.status is None)


class AlgoPin(msgspec.Struct, frozen=True):
    """An offline PIN: valid on the lock by itself in its window; cannot be revoked remotely.
    Codes longer than a day must be entered once within 24 h of `starts_at`."""

    pin: str
    pin_id: str
    kind: str
    name: str
    starts_at: datetime
    ends_at: datetime | None
    variance: int


class ActivityLog(msgspec.Struct, frozen=True):
    """One activity-log entry a lock gave its bridge (`entryDate` in ms since the epoch)."""

    log_type: int
    occurred_at: datetime
    key_id: int | None = None
    operation_id: int | None = None
    extra: dict[str, Any] = {}


def _device(raw: Mapping[str, Any]) -> Device:
    return Device(id=str(raw.get("id", "")), type=str(raw.get("type", "")),
                  device_id=str(raw["deviceId"]), name=str(raw.get("deviceName") or ""),
                  paired_at=raw.get("pairedAt"), home_ids=list(raw.get("homeId") or []),
                  linked=[LinkedDevice(str(d.get("type")), str(d.get("deviceId")))
                          for d in raw.get("linkedDevices") or []],
                  battery_level=raw.get("batteryLevel"), last_sync=raw.get("lastSync"))


def _job(raw: Mapping[str, Any]) -> JobStatus:
    response = raw.get("jobResponse") or {}
    status = response.get("jobStatus") if isinstance(response, dict) else None
    job_type = raw.get("jobType")
    return JobStatus(job_id=str(raw["jobId"]),
                     job_type=int(job_type) if str(job_type).isdigit() else None,
                     completed=bool(raw.get("completed")),
                     status=int(status) if isinstance(status, int | str) and str(status).isdigit()
                     else None,
                     response=response if isinstance(response, dict) else {},
                     expires_at=raw.get("expiryDate"))


def _log(raw: Mapping[str, Any]) -> ActivityLog:
    known = ("logType", "entryDate", "keyId", "operationId")
    return ActivityLog(log_type=int(raw["logType"]),
                       occurred_at=datetime.fromtimestamp(int(raw["entryDate"]) / 1000, UTC),
                       key_id=raw.get("keyId"), operation_id=raw.get("operationId"),
                       extra={k: v for k, v in raw.items() if k not in known})


def log_entries(status: JobStatus) -> list[ActivityLog]:
    """The entries of a finished activity-log job (15)."""
    return [_log(raw) for raw in status.response.get("logs") or []]


def algopin_date(value: datetime) -> str:
    """igloohome's algoPIN date: on the hour, with the offset of the zone it is given in
    (`YYYY-MM-DDTHH:00:00+hh:mm`); the provider rounds and picks the lock's zone."""
    if value.tzinfo is None or value.minute or value.second or value.microsecond:
        raise ValueError(f"algoPIN dates must be on the hour and zone-aware, not {value!r}")
    return value.isoformat(timespec="seconds")


class IgloohomeClient:
    """One iglooaccess API key's view of the cloud. Use `async with` or call `aclose()`."""

    def __init__(self, client_id: str, client_secret: str, *, api_url: str | None = None,
                 auth_url: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF,
                 job_poll_interval: float = DEFAULT_JOB_POLL_INTERVAL,
                 job_max_polls: int = DEFAULT_JOB_MAX_POLLS, scope: str | None = None,
                 clock: Clock | None = None, http: httpx.AsyncClient | None = None) -> None:
        self.client_id = client_id
        self.__secret = client_secret
        self.api_url = (api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL).rstrip("/")
        self.auth_url = (auth_url or os.environ.get(AUTH_URL_ENV) or DEFAULT_AUTH_URL).rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.job_poll_interval = job_poll_interval
        self.job_max_polls = job_max_polls
        self.scope = scope
        self.clock = clock or SystemClock()
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http is None
        self.__token: str | None = None
        self._token_expires_at: datetime | None = None
        self._token_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"IgloohomeClient(client_id={self.client_id!r}, api_url={self.api_url!r})"

    async def __aenter__(self) -> IgloohomeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- sign-in ------------------------------------------------------------------------------

    async def sign_in(self) -> None:
        """Check the client id and secret by getting a token (invalid_credentials if refused)."""
        async with self._token_lock:
            await self._fetch_token(signing_in=True)

    async def _bearer(self) -> str:
        async with self._token_lock:
            expires_at = self._token_expires_at
            if self.__token is None or expires_at is None or self.clock.now() >= expires_at:
                await self._fetch_token(signing_in=False)
            assert self.__token is not None
            return self.__token

    def _forget_token(self, token: str) -> None:
        if self.__token == token:
            self.__token = None

    async def _fetch_token(self, *, signing_in: bool) -> None:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        response = await self._send("POST", f"{self.auth_url}/oauth2/token", retry=True,
                                    auth=(self.client_id, self.__secret), data=form)
        if response.status_code != 200:
            error = error_for(response.status_code, _message(response))
            if error.error_type == "invalid_credentials" and not signing_in:
                # The key worked before: it was deleted or its secret rotated.
                error = ProviderError("account_disconnected", "igloohome no longer accepts "
                                      f"this API key ({_message(response)}); sign in again.")
            raise error
        body = _json(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProviderError("provider_error", "igloohome's token answer had no access_token.")
        lifetime = timedelta(seconds=int(body.get("expires_in") or 3600))
        self.__token = token
        self._token_expires_at = self.clock.now() + lifetime - min(TOKEN_MARGIN, lifetime / 2)
        log.debug("igloohome token for %s, valid %s", self.client_id, lifetime)

    # --- transport ----------------------------------------------------------------------------

    async def _send(self, method: str, url: str, *, retry: bool, **kwargs: Any) -> httpx.Response:
        """One request with the retries igloohome allows: 429 always (the gateway refused it
        before igloohome saw it); 5xx, timeouts and network errors only when `retry`."""
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, url, timeout=self.timeout, **kwargs)
            except httpx.TimeoutException:
                if retry and attempt < self.retries:
                    attempt += 1
                    await self._pause(attempt, None)
                    continue
                raise ProviderError("device_communication_timeout",
                                    f"igloohome did not answer within {self.timeout:g} s.",
                                    retryable=True) from None
            except httpx.TransportError as error:
                if retry and attempt < self.retries:
                    attempt += 1
                    await self._pause(attempt, None)
                    continue
                raise ProviderError("provider_error", "Could not reach igloohome "
                                    f"({type(error).__name__}).", retryable=True) from None
            log.debug("igloohome %s %s -> %s", method, httpx.URL(url).path, response.status_code)
            transient = response.status_code == 429 or (retry and response.status_code >= 500)
            if transient and attempt < self.retries:
                attempt += 1
                await self._pause(attempt, response)
                continue
            return response

    async def _pause(self, attempt: int, response: httpx.Response | None) -> None:
        delay = self.backoff * 2 ** (attempt - 1)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after is not None:
            try:
                delay = min(float(retry_after), MAX_RETRY_AFTER)
            except ValueError:
                pass
        await asyncio.sleep(delay)

    async def _call(self, method: str, path: str, *, json: Any = None,
                    params: dict[str, str] | None = None) -> Any:
        """An API call with a bearer token; a 401 signs in again once and repeats the call."""
        for second_try in (False, True):
            token = await self._bearer()
            response = await self._send(
                method, f"{self.api_url}{path}", retry=method == "GET", json=json, params=params,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
            if response.status_code == 401 and not second_try:
                self._forget_token(token)
                continue
            if response.is_success:
                return _json(response)
            raise error_for(response.status_code, _message(response))
        raise AssertionError("unreachable")

    # --- devices ------------------------------------------------------------------------------

    async def list_devices(self) -> list[Device]:
        """Every lock, bridge and keypad of the account (all pages)."""
        devices: list[Device] = []
        cursor = ""
        while True:
            body = await self._call("GET", "/devices",
                                    params={"cursor": cursor} if cursor else None)
            devices.extend(_device(raw) for raw in body.get("payload") or [])
            cursor = body.get("nextCursor") or ""
            if not cursor:
                return devices

    async def get_device(self, device_id: str) -> Device:
        return _device(await self._call("GET", f"/devices/{device_id}"))

    # --- bridge jobs --------------------------------------------------------------------------

    async def submit_job(self, lock_id: str, bridge_id: str, job_type: int,
                         job_data: dict[str, Any] | None = None) -> str:
        """Queue a job on the bridge; returns its id (accepted, not done)."""
        body = await self._call("POST", f"/devices/{lock_id}/jobs/bridges/{bridge_id}",
                                json={"jobType": job_type, "jobData": job_data})
        return str(body["jobId"])

    async def job_status(self, job_id: str) -> JobStatus:
        return _job(await self._call("GET", f"/jobs/{job_id}"))

    async def wait_for_job(self, job_id: str) -> JobStatus:
        """Poll until the job is done; a failed job raises its mapped error, one still pending
        after `job_max_polls` raises device_communication_timeout (it may still run)."""
        for poll in range(self.job_max_polls):
            status = await self.job_status(job_id)
            if status.failed:
                raise error_for(None, str(status.response.get("message") or ""))
            if status.done:
                return status
            if poll + 1 < self.job_max_polls:
                await asyncio.sleep(self.job_poll_interval)
        raise ProviderError("device_communication_timeout",
                            f"The igloohome bridge has not finished job {job_id} yet; the lock "
                            "may still carry it out.", retryable=True)

    async def run_job(self, lock_id: str, bridge_id: str, job_type: int,
                      job_data: dict[str, Any] | None = None) -> JobStatus:
        return await self.wait_for_job(await self.submit_job(lock_id, bridge_id, job_type,
                                                             job_data))

    async def lock(self, lock_id: str, bridge_id: str) -> JobStatus:
        return await self.run_job(lock_id, bridge_id, JOB_LOCK)

    async def unlock(self, lock_id: str, bridge_id: str) -> JobStatus:
        return await self.run_job(lock_id, bridge_id, JOB_UNLOCK)

    async def create_pin(self, lock_id: str, bridge_id: str, pin: str, name: str, *,
                         starts_at: datetime | None = None,
                         ends_at: datetime | None = None) -> JobStatus:
        """Store a custom PIN on the lock through the bridge; with `starts_at`/`ends_at` the lock
        enforces the window itself."""
        data: dict[str, Any] = {"accessName": name, "pin": pin}
        if starts_at is not None and ends_at is not None:
            data.update(pinType=PIN_TYPE_DURATION,
                        startDate=starts_at.isoformat(timespec="seconds"),
                        endDate=ends_at.isoformat(timespec="seconds"))
        elif starts_at is None and ends_at is None:
            data["pinType"] = PIN_TYPE_PERMANENT
        else:
            raise ValueError("a custom PIN window needs both starts_at and ends_at")
        return await self.run_job(lock_id, bridge_id, JOB_CREATE_PIN, data)

    async def delete_pin(self, lock_id: str, bridge_id: str, pin: str) -> JobStatus:
        return await self.run_job(lock_id, bridge_id, JOB_DELETE_PIN, {"pin": pin})

    async def battery_level(self, lock_id: str, bridge_id: str) -> int | None:
        """Ask the lock itself (through the bridge) rather than the cloud's last value."""
        status = await self.run_job(lock_id, bridge_id, JOB_BATTERY)
        level = status.response.get("batteryLevel")
        return int(level) if isinstance(level, int | float) else None

    async def activity_logs(self, lock_id: str, bridge_id: str, *,
                            since: datetime | None = None) -> list[ActivityLog]:
        """The lock's activity log, read through the bridge; entries after `since` only."""
        status = await self.run_job(lock_id, bridge_id, JOB_ACTIVITY_LOGS)
        return [e for e in log_entries(status) if since is None or e.occurred_at > since]

    # --- algoPINs -----------------------------------------------------------------------------

    async def create_algopin(self, device_id: str, kind: str, *, starts_at: datetime,
                             ends_at: datetime | None = None, name: str,
                             variance: int = 1) -> AlgoPin:
        """An offline PIN from the cloud: hourly (1–672 h) or daily (29–367 days, same time of
        day) need `ends_at`; permanent and onetime (24 h, one use) take only `starts_at`."""
        if kind not in ALGOPIN_KINDS:
            raise ValueError(f"unknown algoPIN kind {kind!r}")
        if (ends_at is None) != (kind in ("permanent", "onetime")):
            raise ValueError(f"{kind} algoPINs {'take no' if ends_at else 'need an'} end date")
        body: dict[str, Any] = {"variance": variance, "startDate": algopin_date(starts_at),
                                "accessName": name}
        if ends_at is not None:
            body["endDate"] = algopin_date(ends_at)
        answer = await self._call("POST", f"/devices/{device_id}/algopin/{kind}", json=body)
        return AlgoPin(pin=str(answer["pin"]), pin_id=str(answer.get("pinId") or ""), kind=kind,
                       name=name, starts_at=starts_at, ends_at=ends_at, variance=variance)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ProviderError("provider_error", f"igloohome answered HTTP {response.status_code} "
                            "with something that is not JSON.", retryable=True) from None
    return body if isinstance(body, dict) else {}


def _message(response: httpx.Response) -> str:
    """igloohome's own words: API Gateway's `message` or Cognito's `error`."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    return str(body.get("message") or body.get("error") or "")[:200]
