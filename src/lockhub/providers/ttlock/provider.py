"""TTLock locks through the TTLock Open Platform (the cloud behind TTLock and its white-label
brands), with the user's own open-platform application.

A connected account is one TTLock app account signed in through one application: the
credentials kept (sealed) are the application's client id and secret, the username, the
password's MD5 (what TTLock's password grant takes; the clear password is never kept) and the
tokens. The account is named by TTLock's `uid`.

TTLock pushes records only to the one callback URL of the application, so the live connection
(`maintain`) polls: the lock list every `LOCKHUB_TTLOCK_POLL_SECONDS` (battery, gateway,
feature changes) and each lock's records since the last poll (keypad, manual and automatic
locking, remote commands by others). TTLock publishes no rate limit; an app over its quota gets
30006, so the default interval is a minute and the client backs off on 5xx and busy gateways.

Lock and unlock go through the lock's gateway; TTLock answers once the lock acted (errcode 0)
or with the reason it could not (-2012 no gateway, -4043 not supported...). Custom passcodes
(V4-passcode locks) are written through the gateway with their window, which the lock enforces
itself (native scheduling); their ref is TTLock's `keyboardPwdId`.

Offline codes are TTLock's generated ("random") passcodes (`keyboardPwd/get`, any lock with a
passcode version, no gateway): TTLock computes a PIN the lock accepts by itself, for a window
of whole hours in the lock's time zone; a permanent or period code must be entered once within
24 h of its start, a one-time code within 6 h. Their ref is the `keyboardPwdId` too, so a
keypad record names them like custom passcodes. TTLock can cancel one only through a gateway
(`keyboardPwd/delete`, deleteType 2); lockhub follows Seam and does not delete offline codes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from lockhub.providers import polling
from lockhub.providers.base import (
    AccountLogin,
    AccountRef,
    CodeOnDevice,
    CredentialsRefused,
    CredentialsReport,
    DeviceRef,
    DeviceSnapshot,
    LockOperationReport,
    OfflineCodeRequest,
    ProviderError,
    Report,
    ReportSink,
)
from lockhub.providers.ttlock import mapping
from lockhub.providers.ttlock.client import (
    DEFAULT_TIMEOUT_SECONDS,
    Lock,
    OfflineKind,
    Record,
    Tokens,
    TTLockClient,
    md5_password,
)

log = logging.getLogger("lockhub.providers.ttlock")

DEFAULT_POLL_SECONDS = 60.0
# Records are asked for from a little before the last poll (the lock's clock and the upload
# through the gateway lag); the ones already seen are skipped.
RECORD_OVERLAP = timedelta(minutes=5)
# A remote lock/unlock record this soon after lockhub's own command is that command's trace.
OWN_COMMAND_ECHO_SECONDS = 300.0
LOGIN_FIELDS = ("client_id", "client_secret", "username", "password")


def poll_seconds() -> float:
    return polling.poll_seconds("LOCKHUB_TTLOCK_POLL_SECONDS", DEFAULT_POLL_SECONDS)


def _tokens_of(credentials: dict[str, Any]) -> Tokens | None:
    if not credentials.get("access_token"):
        return None
    uid = credentials.get("uid")
    return Tokens(access_token=str(credentials["access_token"]),
                  refresh_token=str(credentials.get("refresh_token", "")),
                  expires_at=float(credentials.get("expires_at", 0)),
                  uid=int(uid) if uid is not None else None)


def _credentials(client_id: str, client_secret: str, username: str, password_md5: str,
                 tokens: Tokens) -> dict[str, Any]:
    return {"client_id": client_id, "client_secret": client_secret, "username": username,
            "password_md5": password_md5, "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token, "expires_at": tokens.expires_at,
            "uid": tokens.uid}


class _CommandClient(TTLockClient):
    """A client for one command, outside the live connection: a refused token is replaced by
    signing in again with the stored hash, never by the refresh token (TTLock rotates it; only
    the live connection refreshes, and reports the new one to be stored)."""

    def __init__(self, credentials: dict[str, Any], tokens: Tokens | None,
                 timeout: float) -> None:
        super().__init__(str(credentials.get("client_id", "")),
                         str(credentials.get("client_secret", "")), tokens=tokens,
                         timeout=timeout)
        self._username = str(credentials.get("username", ""))
        self._password_md5 = str(credentials.get("password_md5", ""))

    async def refresh(self) -> Tokens:
        try:
            return await self.sign_in(self._username, password_md5=self._password_md5)
        except ProviderError as exc:
            if exc.error_type == "invalid_credentials":
                raise CredentialsRefused(exc.message) from exc
            raise


class TTLockProvider:
    name = "ttlock_cloud"
    sandbox = False

    def __init__(self, command_timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.command_timeout = command_timeout
        self.live: set[str] = set()
        self._tokens: dict[str, Tokens] = {}  # the newest tokens of each account, this process
        self._own: dict[str, list[tuple[bool, float]]] = {}  # lockhub's own remote commands
        self._locked: dict[str, bool] = {}  # the last known bolt of each lock
        # Records already reported (by a poll or a callback push), with when they were seen.
        self._reported: dict[tuple[Any, ...], float] = {}

    def account_types(self) -> list[str]:
        return ["ttlock"]

    def holds(self, connected_account_id: str) -> bool:
        return connected_account_id in self.live

    # --- signing in and importing --------------------------------------------------------

    async def login(self, workspace_id: str, account_type: str,
                    form: dict[str, Any]) -> AccountLogin:
        """The password grant with the MD5 of the password; TTLock's `uid` names the account."""
        given = {name: str(form.get(name) or "").strip() for name in LOGIN_FIELDS}
        given["password"] = str(form.get("password") or "")
        missing = [name for name in LOGIN_FIELDS if not given[name]]
        if missing:
            raise ProviderError("invalid_credentials",
                                f"Fill in {', '.join(missing)} to sign in to TTLock.")
        password_md5 = md5_password(given["password"])
        try:
            async with TTLockClient(given["client_id"], given["client_secret"],
                                    timeout=self.command_timeout) as client:
                tokens = await client.sign_in(given["username"], password_md5=password_md5)
        except ProviderError as exc:
            if exc.error_type == "invalid_credentials":
                raise
            # TTLock unreachable or refusing for another reason: the user may try again.
            raise ProviderError(exc.error_type, exc.message, retryable=True) from exc
        if tokens.uid is None:
            raise ProviderError("provider_error", "TTLock's sign-in answer named no account.",
                                retryable=True)
        return AccountLogin(account_login=f"ttlock:{tokens.uid}",
                            user_identifier={"username": given["username"]},
                            credentials=_credentials(given["client_id"], given["client_secret"],
                                                     given["username"], password_md5, tokens))

    async def import_devices(self, account: AccountRef) -> list[DeviceSnapshot]:
        async with self._client(account.connected_account_id, account.credentials) as client:
            return [self._snapshot(lock) for lock in await client.list_locks()]

    def _snapshot(self, lock: Lock) -> DeviceSnapshot:
        return mapping.snapshot(lock, locked=self._locked.get(
            mapping.provider_device_id(lock.lock_id)))

    @contextlib.asynccontextmanager
    async def _client(self, account_id: str,
                      credentials: dict[str, Any]) -> AsyncIterator[TTLockClient]:
        stored = _tokens_of(credentials)
        newest = self._tokens.get(account_id)
        tokens = newest if newest is not None and (
            stored is None or newest.expires_at >= stored.expires_at) else stored
        async with _CommandClient(credentials, tokens, self.command_timeout) as client:
            try:
                yield client
            finally:
                if client.tokens is not None:
                    self._tokens[account_id] = client.tokens

    # --- the live connection ---------------------------------------------------------------

    async def maintain(self, account: AccountRef, sink: ReportSink) -> None:
        """Poll the lock list and the records until cancelled; raise when TTLock is
        unreachable (ProviderError) or refuses the tokens (CredentialsRefused)."""
        credentials = dict(account.credentials)
        account_id = account.connected_account_id

        async def keep(tokens: Tokens) -> None:
            self._tokens[account_id] = tokens
            credentials.update(access_token=tokens.access_token,
                               refresh_token=tokens.refresh_token,
                               expires_at=tokens.expires_at, uid=tokens.uid)
            await sink(CredentialsReport(credentials=dict(credentials)))

        client = TTLockClient(str(credentials.get("client_id", "")),
                              str(credentials.get("client_secret", "")),
                              tokens=self._tokens.get(account_id) or _tokens_of(credentials),
                              timeout=self.command_timeout, on_tokens=keep)
        reported = polling.ReportedDevices()
        since = datetime.now(UTC) - RECORD_OVERLAP

        async def connected(locks: list[Lock]) -> None:
            await self._initial_states(client, locks)
            self.live.add(account_id)

        async def records(locks: list[Lock]) -> list[Report]:
            nonlocal since
            polled_at = datetime.now(UTC)
            reports = [report for lock in locks
                       for report in await self._records(client, account_id, lock.lock_id, since)]
            since = polled_at - RECORD_OVERLAP
            return reports

        try:
            await polling.poll_account(
                sink, interval=poll_seconds(), listing=client.list_locks,
                changes=lambda locks: reported.changes([self._snapshot(x) for x in locks]),
                events=records, on_connect=connected)
        finally:
            self.live.discard(account_id)
            await client.aclose()

    async def _initial_states(self, client: TTLockClient, locks: list[Lock]) -> None:
        """The bolt of each lock a gateway reaches, once per connection (a gateway command:
        afterwards the records say how it moved)."""
        for lock in locks:
            pdid = mapping.provider_device_id(lock.lock_id)
            if pdid in self._locked or not (lock.gateway_connected or lock.is_wifi):
                continue
            try:
                state = await client.is_locked(lock.lock_id)
            except ProviderError as exc:
                if exc.error_type == "account_disconnected":
                    raise CredentialsRefused(exc.message) from exc
                continue
            if state is not None:
                # A command or record that landed while the gateway answered is newer.
                self._locked.setdefault(pdid, state)

    async def _records(self, client: TTLockClient, account_id: str, lock_id: int,
                       since: datetime) -> list[Report]:
        records = [r for r in await client.list_records(lock_id, since=since)
                   if not self._was_reported(account_id, r)]
        if not records:
            return []
        records.sort(key=lambda r: (r.lock_date or r.server_date, r.server_date))
        code_refs: dict[str, str] = {}
        if any(r.record_type == mapping.PASSCODE_UNLOCK for r in records):
            passcodes = await client.list_passcodes(lock_id)
            code_refs = {p.keyboard_pwd: str(p.keyboard_pwd_id) for p in passcodes}
        return [report for record in records
                if (report := self.record_report(account_id, record, code_refs)) is not None]

    def _was_reported(self, account_id: str, record: Record) -> bool:
        now = time.monotonic()
        if len(self._reported) > 10_000:
            self._reported = {k: at for k, at in self._reported.items()
                              if now - at < 2 * RECORD_OVERLAP.total_seconds()}
        return (account_id, *mapping.record_key(record)) in self._reported

    def record_report(self, account_id: str, record: Record,
                      code_refs: dict[str, str]) -> Report | None:
        """A record as a report, once (a poll and a callback push may both bring it), unless
        it is the trace of lockhub's own remote command."""
        key = (account_id, *mapping.record_key(record))
        if key in self._reported:
            return None
        self._reported[key] = time.monotonic()
        report = mapping.record_report(record, code_refs)
        if isinstance(report, LockOperationReport):
            if record.record_type in mapping.REMOTE_RECORDS and self._own_echo(
                    report.provider_device_id, report.locked):
                return None
            self._locked[report.provider_device_id] = report.locked
        return report

    def _own_echo(self, pdid: str, locked: bool) -> bool:
        now = time.monotonic()
        own = [(lk, at) for lk, at in self._own.get(pdid, [])
               if now - at < OWN_COMMAND_ECHO_SECONDS]
        match = next((entry for entry in own if entry[0] == locked), None)
        if match is not None:
            own.remove(match)
        self._own[pdid] = own
        return match is not None

    # --- commands ------------------------------------------------------------------------

    async def read_state(self, device: DeviceRef) -> DeviceSnapshot:
        lock_id = mapping.lock_id_of(device.provider_device_id)
        async with self._client(device.connected_account_id, device.credentials) as client:
            lock = await self._lock(client, lock_id)
            return self._snapshot(lock)

    async def _lock(self, client: TTLockClient, lock_id: int) -> Lock:
        try:
            return await client.get_lock(lock_id)
        except ProviderError as exc:
            if exc.error_type == "device_removed":
                raise ProviderError("device_removed",
                                    "The lock is no longer in this TTLock account.") from exc
            raise

    async def lock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=True)

    async def unlock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=False)

    async def _move(self, device: DeviceRef, *, locked: bool) -> DeviceSnapshot:
        """Through the gateway; TTLock answers errcode 0 once the lock has acted."""
        pdid = device.provider_device_id
        lock_id = mapping.lock_id_of(pdid)
        async with self._client(device.connected_account_id, device.credentials) as client:
            self._own.setdefault(pdid, []).append((locked, time.monotonic()))
            try:
                await (client.lock(lock_id) if locked else client.unlock(lock_id))
            except ProviderError:
                self._own[pdid].pop()
                raise
            self._locked[pdid] = locked
            return self._snapshot(await self._lock(client, lock_id))

    # --- PINs ----------------------------------------------------------------------------

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        lock_id = mapping.lock_id_of(device.provider_device_id)
        async with self._client(device.connected_account_id, device.credentials) as client:
            passcodes = await client.list_passcodes(lock_id)
        return [c for c in map(mapping.code_on_device, passcodes) if c is not None]

    async def set_code(self, device: DeviceRef, code: CodeOnDevice,
                       replacing: CodeOnDevice | None = None) -> CodeOnDevice:
        """A custom passcode through the gateway, with its window when it has one. TTLock
        cannot edit the digits in place here: a changed code is deleted, then added anew."""
        lock_id = mapping.lock_id_of(device.provider_device_id)
        async with self._client(device.connected_account_id, device.credentials) as client:
            if code.ref is not None:
                await client.delete_passcode(lock_id, _passcode_id(code.ref))
            passcode_id = await client.add_passcode(
                lock_id, code.code, name=code.name or "", starts_at=code.starts_at,
                ends_at=code.ends_at if code.starts_at is not None else None)
        return CodeOnDevice(code=code.code, name=code.name, ref=str(passcode_id),
                            starts_at=code.starts_at, ends_at=code.ends_at)

    async def remove_code(self, device: DeviceRef, code: CodeOnDevice) -> None:
        """TTLock answers success even for ids it never had: the list says whether it is gone."""
        lock_id = mapping.lock_id_of(device.provider_device_id)
        passcode_id = _passcode_id(code.ref)
        async with self._client(device.connected_account_id, device.credentials) as client:
            await client.delete_passcode(lock_id, passcode_id)
            left = await client.list_passcodes(lock_id)
        if any(p.keyboard_pwd_id == passcode_id and p.status == 1 for p in left):
            raise ProviderError("failed_to_remove_from_device",
                                "TTLock still lists the passcode.", retryable=True)

    async def create_offline_code(self, device: DeviceRef,
                                  request: OfflineCodeRequest) -> CodeOnDevice:
        """A generated passcode (keyboardPwd/get): one-time, permanent (no end) or period,
        for the lock's passcode version and time zone (lock/detail)."""
        lock_id = mapping.lock_id_of(device.provider_device_id)
        kind = OfflineKind.ONE_TIME if request.one_time_use else (
            OfflineKind.PERMANENT if request.ends_at is None else OfflineKind.PERIOD)
        async with self._client(device.connected_account_id, device.credentials) as client:
            lock = await self._lock(client, lock_id)
            if not lock.supports_generated_passcodes:
                raise ProviderError("access_codes_not_supported",
                                    "This lock has no keypad passcodes TTLock can generate.")
            try:
                issued = await client.get_offline_passcode(
                    lock_id, kind, starts_at=request.starts_at,
                    ends_at=request.ends_at if kind == OfflineKind.PERIOD else None,
                    name=request.name or "", keyboard_pwd_version=lock.keyboard_pwd_version,
                    tz_offset_ms=lock.timezone_raw_offset)
            except ValueError:
                offset = timedelta(milliseconds=lock.timezone_raw_offset)
                raise ProviderError(
                    "code_constraints_violated",
                    f"TTLock generates codes for whole hours of the lock's time zone (UTC "
                    f"offset {offset}); this window does not start and end on one.") from None
        return CodeOnDevice(code=issued.keyboard_pwd, name=request.name,
                            ref=str(issued.keyboard_pwd_id), starts_at=request.starts_at,
                            ends_at=request.ends_at)


def _passcode_id(ref: str | None) -> int:
    if ref is None or not (ref.isascii() and ref.isdigit()):
        raise ProviderError("invalid_code_reference", f"{ref!r} is not a TTLock passcode id.")
    return int(ref)
