"""Nuki locks through the Nuki Web API (api.nuki.io), with the user's own API token.

A connected account is one Nuki Web account: the credential kept (sealed) is its API token,
which does not expire (Nuki destroys it when the account's password changes, which shows as a
refused token). The account is named by Nuki's `accountId`.

The live connection (`maintain`) polls: the lock list (state, battery, door, serverState) and
each lock's log since the last poll (keypad, manual, automatic and app operations), every
`LOCKHUB_NUKI_POLL_SECONDS` (Nuki publishes no rate limit, only abuse protection; the default
is 30 s). Where the account has Nuki's "Advanced API" (granted on application; Nuki answers 403
without it) and lockhub has a public URL, it also registers a decentral webhook
(`webhooks.py`): Nuki then posts state changes, log entries and keypad-code changes as they
happen (`webhook_reports`), and the poll slows to `LOCKHUB_NUKI_WEBHOOK_POLL_SECONDS` (15 min),
a safety net for lost deliveries. Its secret is kept sealed with the token; the webhook is
reused across reconnects, and deleted at Nuki when the account is removed (`forget`).

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

from lockhub.config import Settings
from lockhub.providers import polling
from lockhub.providers.base import (
    AccountLogin,
    AccountRef,
    CodeOnDevice,
    CodesChangedReport,
    CredentialsRefused,
    CredentialsReport,
    DeviceRef,
    DeviceSnapshot,
    LockOperationReport,
    ProviderError,
    Report,
    ReportSink,
)
from lockhub.providers.nuki import mapping, webhooks
from lockhub.providers.nuki.client import LogEntry, NukiClient, Smartlock

log = logging.getLogger("lockhub.providers.nuki")

DEFAULT_POLL_SECONDS = 30.0
DEFAULT_WEBHOOK_POLL_SECONDS = 900.0
DEFAULT_COMMAND_TIMEOUT = 20.0
# The log is asked for from a little before the last poll (entries reach Nuki's servers late
# through a bridge); entries already seen are skipped.
LOG_OVERLAP = timedelta(minutes=2)
# A web-triggered log entry this soon after lockhub's own command is that command's trace.
OWN_COMMAND_ECHO_SECONDS = 300.0
UNNAMED_CODE = "lockhub"  # Nuki requires a name; the digits never go into it


def poll_seconds() -> float:
    return polling.poll_seconds("LOCKHUB_NUKI_POLL_SECONDS", DEFAULT_POLL_SECONDS)


def webhook_poll_seconds() -> float:
    """The safety poll while Nuki's webhook delivers changes."""
    return polling.poll_seconds("LOCKHUB_NUKI_WEBHOOK_POLL_SECONDS", DEFAULT_WEBHOOK_POLL_SECONDS)


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

    def __init__(self, command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
                 settings: Settings | None = None) -> None:
        self.command_timeout = command_timeout
        self.settings = settings  # its public URL is where Nuki's webhooks reach lockhub
        self.live: set[str] = set()
        self._reported: dict[str, polling.ReportedDevices] = {}  # per account, while live
        self._locks: dict[str, Smartlock] = {}  # each lock as last listed
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
        """Register the webhook where Nuki and lockhub allow it, then poll the lock list and
        the logs until cancelled; raise when Nuki is unreachable (ProviderError) or refuses the
        token (CredentialsRefused). Tokens do not expire, so there is nothing to refresh."""
        account_id = account.connected_account_id
        client = self._client(account.credentials)
        reported = self._reported[account_id] = polling.ReportedDevices()
        seen = self._seen_logs.setdefault(account_id, {})
        # Entries from before the account's first connection are history, not events.
        self._log_since.setdefault(account_id, datetime.now(UTC))

        def changes(locks: list[Smartlock]) -> list[Report]:
            self._locks.update({mapping.provider_device_id(x.smartlock_id): x for x in locks})
            return reported.changes([mapping.snapshot(x) for x in locks])

        async def connected(locks: list[Smartlock]) -> None:
            self.live.add(account_id)

        async def logs(locks: list[Smartlock]) -> list[Report]:
            since = self._log_since[account_id]
            polled_at = datetime.now(UTC)
            reports = [report for lock in locks
                       for report in await self._logs(client, account_id, lock.smartlock_id,
                                                      since)]
            since = self._log_since[account_id] = polled_at - LOG_OVERLAP
            for entry_id in [i for i, at in seen.items() if at < since]:
                del seen[entry_id]
            return reports

        try:
            hooked = await self._register_webhook(client, account, sink)
            await polling.poll_account(
                sink, interval=webhook_poll_seconds() if hooked else poll_seconds(),
                listing=client.list_smartlocks, changes=changes, events=logs,
                on_connect=connected)
        finally:
            self.live.discard(account_id)
            if self._reported.get(account_id) is reported:
                del self._reported[account_id]
            await client.aclose()

    # --- the webhook -----------------------------------------------------------------------

    async def _register_webhook(self, client: NukiClient, account: AccountRef,
                                sink: ReportSink) -> bool:
        """Keep exactly one webhook of this account at Nuki: the stored one if Nuki still has
        it, else a new one (its secret stored sealed); lockhub's other webhooks of the account
        (secret lost) are deleted. False where webhooks cannot be had: then lockhub polls."""
        account_id = account.connected_account_id
        url = webhooks.callback_url(self.settings, account_id) if self.settings else None
        if url is None:
            return False
        key = url.rsplit("/", 1)[1]
        stored = account.credentials.get("webhook") or {}
        try:
            hooks = await self._call(client.list_webhooks())
            kept = None
            for hook in hooks:
                if not webhooks.is_ours(hook.url, key):
                    continue
                if kept is None and hook.id == stored.get("id") and hook.url == url and \
                        set(webhooks.FEATURES) <= set(hook.features):
                    kept = hook
                else:
                    await self._call(client.delete_webhook(hook.id))
            if kept is None:
                created = await self._call(client.create_webhook(url, webhooks.FEATURES))
                credentials = {k: v for k, v in account.credentials.items()
                               if k != "account_login"}
                credentials["webhook"] = {"id": created.id, "secret": created.secret}
                await sink(CredentialsReport(credentials=credentials))
        except CredentialsRefused:
            raise
        except ProviderError as exc:
            log.info("no Nuki webhook for %s (%s); polling", account_id, exc.message)
            return False
        return True

    def webhook_reports(self, account_id: str, payload: dict[str, Any]) -> list[Report]:
        """A verified delivery as the reports the poll would have made of the same change."""
        feature = payload.get("feature")
        if feature == "DEVICE_LOGS" and isinstance(payload.get("smartlockLog"), dict):
            report = self._entry_report(account_id, LogEntry.from_json(payload["smartlockLog"]))
            return [report] if report is not None else []
        if "smartlockId" not in payload:
            return []
        pdid = mapping.provider_device_id(int(payload["smartlockId"]))
        if feature == "DEVICE_AUTHS":
            return [CodesChangedReport(provider_device_id=pdid)]
        listed, reported = self._locks.get(pdid), self._reported.get(account_id)
        if feature != "DEVICE_STATUS" or listed is None or reported is None:
            return []  # a status is applied by the process that has listed the lock
        lock = Smartlock.from_json({
            **listed.raw, "state": {**(listed.raw.get("state") or {}),
                                    **(payload.get("state") or {})},
            "serverState": payload.get("serverState", listed.server_state)})
        self._locks[pdid] = lock
        return reported.state(mapping.snapshot(lock))

    async def forget(self, account: AccountRef) -> None:
        """The account is removed from lockhub: delete its webhook at Nuki."""
        if self.settings is None:
            return
        key = webhooks.callback_key(self.settings, account.connected_account_id)
        async with self._client(account.credentials) as client:
            for hook in await client.list_webhooks():
                if webhooks.is_ours(hook.url, key):
                    await client.delete_webhook(hook.id)

    async def _call(self, call: Any) -> Any:
        try:
            return await call
        except ProviderError as exc:
            raise _refused_is_final(exc) from exc

    async def _logs(self, client: NukiClient, account_id: str, smartlock_id: int,
                    since: datetime) -> list[Report]:
        entries = await client.list_log(smartlock_id, since=since)
        return [report for entry in sorted(entries, key=lambda e: e.date)
                if (report := self._entry_report(account_id, entry)) is not None]

    def _entry_report(self, account_id: str, entry: LogEntry) -> Report | None:
        """A log entry as a report, once (the poll and the webhook may both bring it), unless
        it is the trace of lockhub's own remote command."""
        seen = self._seen_logs.setdefault(account_id, {})
        if entry.id in seen:
            return None
        seen[entry.id] = entry.date
        report = mapping.log_report(entry)
        if isinstance(report, LockOperationReport) and report.method == "remote" and \
                self._own_echo(report.provider_device_id, report.locked):
            return None
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
