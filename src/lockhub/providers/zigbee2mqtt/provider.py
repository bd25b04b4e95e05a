"""Zigbee locks through Zigbee2MQTT, over the MQTT broker it publishes to.

A connected account is one Zigbee2MQTT bridge: a broker URL, optional credentials and the base
topic (reference: /work/shared/reference/zigbee2mqtt-locks.md). Every device whose exposes
include a `lock` is a lock, keyed by its IEEE address (friendly names change). The engine keeps
one live connection per account (`maintain`); commands from the process that holds it go over
it, and a process that does not opens a short connection of its own.

Zigbee2MQTT acknowledges no command (§4): a lock/unlock is done when the lock reports the new
`lock_state`, a PIN when reading its slot back says so; a failure shows only as an error on
`bridge/logging` naming the device, or as silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt

from lockhub.providers.base import (
    AccountLogin,
    AccountRef,
    CodeOnDevice,
    CodesChangedReport,
    ConnectionReport,
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
from lockhub.providers.zigbee2mqtt import mapping
from lockhub.providers.zigbee2mqtt.client import Z2MConnection, check_broker, connected

# How long a lock may take to report that it moved, or a slot to read back.
COMMAND_TIMEOUT_SECONDS = 20.0
# How long to wait for a lock's programming event before reading the slot back anyway.
PROGRAMMING_WAIT_SECONDS = 3.0
# An RF event this soon after lockhub's own command is that command's echo.
OWN_COMMAND_ECHO_SECONDS = 10.0
# A lock_state change with no event: wait this long for the event that explains it (it may
# come after the attribute report, §3.1) before reporting it as method "unknown".
EVENT_GRACE_SECONDS = 1.5
LOGIN_WAIT_SECONDS = 5.0


class _Moves:
    """Bolt movements seen only as a `lock_state` change: the event that says how may come
    before or after the attribute report (§3.1), so a change with no event is reported as
    method "unknown" only once the grace period passes without one."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self._pending: dict[str, tuple[bool, float]] = {}  # waiting for an event
        self._explained: dict[str, tuple[bool, float]] = {}  # an event came first

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def moved(self, pdid: str, locked: bool) -> None:
        explained = self._explained.pop(pdid, None)
        if explained is not None and explained[0] == locked and explained[1] > self._now():
            return
        self._pending[pdid] = (locked, self._now() + self.grace)

    def explained(self, pdid: str, locked: bool) -> None:
        if self._pending.pop(pdid, None) is None:
            self._explained[pdid] = (locked, self._now() + OWN_COMMAND_ECHO_SECONDS)

    def wait(self) -> float | None:
        due = min((d for _, d in self._pending.values()), default=None)
        return None if due is None else max(0.0, due - self._now())

    def due(self) -> list[Report]:
        now = self._now()
        reports: list[Report] = []
        for pdid, (locked, due) in list(self._pending.items()):
            if due <= now:
                del self._pending[pdid]
                reports.append(LockOperationReport(provider_device_id=pdid, locked=locked,
                                                   method="unknown"))
        return reports


