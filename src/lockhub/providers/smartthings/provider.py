"""SmartThings locks through the SmartThings cloud API (client.py), signed in with OAuth.

A connected account is one Samsung account that installed the user's OAuth-In app (its client
id and secret are lockhub's settings); its identity is SmartThings' owner account id. The
Connect Webview sends the user to `authorize_url`; the code that comes back to lockhub's
callback is exchanged in `login`.

SmartThings pushes nothing lockhub can receive without a public webhook, so the live connection
(`maintain`) polls: the lock list, each lock's status and health, and its history for lock and
PIN events, every `poll_seconds`. Refresh tokens are single-use, so only the process holding
that connection refreshes (storing each new pair at once with a CredentialsReport); commands
elsewhere use the stored access token and fail retryably once it has expired.

Commands are accepted before the lock acts: lock/unlock and PINs succeed only once the status
says so (`wait_for*`). PINs live in numbered slots and cannot be read back, only their names:
lockhub remembers the PINs it set (per process), and reports any other slot's PIN as unknown
(an empty code).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from lockhub.clock import Clock, SystemClock
from lockhub.config import Settings
from lockhub.providers import polling
from lockhub.providers.base import (
    AccountLogin,
    AccountRef,
    CodeOnDevice,
    CodesChangedReport,
    CredentialsReport,
    DeviceListReport,
    DeviceRef,
    DeviceSnapshot,
    DeviceStateReport,
    LockOperationReport,
    ProviderError,
    Report,
    ReportSink,
    slot_number,
)
from lockhub.providers.smartthings import client as st
from lockhub.providers.smartthings import mapping
from lockhub.providers.smartthings.client import LockDevice, SmartThingsClient, TokenSet

# Status reads while waiting for a command's effect: at most 12 requests a minute per device
# (commands included), and a poll reads each lock once, so confirmations read every 5 s.
CONFIRM_INTERVAL_SECONDS = 5.0
HISTORY_LIMIT = 50


class SmartThingsProvider:
    name = "smartthings_cloud"
    sandbox = False

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.poll_seconds = settings.smartthings_poll_seconds
        self.command_timeout = settings.radio_command_timeout_seconds
        self.confirm_interval = min(CONFIRM_INTERVAL_SECONDS, self.poll_seconds)
        self.live: dict[str, SmartThingsClient] = {}
        self._pins: dict[tuple[str, int], str] = {}  # PINs lockhub set (never readable)
        self._own_moves: dict[str, list[bool]] = {}  # lock commands sent, to skip their echo
        self._own_slots: dict[str, set[int]] = {}  # slots lockhub is changing

    def account_types(self) -> list[str]:
        return ["smartthings"]

    def holds(self, connected_account_id: str) -> bool:
        return connected_account_id in self.live

    # --- signing in (OAuth authorization code) -------------------------------------------

    def _app(self) -> tuple[str, str]:
        client_id = self.settings.smartthings_client_id
        secret = self.settings.smartthings_client_secret
        if not client_id or not secret:
            raise ProviderError("provider_error",
                                "SmartThings is not set up on this lockhub server "
                                "(LOCKHUB_SMARTTHINGS_CLIENT_ID and "
                                "LOCKHUB_SMARTTHINGS_CLIENT_SECRET).")
        return client_id, secret

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        """Where the Connect Webview sends the user to sign in to Samsung and allow the app."""
        client_id, _ = self._app()
        return st.authorize_url(client_id, redirect_uri, state)

    async def login(self, workspace_id: str, account_type: str,
                    form: dict[str, Any]) -> AccountLogin:
        client_id, secret = self._app()
        code, redirect_uri = form.get("code", ""), form.get("redirect_uri", "")
        if not code or not redirect_uri:
            raise ProviderError("invalid_credentials",
                                "Sign in on SmartThings' page to connect the account.")
        tokens = await st.exchange_code(code, redirect_uri, client_id, secret,
                                        clock=self.clock)
        async with SmartThingsClient(tokens, clock=self.clock) as client:
            try:
                await client.list_locks()  # the app may lack the device scopes
            except ProviderError as exc:
                raise ProviderError("invalid_credentials", exc.message) from exc
        identity = tokens.owner_account_id or tokens.installed_app_id
        if not identity:
            raise ProviderError("provider_error", "SmartThings did not name the account.")
        return AccountLogin(account_login=f"smartthings:{identity}", user_identifier={},
                            credentials=mapping.credentials(tokens))

    # --- clients ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _client(self, account_id: str,
                      credentials: dict[str, Any]) -> AsyncIterator[SmartThingsClient]:
        """The live connection's client (which refreshes), else one on the stored access token:
        a refresh here would race the holder's and disconnect the account."""
        live = self.live.get(account_id)
        if live is not None:
            yield live
            return
        tokens = mapping.tokens(credentials)
        if tokens.expires_at is not None and tokens.expires_at <= self.clock.now():
            raise ProviderError("provider_error", "The SmartThings token is being renewed; "
                                "the command is retried.", retryable=True)
        async with SmartThingsClient(TokenSet(tokens.access_token, expires_at=tokens.expires_at),
                                     clock=self.clock) as client:
            try:
                yield client
            except ProviderError as exc:
                if exc.error_type == "account_disconnected":
                    raise ProviderError("provider_error", "SmartThings refused the stored "
                                        "token; it is being renewed.", retryable=True) from exc
                raise

    async def _snapshot(self, client: SmartThingsClient, device: LockDevice,
                        hubs: dict[str, bool]) -> DeviceSnapshot:
        status = await client.get_status(device.device_id)
        health = await client.get_health(device.device_id)
        hub_online = None
        if device.hub_id:
            if device.hub_id not in hubs:
                hubs[device.hub_id] = (await client.get_health(device.hub_id)).online
            hub_online = hubs[device.hub_id]
        return mapping.snapshot(device, status, online=health.online, hub_online=hub_online)

    async def _snapshots(self, client: SmartThingsClient,
                         locks: list[LockDevice]) -> list[DeviceSnapshot]:
        hubs: dict[str, bool] = {}
        return [await self._snapshot(client, device, hubs) for device in locks]

    async def import_devices(self, account: AccountRef) -> list[DeviceSnapshot]:
        async with self._client(account.connected_account_id, account.credentials) as client:
            return await self._snapshots(client, await client.list_locks())

    async def read_state(self, device: DeviceRef) -> DeviceSnapshot:
        async with self._client(device.connected_account_id, device.credentials) as client:
            found = await client.get_device(device.provider_device_id)
            return await self._snapshot(client, found, {})

    # --- the live connection: polling -------------------------------------------------------

    async def maintain(self, account: AccountRef, sink: ReportSink) -> None:
        client_id, secret = self._app()
        account_id = account.connected_account_id

        async def store(tokens: TokenSet) -> None:
            await sink(CredentialsReport(credentials=mapping.credentials(tokens)))

        client = SmartThingsClient(mapping.tokens(account.credentials), client_id=client_id,
                                   client_secret=secret, on_tokens=store, clock=self.clock)
        seen: dict[str, tuple[int, set[str]]] = {}  # device -> (newest epoch, keys at it)
        reported: dict[str, DeviceSnapshot] = {}
        listed: list[DeviceSnapshot] | None = None

        async def locks() -> list[tuple[LockDevice, DeviceSnapshot]]:
            devices = await client.list_locks()
            return list(zip(devices, await self._snapshots(client, devices), strict=True))

        async def connected(items: list[tuple[LockDevice, DeviceSnapshot]]) -> None:
            self.live[account_id] = client
            for device, _ in items:  # what happened before the connection is history
                seen[device.device_id] = _newest(await client.list_events(
                    device.device_id, limit=HISTORY_LIMIT))

        def changes(items: list[tuple[LockDevice, DeviceSnapshot]]) -> list[Report]:
            """The list when a lock came, went or was renamed; each changed state."""
            nonlocal listed
            snapshots = [snap for _, snap in items]
            reports: list[Report] = []
            if listed is None or _identities(snapshots) != _identities(listed):
                listed = snapshots
                reports.append(DeviceListReport(devices=snapshots))
            for snap in snapshots:
                if reported.get(snap.provider_device_id) != snap:
                    reported[snap.provider_device_id] = snap
                    reports.append(DeviceStateReport(snapshot=snap))
            return reports

        async def events(items: list[tuple[LockDevice, DeviceSnapshot]]) -> list[Report]:
            reports: list[Report] = []
            for device, _ in items:
                seen.setdefault(device.device_id, (0, set()))
                reports += await self._events(client, device.device_id, seen)
            return reports

        try:
            await polling.poll_account(sink, interval=self.poll_seconds, listing=locks,
                                       changes=changes, events=events, on_connect=connected)
        finally:
            if self.live.get(account_id) is client:
                del self.live[account_id]
            await client.aclose()

    async def _events(self, client: SmartThingsClient, device_id: str,
                      seen: dict[str, tuple[int, set[str]]]) -> list[Report]:
        """New history rows, oldest first, as reports; lockhub's own commands are skipped
        (they are recorded when they finish)."""
        newest, keys = seen[device_id]
        rows = await client.list_events(device_id, limit=HISTORY_LIMIT,
                                        after_epoch_ms=newest - 1 if newest else None)
        fresh = [e for e in reversed(rows) if mapping.event_key(e) not in keys]
        if not fresh:
            return []
        if rows:
            top = max(e.epoch_ms for e in rows)
            at_top = {mapping.event_key(e) for e in rows if e.epoch_ms == top}
            seen[device_id] = (top, at_top | (keys if top == newest else set()))
        reports: list[Report] = []
        codes_changed = False
        for event in fresh:
            report = mapping.event_report(event)
            if isinstance(report, LockOperationReport):
                own = self._own_moves.get(device_id, [])
                if report.method == "remote" and report.locked in own:
                    own.remove(report.locked)
                    continue
                reports.append(report)
            elif isinstance(report, CodesChangedReport):
                slot = mapping.code_slot(event)
                own_slots = self._own_slots.get(device_id, set())
                if slot is not None and slot in own_slots:
                    own_slots.discard(slot)
                    continue
                if slot is not None:
                    self._pins.pop((device_id, slot), None)  # changed at the lock
                codes_changed = True
        if codes_changed:
            reports.append(CodesChangedReport(provider_device_id=device_id))
        return reports

    # --- commands ------------------------------------------------------------------------

    async def lock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=True)

    async def unlock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=False)

    async def _move(self, device: DeviceRef, *, locked: bool) -> DeviceSnapshot:
        pdid = device.provider_device_id
        async with self._client(device.connected_account_id, device.credentials) as client:
            found = await client.get_device(pdid)
            own = self._own_moves.setdefault(pdid, [])
            own.append(locked)
            del own[:-10]
            if locked:
                await client.lock(pdid)
            else:
                await client.unlock(pdid)
            try:
                await client.wait_for_lock(pdid, locked, timeout=self.command_timeout,
                                           interval=self.confirm_interval)
            except ProviderError as exc:
                # The command was accepted and may still be carried out: the attempt fails
                # with why, rather than sending it again.
                raise ProviderError(exc.error_type, exc.message) from exc
            return await self._snapshot(client, found, {})

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        pdid = device.provider_device_id
        async with self._client(device.connected_account_id, device.credentials) as client:
            codes = await client.list_codes(pdid)
        return [CodeOnDevice(code=self._pins.get((pdid, slot)), name=name, ref=str(slot))
                for slot, name in sorted(codes.items())]

    async def set_code(self, device: DeviceRef, code: CodeOnDevice,
                       replacing: CodeOnDevice | None = None) -> CodeOnDevice:
        pdid = device.provider_device_id
        async with self._client(device.connected_account_id, device.credentials) as client:
            before = await client.get_status(pdid)
            slot = slot_number(code.ref) if code.ref is not None else client.free_slot(before)
            if any(pin == code.code and (p, s) != (pdid, slot)
                   for (p, s), pin in self._pins.items() if p == pdid):
                raise ProviderError("duplicate_code_on_device", "The lock already holds this PIN.")
            name = code.name or f"Code {slot}"
            self._own_slots.setdefault(pdid, set()).add(slot)
            await client.set_code(pdid, slot, code.code, name)
            await client.wait_for_code(pdid, slot, before, timeout=self.command_timeout,
                                       interval=self.confirm_interval)
            self._pins[(pdid, slot)] = code.code
            return CodeOnDevice(code=code.code, name=code.name, ref=str(slot))

    async def remove_code(self, device: DeviceRef, code: CodeOnDevice) -> None:
        pdid = device.provider_device_id
        slot = slot_number(code.ref)
        async with self._client(device.connected_account_id, device.credentials) as client:
            before = await client.get_status(pdid)
            if slot in before.codes:
                self._own_slots.setdefault(pdid, set()).add(slot)
                await client.delete_code(pdid, slot)
                await client.wait_for_code(pdid, slot, before, deleted=True,
                                           timeout=self.command_timeout,
                                           interval=self.confirm_interval)
        self._pins.pop((pdid, slot), None)


def _newest(rows: list[st.HistoryEvent]) -> tuple[int, set[str]]:
    if not rows:
        return 0, set()
    top = max(e.epoch_ms for e in rows)
    return top, {mapping.event_key(e) for e in rows if e.epoch_ms == top}


def _identities(snapshots: list[DeviceSnapshot]) -> list[tuple[str, str]]:
    return [(s.provider_device_id, s.name) for s in snapshots]
