"""igloohome locks through the iglooaccess API (client: `client.py`, what the user needs there).

A connected account is one iglooaccess API key (client id and secret; the client id names the
account). The cloud pushes nothing, so `maintain` polls every `LOCKHUB_IGLOOHOME_POLL_SECONDS`:
the device list (locks, their battery and bridge link) and, through each lock's bridge, its
activity log (keypad and manual lock/unlock, refused PINs). The bridge runs about two jobs a
minute, so the default interval is generous.

What igloohome cannot tell, and how lockhub copes:
- The bolt position: no endpoint reports it. Snapshots omit `locked`; lockhub keeps the last
  known one (its own commands, the activity log).
- The PINs on a lock: no endpoint lists them, so `list_codes` raises CodesNotListable (the
  activity log cannot stand in: it names key ids, never the PIN, and only of PINs that were
  used). lockhub trusts the PINs it set as set; PINs added, changed or removed in the igloohome
  app go unnoticed. A PIN's reference is the key id the create job gave it (what keypad entries
  name); a PIN is deleted by its digits, which lockhub hands back with the reference.
- A bridge gone offline: it shows only when a job is refused (`hub_disconnected`); the next job
  that goes through clears it.
- Lock/unlock/PIN jobs are accepted before they are done: a command succeeds when its job
  reports done and fails with `device_communication_timeout` after the command timeout; the
  abandoned job is still polled in the background, since an unpolled job holds the bridge.

Offline codes are algoPINs (`create_offline_code`): the cloud derives the PIN at once, no
bridge needed, and nothing reaches the lock until the PIN is typed. The kind follows the
request: one-time, permanent (no end), daily (a day-bound window) or hourly. A slot's few PINs
are told apart by `variance`, counted here from the offline codes already issued for the same
window. An algoPIN cannot be revoked remotely (Bluetooth only). Its ref is igloohome's `pinId`;
activity-log entries name key ids, never pinIds, so a keypad entry of an algoPIN names no
access code.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from datetime import UTC, datetime
from typing import Any

from lockhub.providers import polling
from lockhub.providers.base import (
    AccountLogin,
    AccountRef,
    CodeOnDevice,
    CodesNotListable,
    DeviceListReport,
    DeviceRef,
    DeviceSnapshot,
    OfflineCodeRequest,
    ProviderError,
    Report,
    ReportSink,
)
from lockhub.providers.igloohome import mapping
from lockhub.providers.igloohome.client import (
    ALGOPIN_VARIANCES,
    DEFAULT_JOB_POLL_INTERVAL,
    JOB_ACTIVITY_LOGS,
    JOB_CREATE_PIN,
    JOB_DELETE_PIN,
    JOB_LOCK,
    JOB_UNLOCK,
    PIN_TYPE_DURATION,
    PIN_TYPE_PERMANENT,
    Device,
    IgloohomeClient,
    JobStatus,
    error_for,
    log_entries,
)

log = logging.getLogger("lockhub.providers.igloohome")

POLL_ENV = "LOCKHUB_IGLOOHOME_POLL_SECONDS"
DEFAULT_POLL_SECONDS = 120.0
COMMAND_TIMEOUT_SECONDS = 60.0
ABANDONED_JOB_SECONDS = 300.0  # a job expires ~5 min after creation
REFUSED = frozenset({"account_disconnected", "invalid_credentials"})
PIN_REF_PREFIX = "pin:"  # a PIN whose create job named no key id (see `_ref`)


class IgloohomeProvider:
    name = "igloohome_cloud"
    sandbox = False

    def __init__(self, command_timeout: float = COMMAND_TIMEOUT_SECONDS,
                 poll_seconds: float | None = None) -> None:
        self.command_timeout = command_timeout
        self.poll_seconds = poll_seconds if poll_seconds is not None \
            else float(os.environ.get(POLL_ENV) or DEFAULT_POLL_SECONDS)
        self.job_poll_seconds = min(DEFAULT_JOB_POLL_INTERVAL, self.poll_seconds)
        self._clients: dict[tuple[str, str], IgloohomeClient] = {}
        self._live: set[str] = set()
        self._hub_down: set[str] = set()  # bridges whose last job was refused
        self._hub_changes = 0  # counts changes of _hub_down: each is reported, even if undone
        self._log_since: dict[str, datetime] = {}  # lock → newest activity-log entry reported
        self._background: set[asyncio.Task[Any]] = set()
        # API key → jobs it could not poll to their end (its token was refused): the key's
        # next client (a new sign-in) polls them, or the bridge stays held until they expire.
        self._orphans: dict[str, set[str]] = {}

    def account_types(self) -> list[str]:
        return ["igloohome"]

    def holds(self, connected_account_id: str) -> bool:
        return connected_account_id in self._live

    def _new_client(self, client_id: str, secret: str) -> IgloohomeClient:
        return IgloohomeClient(client_id, secret, job_poll_interval=self.job_poll_seconds)

    def _client(self, credentials: dict[str, Any]) -> IgloohomeClient:
        """One client (and token) per API key in this process."""
        client_id = str(credentials.get("client_id") or "")
        secret = str(credentials.get("client_secret") or "")
        key = (client_id, hashlib.sha256(secret.encode()).hexdigest())
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(client_id, secret)
            for job_id in self._orphans.pop(client_id, set()):
                self._drain(client, job_id)
        return client

    # --- signing in and importing --------------------------------------------------------

    async def login(self, workspace_id: str, account_type: str,
                    form: dict[str, Any]) -> AccountLogin:
        client_id = str(form.get("client_id") or "").strip()
        secret = str(form.get("client_secret") or "").strip()
        if not client_id or not secret:
            raise ProviderError("invalid_credentials", "Enter the client id and client secret "
                                "of an iglooaccess API key.")
        async with self._new_client(client_id, secret) as client:
            try:
                await client.sign_in()
                await client.list_devices()
            except ProviderError as exc:
                if exc.retryable:
                    raise
                message = exc.message if exc.error_type == "invalid_credentials" else \
                    f"igloohome refused this API key: {exc.message} Check its permissions."
                raise ProviderError("invalid_credentials", message) from None
        return AccountLogin(account_login=f"igloohome:{client_id}",
                            user_identifier={"username": client_id},
                            credentials={"client_id": client_id, "client_secret": secret})

    async def import_devices(self, account: AccountRef) -> list[DeviceSnapshot]:
        devices = await self._client(account.credentials).list_devices()
        return self._snapshots(devices)

    def _snapshots(self, devices: list[Device]) -> list[DeviceSnapshot]:
        return [self._snapshot(d) for d in devices if mapping.is_lock(d)]

    def _snapshot(self, device: Device, locked: bool | None = None) -> DeviceSnapshot:
        return mapping.snapshot(device, locked=locked,
                                hub_online=device.bridge_id not in self._hub_down)

    # --- the polling loop ------------------------------------------------------------------

    async def maintain(self, account: AccountRef, sink: ReportSink) -> None:
        client = self._client(account.credentials)
        account_id = account.connected_account_id
        listed: list[DeviceSnapshot] | None = None
        hub_changes = -1

        async def locks() -> list[Device]:
            return [d for d in await client.list_devices() if mapping.is_lock(d)]

        def changes(devices: list[Device]) -> list[Report]:
            """The device list when it changed, or when a bridge went down or came back since
            the last report (a failed command may have stored the bridge down meanwhile)."""
            nonlocal listed, hub_changes
            snapshots, changed = self._snapshots(devices), self._hub_changes
            unchanged = snapshots == listed and changed == hub_changes
            listed, hub_changes = snapshots, changed
            return [] if unchanged else [DeviceListReport(devices=snapshots)]

        async def logs(devices: list[Device]) -> list[Report]:
            reports = [report for device in devices
                       for report in await self._read_log(client, device)]
            return reports + changes(devices)  # a job refused on the way shows its bridge down

        self._live.add(account_id)
        try:
            await polling.poll_account(sink, interval=self.poll_seconds, listing=locks,
                                       changes=changes, events=logs, refused=REFUSED)
        finally:
            self._live.discard(account_id)

    async def _read_log(self, client: IgloohomeClient, device: Device) -> list[Report]:
        """The lock's activity-log entries newer than the last reported (on first sight of a
        lock, only those from now on)."""
        bridge = device.bridge_id
        since = self._log_since.get(device.device_id)
        if since is None:
            self._log_since[device.device_id] = datetime.now(UTC)
            return []
        if bridge is None:
            return []
        try:
            status = await self._run(client, device.device_id, bridge, JOB_ACTIVITY_LOGS)
        except ProviderError as exc:
            if exc.error_type in REFUSED:
                raise
            log.info("igloohome activity log of %s not read: %s", device.device_id, exc.message)
            return []
        entries = sorted((e for e in log_entries(status) if e.occurred_at > since),
                         key=lambda e: e.occurred_at)
        if entries:
            self._log_since[device.device_id] = entries[-1].occurred_at
        return [report for entry in entries
                if (report := mapping.log_report(device.device_id, entry)) is not None]

    # --- bridge jobs -------------------------------------------------------------------------

    async def _run(self, client: IgloohomeClient, lock_id: str, bridge_id: str, job_type: int,
                   data: dict[str, Any] | None = None) -> JobStatus:
        """Queue a job and wait until it is done; a refused bridge is remembered as down."""
        try:
            job_id = await client.submit_job(lock_id, bridge_id, job_type, data)
        except ProviderError as exc:
            if exc.error_type == "hub_disconnected":
                self._hub(bridge_id, online=False)
            raise
        try:
            status = await asyncio.wait_for(self._until_done(client, job_id),
                                            self.command_timeout)
        except TimeoutError:
            self._drain(client, job_id)
            raise ProviderError("device_communication_timeout",
                                f"The igloohome bridge did not finish the job within "
                                f"{self.command_timeout:g} s; the lock may still carry it out.",
                                retryable=True) from None
        except ProviderError:
            self._drain(client, job_id)  # the cloud stopped answering about it
            raise
        self._hub(bridge_id, online=True)  # the bridge ran it (the lock may have said no)
        if status.failed:
            raise error_for(None, str(status.response.get("message") or ""))
        return status

    async def _until_done(self, client: IgloohomeClient, job_id: str) -> JobStatus:
        while True:
            status = await client.job_status(job_id)
            if status.failed or status.done:
                return status
            await asyncio.sleep(self.job_poll_seconds)

    def _hub(self, bridge_id: str, *, online: bool) -> None:
        if online != (bridge_id not in self._hub_down):
            self._hub_changes += 1
            (self._hub_down.discard if online else self._hub_down.add)(bridge_id)

    def _drain(self, client: IgloohomeClient, job_id: str) -> None:
        """Keep polling an abandoned job until it ends: an unpolled job holds the bridge."""
        async def poll() -> None:
            deadline = asyncio.get_running_loop().time() + ABANDONED_JOB_SECONDS
            while asyncio.get_running_loop().time() < deadline:
                try:
                    status = await client.job_status(job_id)
                    if status.completed or status.failed:
                        return
                except ProviderError as exc:
                    if not exc.retryable:
                        self._orphans.setdefault(client.client_id, set()).add(job_id)
                        return
                await asyncio.sleep(self.job_poll_seconds)

        task = asyncio.create_task(poll(), name=f"igloohome-job:{job_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _lock_device(self, device: DeviceRef) -> tuple[IgloohomeClient, Device, str]:
        client = self._client(device.credentials)
        found = await client.get_device(device.provider_device_id)
        if found.bridge_id is None:
            raise ProviderError("hub_disconnected", "The lock is not linked to an igloohome "
                                "Bridge; remote operations and PINs set from lockhub need one.")
        return client, found, found.bridge_id

    # --- state and commands ------------------------------------------------------------------

    async def read_state(self, device: DeviceRef) -> DeviceSnapshot:
        client = self._client(device.credentials)
        return self._snapshot(await client.get_device(device.provider_device_id))

    async def lock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=True)

    async def unlock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=False)

    async def _move(self, device: DeviceRef, *, locked: bool) -> DeviceSnapshot:
        """Done when the bridge job is; a failure is final for the attempt (a retried job could
        move the bolt long after the user gave up)."""
        client, found, bridge = await self._lock_device(device)
        try:
            await self._run(client, found.device_id, bridge, JOB_LOCK if locked else JOB_UNLOCK)
        except ProviderError as exc:
            if exc.error_type in REFUSED or not exc.retryable:
                raise
            raise ProviderError(exc.error_type, exc.message) from None
        return self._snapshot(found, locked=locked)

    # --- PINs ----------------------------------------------------------------------------

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        raise CodesNotListable("igloohome has no way to list the PINs on a lock.")

    async def set_code(self, device: DeviceRef, code: CodeOnDevice,
                       replacing: CodeOnDevice | None = None) -> CodeOnDevice:
        """A custom PIN through the bridge (job 4), with its window when it has one (the lock
        enforces it); a rewrite takes the old PIN off first (igloohome edits no PIN)."""
        client, found, bridge = await self._lock_device(device)
        if replacing is not None and replacing.code is not None:
            await self._delete(client, found.device_id, bridge, replacing.code)
        data: dict[str, Any] = {"accessName": code.name or "lockhub", "pin": code.code}
        if code.starts_at is not None and code.ends_at is not None:
            data.update(pinType=PIN_TYPE_DURATION,
                        startDate=code.starts_at.isoformat(timespec="seconds"),
                        endDate=code.ends_at.isoformat(timespec="seconds"))
        else:
            data["pinType"] = PIN_TYPE_PERMANENT
        status = await self._run(client, found.device_id, bridge, JOB_CREATE_PIN, data)
        return CodeOnDevice(code=code.code, name=code.name, ref=_ref(status, code.code),
                            starts_at=code.starts_at if "startDate" in data else None,
                            ends_at=code.ends_at if "endDate" in data else None)

    async def remove_code(self, device: DeviceRef, code: CodeOnDevice) -> None:
        """igloohome deletes a PIN by its digits (job 5), as lockhub wrote them."""
        if code.code is None:
            return  # no digits were ever written under this reference
        client, found, bridge = await self._lock_device(device)
        await self._delete(client, found.device_id, bridge, code.code)

    async def _delete(self, client: IgloohomeClient, lock_id: str, bridge: str,
                      pin: str) -> None:
        try:
            await self._run(client, lock_id, bridge, JOB_DELETE_PIN, {"pin": pin})
        except ProviderError as exc:
            if exc.error_type != "access_code_not_found":  # gone already
                raise

    # --- offline algoPINs --------------------------------------------------------------------

    async def create_offline_code(self, device: DeviceRef,
                                  request: OfflineCodeRequest) -> CodeOnDevice:
        kind = "onetime" if request.one_time_use else "permanent" if request.ends_at is None \
            else "daily" if request.rounding == "day" else "hourly"
        variance = request.issued_for_window + 1
        if variance > ALGOPIN_VARIANCES[kind]:
            raise ProviderError(
                "code_constraints_violated",
                f"igloohome issues at most {ALGOPIN_VARIANCES[kind]} {kind} algoPINs for the "
                "same window on a lock; choose another start hour.")
        try:
            issued = await self._client(device.credentials).create_algopin(
                device.provider_device_id, kind, starts_at=request.starts_at,
                ends_at=request.ends_at if kind in ("hourly", "daily") else None,
                name=request.name or "lockhub", variance=variance)
        except ValueError as exc:
            raise ProviderError("code_constraints_violated", str(exc)) from None
        return CodeOnDevice(code=issued.pin, name=request.name,
                            ref=issued.pin_id or f"{PIN_REF_PREFIX}{issued.pin}",
                            starts_at=request.starts_at, ends_at=request.ends_at)


def _ref(status: JobStatus, pin: str) -> str:
    """The key id the lock gave the PIN (its activity-log entries name it); without one, the
    PIN itself, which names it on the lock as well (keypad entries then name no access code)."""
    return mapping.key_ref(status.response.get("keyId")) or f"{PIN_REF_PREFIX}{pin}"

