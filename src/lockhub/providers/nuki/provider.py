"""Nuki locks through the Nuki Web API (api.nuki.io), with the user's own API token.

A connected account is one Nuki Web account: the credential kept (sealed) is its API token,
which does not expire (Nuki destroys it when the account's password changes, which shows as a
refused token). The account is named by Nuki's `accountId`.

Nuki's webhooks need its "Advanced API" (granted on application), so the live connection
(`maintain`) polls: the lock list every `LOCKHUB_NUKI_POLL_SECONDS` (state, battery, door,
serverState) and each lock's log since the last poll (keypad, manual, automatic and app
operations). Nuki publishes no rate limit, only abuse protection; the default is 30 s.

Nuki answers 204 to every change before the lock has applied it ("usually in some seconds"),
so lock/unlock succeed only once `GET /smartlock/{id}` shows the new state, and a keypad code is
set only once it appears in the lock's code list (found by name and digits: Nuki's create has no
id). Codes carry their window to Nuki (allowedFromDate/allowedUntilDate: native scheduling);
their ref is Nuki's auth id, which keypad log entries name.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from lockhub.providers import polling
from lockhub.providers.base import (
    AccountLogin,
    AccountRef,
    CodeOnDevice,
    ConnectionReport,
    CredentialsRefused,
    DeviceListReport,
    DeviceRef,
    DeviceSnapshot,
    LockOperationReport,
    ProviderError,
    Report,
    ReportSink,
)
from lockhub.providers.nuki import mapping
from lockhub.providers.nuki.client import NukiClient, Smartlock

log = logging.getLogger("lockhub.providers.nuki")

DEFAULT_POLL_SECONDS = 30.0
DEFAULT_COMMAND_TIMEOUT = 20.0
# The log is asked for from a little before the last poll (entries reach Nuki's servers late
# through a bridge); entries already seen are skipped.
LOG_OVERLAP = timedelta(minutes=2)
# A web-triggered log entry this soon after lockhub's own command is that command's trace.
OWN_COMMAND_ECHO_SECONDS = 300.0
UNNAMED_CODE = "lockhub"  # Nuki requires a name; the digits never go into it


def poll_seconds() -> float:
    return polling.poll_seconds("LOCKHUB_NUKI_POLL_SECONDS", DEFAULT_POLL_SECONDS)


def _check_interval() -> float:
    """How often a pending change is read back (at most once a second)."""
    return min(1.0, poll_seconds())


def _refused_is_final(exc: ProviderError) -> ProviderError:
    if exc.error_type == "account_disconnected":
        return CredentialsRefused(exc.message)
    return exc


class NukiProvider:
    name = "nuki_cloud"
    sandbox = False

    def __init__(self, command_timeout: float = DEFAULT_COMMAND_TIMEOUT) -> None:
        self.command_timeout = command_timeout
        self.live: set[str] = set()
        self._own: dict[str, list[tuple[bool, float]]] = {}  # lockhub's own remote commands
        self._seen_logs: dict[str, dict[str, datetime]] = {}  # log entries reported, per account
        self._log_since: dict[str, datetime] = {}

    def account_types(self) -> list[str]:
        return ["nuki"]

    def holds(self, connected_account_id: str) -> bool:
        return connected_account_id in self.live

    def _client(self, credentials: dict[str, Any]) -> NukiClient:
        return NukiClient(str(credentials.get("api_token", "")), timeout=self.command_timeout)

    # --- signing in and importing --------------------------------------------------------

    async def login(self, workspace_id: str, account_type: str,
                    form: dict[str, Any]) -> AccountLogin:
        """Check the token with `GET /account`; Nuki's `accountId` names the account."""
        token = str(form.get("api_token") or "").strip()
        if not token:
            raise ProviderError("invalid_credentials", "Paste your Nuki Web API token.")
        try:
            async with NukiClient(token, timeout=self.command_timeout) as client:
                account = await client.sign_in()
        except ProviderError as exc:
            if exc.error_type == "invalid_credentials":
                raise
            raise ProviderError(exc.error_type, exc.message, retryable=True) from exc
        return AccountLogin(account_login=f"nuki:{account.account_id}",
                            user_identifier={"email": account.email},
                            credentials={"api_token": token})

    async def import_devices(self, account: AccountRef) -> list[DeviceSnapshot]:
        async with self._client(account.credentials) as client:
            return [mapping.snapshot(lock) for lock in await client.list_smartlocks()]

    # --- the live connection ---------------------------------------------------------------

    async def maintain(self, account: AccountRef, sink: ReportSink) -> None:
        """Poll the lock list and the logs until cancelled; raise when Nuki is unreachable
        (ProviderError) or refuses the token (CredentialsRefused). Tokens do not expire, so
        there is nothing to refresh."""
        account_id = account.connected_account_id
        client = self._client(account.credentials)
        interval = poll_seconds()
        seen = self._seen_logs.setdefault(account_id, {})
        # Entries from before the account's first connection are history, not events.
        since = self._log_since.setdefault(account_id, datetime.now(UTC))
        try:
            locks = await self._call(client.list_smartlocks())
            self.live.add(account_id)
            await sink(ConnectionReport(connected=True))
            listed = [mapping.snapshot(lock) for lock in locks]
            reported = {s.provider_device_id: s for s in listed}
            await sink(DeviceListReport(devices=listed))
            first = True
            while True:
                if not first:
                    await asyncio.sleep(interval)
                    locks = await self._call(client.list_smartlocks())
                    for report in self._changes(locks, reported):
                        await sink(report)
                first = False
                polled_at = datetime.now(UTC)
                for lock in locks:
                    for report in await self._logs(client, lock.smartlock_id, since, seen):
                        await sink(report)
                since = polled_at - LOG_OVERLAP
                self._log_since[account_id] = since
                for entry_id in [i for i, at in seen.items() if at < since]:
                    del seen[entry_id]
        finally:
            self.live.discard(account_id)
            await client.aclose()

    async def _call(self, call: Any) -> Any:
        try:
            return await call
        except ProviderError as exc:
            raise _refused_is_final(exc) from exc

    def _changes(self, locks: list[Smartlock],
                 reported: dict[str, DeviceSnapshot]) -> list[Report]:
        return polling.snapshot_changes([mapping.snapshot(lock) for lock in locks], reported)

    async def _logs(self, client: NukiClient, smartlock_id: int, since: datetime,
                    seen: dict[str, datetime]) -> list[Report]:
        entries = [e for e in await self._call(client.list_log(smartlock_id, since=since))
                   if e.id not in seen]
        reports: list[Report] = []
        for entry in sorted(entries, key=lambda e: e.date):
            seen[entry.id] = entry.date
            report = mapping.log_report(entry)
            if isinstance(report, LockOperationReport) and report.method == "remote" and \
                    self._own_echo(report.provider_device_id, report.locked):
                continue
            if report is not None:
                reports.append(report)
        return reports

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
        async with self._client(device.credentials) as client:
            return mapping.snapshot(await self._call(
                client.get_smartlock(mapping.smartlock_id_of(device.provider_device_id))))

    async def lock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=True)

    async def unlock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=False)

    async def _move(self, device: DeviceRef, *, locked: bool) -> DeviceSnapshot:
        """Send the action, then read the lock back until it shows the new state."""
        pdid = device.provider_device_id
        smartlock_id = mapping.smartlock_id_of(pdid)
        async with self._client(device.credentials) as client:
            _reachable(await self._call(client.get_smartlock(smartlock_id)))
            self._own.setdefault(pdid, []).append((locked, time.monotonic()))
            await self._call(client.lock(smartlock_id) if locked else client.unlock(smartlock_id))
            deadline = time.monotonic() + self.command_timeout
            while True:
                lock = await self._call(client.get_smartlock(smartlock_id))
                if lock.jammed:
                    raise ProviderError("lock_jammed", "The Nuki lock's motor is blocked.")
                if lock.locked is locked:
                    return mapping.snapshot(lock)
                if time.monotonic() >= deadline:
                    _reachable(lock)
                    raise ProviderError("device_communication_timeout",
                                        "Nuki accepted the command but the lock did not "
                                        "report the new state in time.")
                await asyncio.sleep(_check_interval())

    # --- PINs ----------------------------------------------------------------------------

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        smartlock_id = mapping.smartlock_id_of(device.provider_device_id)
        async with self._client(device.credentials) as client:
            codes = await self._call(client.list_keypad_codes(smartlock_id))
        return [mapping.code_on_device(c) for c in codes]

    async def set_code(self, device: DeviceRef, code: CodeOnDevice,
                       replacing: CodeOnDevice | None = None) -> CodeOnDevice:
        """Create (or update) the keypad code, then wait until the lock has applied it; a
        retry after a timeout finds the code created by the earlier attempt."""
        smartlock_id = mapping.smartlock_id_of(device.provider_device_id)
        name = code.name or UNNAMED_CODE
        window = {"allowed_from": code.starts_at, "allowed_until": code.ends_at}
        async with self._client(device.credentials) as client:
            if code.ref is None:
                found = await self._call(client.find_keypad_code(smartlock_id, name=name,
                                                                 code=code.code))
                if found is None:
                    try:
                        await self._call(client.create_keypad_code(
                            smartlock_id, name=name, code=code.code, **window))
                    except ProviderError as exc:
                        # still pending from an earlier attempt, or another code's digits
                        if exc.error_type != "duplicate_code_on_device":
                            raise
                        found = await self._applied(client, smartlock_id, name, code, None)
                        if found is None:
                            raise
                    found = found or await self._applied(client, smartlock_id, name, code, None)
            else:
                await self._call(client.update_keypad_code(
                    smartlock_id, code.ref, name=name, code=code.code, **window))
                found = await self._applied(client, smartlock_id, name, code, code.ref)
        if found is None:
            raise ProviderError("provider_timeout",
                                "Nuki accepted the code but the lock has not applied it yet.",
                                retryable=True)
        # what lockhub asked for, under Nuki's id (the engine compares it with what it wants)
        return CodeOnDevice(code=code.code, name=code.name, ref=found.id,
                            starts_at=code.starts_at, ends_at=code.ends_at)

    async def _applied(self, client: NukiClient, smartlock_id: int, name: str,
                       code: CodeOnDevice, ref: str | None) -> Any:
        deadline = time.monotonic() + self.command_timeout
        while True:
            for item in await self._call(client.list_keypad_codes(smartlock_id)):
                if (item.id == ref or ref is None) and item.name == name and \
                        item.code == code.code and item.allowed_from == _ms(code.starts_at) \
                        and item.allowed_until == _ms(code.ends_at):
                    return item
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(_check_interval())

    async def remove_code(self, device: DeviceRef, code: CodeOnDevice) -> None:
        """Delete, then wait until the lock's list no longer has it."""
        ref = code.ref
        if ref is None:
            return  # never placed
        smartlock_id = mapping.smartlock_id_of(device.provider_device_id)
        async with self._client(device.credentials) as client:
            if not await self._call(client.delete_keypad_code(smartlock_id, ref)):
                return
            deadline = time.monotonic() + self.command_timeout
            while any(c.id == ref for c in await self._call(
                    client.list_keypad_codes(smartlock_id))):
                if time.monotonic() >= deadline:
                    raise ProviderError("provider_timeout", "Nuki accepted the removal but the "
                                        "lock has not applied it yet.", retryable=True)
                await asyncio.sleep(_check_interval())


def _ms(value: datetime | None) -> datetime | None:
    """A time as Nuki keeps it (milliseconds)."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000) if value else None


def _reachable(lock: Smartlock) -> None:
    """Nuki keeps commands for an unreachable lock until its daily sync: fail at once."""
    if lock.online:
        return
    if mapping.needs_bridge(lock):
        raise ProviderError("hub_disconnected", "The lock's Nuki Bridge is offline.")
    raise ProviderError("device_offline", "Nuki's servers cannot reach the lock.")