class Zigbee2MQTTProvider:
    name = "zigbee2mqtt"
    sandbox = False

    def __init__(self, command_timeout: float = COMMAND_TIMEOUT_SECONDS,
                 programming_wait: float = PROGRAMMING_WAIT_SECONDS,
                 event_grace: float = EVENT_GRACE_SECONDS) -> None:
        self.command_timeout = command_timeout
        self.programming_wait = programming_wait
        self.event_grace = event_grace
        self.live: dict[str, Z2MConnection] = {}
        self._own_commands: dict[str, float] = {}
        self._own_pins: dict[tuple[str, int], str] = {}  # PINs lockhub set and read back
        self._dirty: dict[str, set[int]] = {}  # slots changed at the lock, to read again

    def account_types(self) -> list[str]:
        return ["zigbee2mqtt"]

    def holds(self, connected_account_id: str) -> bool:
        return connected_account_id in self.live

    # --- signing in and importing --------------------------------------------------------

    async def login(self, workspace_id: str, account_type: str,
                    form: dict[str, Any]) -> AccountLogin:
        """Try the broker and look for the bridge before saying yes; the coordinator's IEEE
        address names the account (else the broker and base topic)."""
        try:
            broker = check_broker(form)
            base = broker.base_topic
            conn = Z2MConnection(broker)
            await conn.open([f"{base}/bridge/state", f"{base}/bridge/info"])
        except ProviderError as exc:
            raise ProviderError("invalid_credentials", exc.message) from exc
        try:
            if not await conn.wait_for_bridge(LOGIN_WAIT_SECONDS, devices=False):
                raise ProviderError("invalid_credentials",
                                    f"The broker answers, but no Zigbee2MQTT bridge publishes "
                                    f"under the base topic '{base}'.")
            # bridge/info is retained next to bridge/state; give it a moment to arrive too.
            await conn.wait_for_bridge(1.0, devices=False, info=True)
            coordinator = conn.info.get("coordinator")
            coordinator_ieee = coordinator.get("ieee_address") \
                if isinstance(coordinator, dict) else None
        finally:
            await conn.close()
        identity = f"zigbee2mqtt:{coordinator_ieee}" if isinstance(coordinator_ieee, str) \
            and coordinator_ieee else f"zigbee2mqtt:{broker.host}:{broker.port}/{base}"
        return AccountLogin(account_login=identity,
                            user_identifier={"api_url": broker.public_url},
                            credentials={"broker_url": broker.url,
                                         "username": broker.username or "",
                                         "password": broker.password or "",
                                         "base_topic": base})

    async def import_devices(self, account: AccountRef) -> list[DeviceSnapshot]:
        async with self._connection(account.connected_account_id, account.credentials,
                                    refresh=True) as conn:
            return self._locks(conn)

    def _locks(self, conn: Z2MConnection) -> list[DeviceSnapshot]:
        return [conn.snapshot(entry) for entry in conn.lock_entries()]

    @contextlib.asynccontextmanager
    async def _connection(self, account_id: str, credentials: dict[str, Any], *,
                          refresh: bool = False) -> AsyncIterator[Z2MConnection]:
        live = self.live.get(account_id)
        if live is not None and not live.closed.done():
            yield live
            return
        async with connected(check_broker(credentials), refresh=refresh) as conn:
            yield conn

    # --- the live connection ---------------------------------------------------------------

    async def maintain(self, account: AccountRef, sink: ReportSink) -> None:
        conn = Z2MConnection(check_broker(account.credentials))
        conn.changes = asyncio.Queue()
        account_id = account.connected_account_id
        await conn.open()
        moves = _Moves(self.event_grace)
        try:
            self.live[account_id] = conn
            await sink(ConnectionReport(connected=True))
            while True:
                getter = asyncio.create_task(conn.changes.get())
                done, _ = await asyncio.wait({getter, conn.closed}, timeout=moves.wait(),
                                             return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    if conn.closed.done():
                        error = None if conn.closed.cancelled() else conn.closed.exception()
                        raise ProviderError("account_disconnected",
                                            "The connection to the MQTT broker was lost"
                                            + (f": {error}" if error else "."))
                    for report in moves.due():
                        await sink(report)
                    continue
                for report in await self._reports(conn, getter.result(), moves):
                    await sink(report)
        except aiomqtt.MqttError as exc:
            raise ProviderError("account_disconnected",
                                f"The connection to the MQTT broker was lost: {exc}") from exc
        finally:
            if self.live.get(account_id) is conn:
                del self.live[account_id]
            await conn.close()

    async def _reports(self, conn: Z2MConnection, change: tuple[Any, ...],
                       moves: _Moves) -> list[Report]:
        kind = change[0]
        reports: list[Report] = []
        if kind == "devices":
            before = {s.provider_device_id for s in conn.listed or []}
            snapshots = self._locks(conn)
            if snapshots != conn.listed:
                conn.listed = snapshots
                for snap in snapshots:
                    conn.reported[snap.provider_device_id] = snap
                reports.append(DeviceListReport(devices=snapshots))
                new = [e for e in conn.lock_entries() if mapping.ieee(e) not in before]
                if new:  # their states arrive as state messages
                    await conn.refresh_states(timeout=0, entries=new)
            return reports
        if conn.listed is None:
            return reports  # not before the device list
        entries = conn.lock_entries()
        if kind == "availability":
            entries = [e for e in entries if mapping.friendly_name(e) == change[1]]
        elif kind == "state":
            entries = [e for e in entries if mapping.ieee(e) == change[1]]
            if entries:
                reports += self._event(change[1], change[2], moves)
        for entry in entries:
            snapshot = conn.snapshot(entry)
            pdid = snapshot.provider_device_id
            previous = conn.reported.get(pdid)
            if previous == snapshot:
                continue
            conn.reported[pdid] = snapshot
            reports.append(DeviceStateReport(snapshot=snapshot))
            if kind == "state" and change[2].get("action") is None \
                    and snapshot.locked is not None and previous is not None \
                    and previous.locked is not None and previous.locked != snapshot.locked \
                    and not snapshot.jammed and not self._own_command_recent(pdid):
                moves.moved(pdid, snapshot.locked)
        return reports

    def _event(self, pdid: str, message: dict[str, Any], moves: _Moves) -> list[Report]:
        report = mapping.event_report(pdid, message)
        if report is None:
            return []
        if isinstance(report, LockOperationReport):
            if report.method == "remote" and self._own_command_recent(pdid):
                return []
            moves.explained(pdid, report.locked)
            return [report]
        if isinstance(report, CodesChangedReport):
            programming = mapping.programming_slot(message)
            if programming is not None:
                _, slot, source = programming
                if slot is not None:
                    self._dirty.setdefault(pdid, set()).add(slot)
                if source == "rf" and self._own_command_recent(pdid):
                    return []  # lockhub's own PIN change
        return [report]

    def _own_command_recent(self, pdid: str) -> bool:
        return time.monotonic() - self._own_commands.get(pdid, -1e9) < OWN_COMMAND_ECHO_SECONDS

    # --- commands ------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _device(self, device: DeviceRef) -> AsyncIterator[tuple[Z2MConnection,
                                                                       dict[str, Any]]]:
        async with self._connection(device.connected_account_id, device.credentials) as conn:
            async with conn.commands:
                await self._device_list_known(conn)
                entry = conn.entry(device.provider_device_id)
                if entry is None:
                    raise ProviderError("device_removed",
                                        "The lock is no longer paired with Zigbee2MQTT.")
                if conn.bridge_online is False:
                    raise ProviderError("device_offline",
                                        "The Zigbee2MQTT bridge is offline.")
                if conn.available(entry) is False:
                    raise ProviderError("device_offline",
                                        "Zigbee2MQTT reports the lock offline.")
                yield conn, entry

    async def _device_list_known(self, conn: Z2MConnection) -> None:
        """Right after a (re)connect the bridge may not have republished `bridge/devices` yet:
        a lock missing from no list is not a removed lock."""
        if conn.devices is None and not await conn.wait_for_bridge(self.command_timeout):
            raise ProviderError("device_communication_timeout",
                                "Zigbee2MQTT has not published its device list yet.",
                                retryable=True)

    async def read_state(self, device: DeviceRef) -> DeviceSnapshot:
        async with self._connection(device.connected_account_id, device.credentials,
                                    refresh=True) as conn:
            await self._device_list_known(conn)
            entry = conn.entry(device.provider_device_id)
            if entry is None:
                raise ProviderError("device_removed",
                                    "The lock is no longer paired with Zigbee2MQTT.")
            return conn.snapshot(entry)

    async def lock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=True)

    async def unlock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=False)

    async def configure_auto_lock(self, device: DeviceRef, enabled: bool,
                                  delay_seconds: float) -> DeviceSnapshot:
        """`/set {"auto_relock_time": N}` (0: off), then wait for the lock to report it."""
        low, high = mapping.AUTO_RELOCK_SECONDS
        seconds = round(delay_seconds) if enabled else 0
        if enabled and not low <= seconds <= high:
            raise ProviderError("device_cannot_perform_action",
                                f"Zigbee2MQTT locks take an auto-lock delay of {low} to {high} "
                                f"seconds.")
        async with self._device(device) as (conn, entry):
            if not mapping.can_set_auto_relock(entry):
                raise ProviderError("device_cannot_perform_action",
                                    "This lock's auto-relock cannot be set over Zigbee2MQTT.")
            fn = mapping.friendly_name(entry)

            def outcome(rel: str, payload: Any) -> Any:
                if rel == fn and isinstance(payload, dict) \
                        and payload.get("auto_relock_time") == seconds:
                    return "done"
                failure = mapping.command_failure(payload, fn, "set", "auto_relock_time") \
                    if rel == "bridge/logging" else None
                if failure is not None:
                    return ProviderError(mapping.failure_type(failure, "lock_operation_failed"),
                                         f"Zigbee2MQTT: {failure}")
                if rel == f"{fn}/availability" and payload is False:
                    return ProviderError("device_offline", "Zigbee2MQTT reports the lock offline.")
                return None

            with conn.expect(outcome) as waiter:
                await conn.publish(f"{fn}/set", {"auto_relock_time": seconds})
                result = await conn.result(waiter, self.command_timeout)
            if result is None:
                raise ProviderError("device_communication_timeout",
                                    "The lock did not confirm its auto-relock time.",
                                    retryable=True)
            if isinstance(result, ProviderError):
                raise result
            return conn.snapshot(entry)

    async def _move(self, device: DeviceRef, *, locked: bool) -> DeviceSnapshot:
        """`/set {"state": …}`, then wait for the lock's `lock_state` report (§3.1, §7.4)."""
        target = "locked" if locked else "unlocked"
        pdid = device.provider_device_id
        async with self._device(device) as (conn, entry):
            fn = mapping.friendly_name(entry)

            def outcome(rel: str, payload: Any) -> Any:
                if rel == fn and isinstance(payload, dict) and payload.get("action") is None:
                    state = mapping.lock_state(payload)
                    if state == target:
                        return "done"
                    if state == "not_fully_locked":
                        return ProviderError("lock_jammed", "The lock is jammed.")
                    return None
                if rel == f"{fn}/availability" and payload is False:
                    return ProviderError("device_offline", "Zigbee2MQTT reports the lock offline.")
                if rel == "bridge/state":
                    return None
                failure = mapping.command_failure(payload, fn, "set", "state") \
                    if rel == "bridge/logging" else None
                if failure is not None:
                    return ProviderError(mapping.failure_type(failure, "lock_operation_failed"),
                                         f"Zigbee2MQTT: {failure}")
                return None

            self._own_commands[pdid] = time.monotonic()
            with conn.expect(outcome) as waiter:
                await conn.publish(f"{fn}/set", {"state": "LOCK" if locked else "UNLOCK"})
                result = await conn.result(waiter, self.command_timeout)
            if result is None:
                result = await self._reread(conn, fn, target)
            self._own_commands[pdid] = time.monotonic()
            if isinstance(result, ProviderError):
                raise result
            return conn.snapshot(entry)

    async def _reread(self, conn: Z2MConnection, fn: str, target: str) -> Any:
        """After the deadline: `/get {"state": ""}` tells a lock that refused from one that
        does not answer (§7.4)."""
        def answer(rel: str, payload: Any) -> Any:
            if rel == fn and isinstance(payload, dict) and payload.get("action") is None:
                return payload
            failure = mapping.command_failure(payload, fn, "get", "state") \
                if rel == "bridge/logging" else None
            return ProviderError(mapping.failure_type(failure, "device_communication_timeout"),
                                 f"Zigbee2MQTT: {failure}") if failure else None

        with conn.expect(answer) as waiter:
            await conn.publish(f"{fn}/get", {"state": ""})
            result = await conn.result(waiter, min(5.0, self.command_timeout))
        if isinstance(result, dict):
            state = mapping.lock_state(result)
            if state == target:
                return "done"
            if state == "not_fully_locked":
                return ProviderError("lock_jammed", "The lock is jammed.")
            return ProviderError("lock_operation_failed", "The lock answered but did not move.")
        if isinstance(result, ProviderError):
            return result
        return ProviderError("device_communication_timeout",
                             "The lock did not report the new state in time.", retryable=True)

    # --- PINs ----------------------------------------------------------------------------

    def _pin_slots(self, entry: dict[str, Any]) -> int:
        if not mapping.online_codes(entry):
            raise ProviderError("access_codes_not_supported",
                                "This lock's PINs cannot be set and read back through "
                                "Zigbee2MQTT.")
        return mapping.managed_slots((entry.get("definition") or {}).get("model"))

    async def _ensure_expose_pin(self, conn: Z2MConnection, ieee: str) -> None:
        """Turn on the `expose_pin` device option so slot reads carry the digits (§7.8). The
        PINs lockhub sets cross the broker in `/set` anyway; without it a read-back could not
        tell which PIN a slot holds."""
        if conn.expose_pin(ieee):
            return
        answer = await conn.request("device/options",
                                    {"id": ieee, "options": {"expose_pin": True}})
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            raise ProviderError("device_communication_timeout",
                                "Zigbee2MQTT did not turn on PIN read-back (expose_pin).",
                                retryable=True)
        config = conn.info.setdefault("config", {})
        if isinstance(config, dict):
            devices = config.setdefault("devices", {})
            if isinstance(devices, dict):
                devices.setdefault(ieee, {})["expose_pin"] = True

    async def _read_slot(self, conn: Z2MConnection, entry: dict[str, Any], slot: int,
                         want: str | None = None) -> tuple[str, str | None]:
        """(status, pin) as the lock answers `/get {"pin_code": {"user": slot}}` (§3.4). Every
        state message carries the cached `users`, so with `want` the wait goes on until the
        slot shows that status or time is up, and the last answer counts."""
        fn = mapping.friendly_name(entry)
        key = str(slot)
        last: list[tuple[str, str | None]] = []

        def answer(rel: str, payload: Any) -> Any:
            if rel == fn and isinstance(payload, dict) and payload.get("action") is None:
                found = mapping.users(payload).get(slot)
                if found is not None and isinstance((payload.get("users") or {}).get(key), dict):
                    last.append(found)
                    if want is None or found[0] == want:
                        return found
                return None
            failure = mapping.command_failure(payload, fn, "get", "pin_code") \
                if rel == "bridge/logging" else None
            return ProviderError(mapping.failure_type(failure, "device_communication_timeout"),
                                 f"Zigbee2MQTT: {failure}") if failure else None

        with conn.expect(answer) as waiter:
            await conn.publish(f"{fn}/get", {"pin_code": {"user": slot}})
            result = await conn.result(waiter, self.command_timeout)
        if isinstance(result, ProviderError):
            raise result
        if result is None and last:
            result = last[-1]
        if result is None:
            raise ProviderError("device_communication_timeout",
                                "The lock did not answer a PIN read.", retryable=True)
        status, pin = result
        ieee = str(mapping.ieee(entry))
        conn.slots.setdefault(ieee, {})[slot] = (status, pin)
        self._dirty.get(ieee, set()).discard(slot)
        return status, pin

    async def _slot(self, conn: Z2MConnection, entry: dict[str, Any],
                    slot: int) -> tuple[str, str | None]:
        """A slot from what the lock last said, read again if it changed or was never read."""
        ieee = str(mapping.ieee(entry))
        known = conn.slots.get(ieee, {}).get(slot)
        if known is None or slot in self._dirty.get(ieee, set()) \
                or (known[0] != "available" and known[1] is None):
            return await self._read_slot(conn, entry, slot)
        return known

    def _pin(self, ieee: str, slot: int, status: str, pin: str | None) -> str | None:
        if status == "available":
            self._own_pins.pop((ieee, slot), None)
            return None
        return pin or self._own_pins.get((ieee, slot))

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        async with self._device(device) as (conn, entry):
            count = self._pin_slots(entry)
            ieee = device.provider_device_id
            await self._ensure_expose_pin(conn, ieee)
            codes = []
            for slot in range(1, count + 1):
                status, pin = await self._slot(conn, entry, slot)
                pin = self._pin(ieee, slot, status, pin)
                if pin:
                    codes.append(CodeOnDevice(code=pin, ref=str(slot)))
            return codes

    async def set_code(self, device: DeviceRef, code: CodeOnDevice,
                       replacing: CodeOnDevice | None = None) -> CodeOnDevice:
        async with self._device(device) as (conn, entry):
            count = self._pin_slots(entry)
            ieee = device.provider_device_id
            await self._ensure_expose_pin(conn, ieee)
            slot = None if code.ref is None else slot_number(code.ref)
            if slot is not None and not 1 <= slot <= count:
                raise ProviderError("failed_to_set_on_device",
                                    f"Slot {slot} is outside the lock's slots 1-{count}.")
            free = None
            for candidate in range(1, count + 1):
                status, pin = await self._slot(conn, entry, candidate)
                pin = self._pin(ieee, candidate, status, pin)
                if pin == code.code and candidate != slot:
                    raise ProviderError("duplicate_code_on_device",
                                        "The lock already holds this PIN.")
                if free is None and status == "available":
                    free = candidate
            if slot is None:
                if free is None:
                    raise ProviderError("no_space_for_access_code_on_device",
                                        "The lock has no free PIN slot.")
                slot = free
            await self._program(conn, entry, slot, code.code)
            status, stored = await self._read_slot(conn, entry, slot, want="enabled")
            if status != "enabled" or (stored is not None and stored != code.code):
                raise ProviderError("failed_to_set_on_device",
                                    "The lock did not store the PIN.", retryable=True)
            self._own_pins[(ieee, slot)] = code.code
            return CodeOnDevice(code=code.code, name=code.name, ref=str(slot))

    async def remove_code(self, device: DeviceRef, code: CodeOnDevice) -> None:
        slot = slot_number(code.ref)
        async with self._device(device) as (conn, entry):
            self._pin_slots(entry)
            await self._program(conn, entry, slot, None)
            status, _ = await self._read_slot(conn, entry, slot, want="available")
            if status != "available":
                raise ProviderError("failed_to_remove_from_device",
                                    "The lock still holds the PIN.", retryable=True)
            self._own_pins.pop((device.provider_device_id, slot), None)

    async def _program(self, conn: Z2MConnection, entry: dict[str, Any], slot: int,
                       pin: str | None) -> None:
        """Set or clear a slot (§3.3), then wait for the lock's programming event (or an error,
        or a short while: not every lock sends one) before it is read back."""
        fn = mapping.friendly_name(entry)
        action = "pin_code_added" if pin is not None else "pin_code_deleted"

        def outcome(rel: str, payload: Any) -> Any:
            if rel == fn and isinstance(payload, dict):
                event = mapping.programming_slot(payload)
                if event is not None and event[0] == action and event[1] == slot:
                    return "done"
                return None
            failure = mapping.command_failure(payload, fn, "set", "pin_code") \
                if rel == "bridge/logging" else None
            return ProviderError(mapping.failure_type(failure, "failed_to_set_on_device"
                                                      if pin is not None
                                                      else "failed_to_remove_from_device"),
                                 f"Zigbee2MQTT: {failure}") if failure else None

        value: dict[str, Any] = {"user": slot, "pin_code": pin}
        if pin is not None:
            value = {"user": slot, "user_type": "unrestricted", "user_enabled": True,
                     "pin_code": pin}
        self._own_commands[str(mapping.ieee(entry))] = time.monotonic()
        with conn.expect(outcome) as waiter:
            await conn.publish(f"{fn}/set", {"pin_code": value})
            result = await conn.result(waiter, self.programming_wait)
        if isinstance(result, ProviderError):
            raise result
