"""Z-Wave locks and thermostats through a Z-Wave JS server (Z-Wave JS UI, Home Assistant's
add-on, zwave-server).

A connected account is one Z-Wave network (its home id), reached at a WebSocket URL. Every node
with the Door Lock CC is a lock; every other node with Thermostat Mode or Thermostat Setpoint is a
thermostat. The engine keeps one live connection per account
(`maintain`); commands from the process that holds it go over it, and a process that does not
opens a short connection of its own. A command counts as done when the lock reports it: after a
Door Lock set, lockhub asks the lock for its mode (Door Lock Get) until it matches, and after a
User Code set or clear it reads the slot back with User Code Get, never the driver's cached value
(which is updated only by the driver's own later poll). A thermostat's new settings are read
back the same way (Thermostat Setpoint / Mode / Fan Mode Get).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from zwave_js_server.exceptions import BaseZwaveJSServerError

from lockhub.providers.base import (
    AccountLogin,
    AccountRef,
    ClimateAdjustedReport,
    ClimateCommand,
    CodeOnDevice,
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
from lockhub.providers.zwave_js import mapping
from lockhub.providers.zwave_js.client import ZWaveConnection, check_url, connected, node_dict

# How long a lock may take to report that it moved, or a slot to read back.
COMMAND_TIMEOUT_SECONDS = 20.0
# An RF lock/unlock notification this soon after lockhub's own command is that command's echo.
OWN_COMMAND_ECHO_SECONDS = 10.0
CONFIRM_POLL_SECONDS = 0.5
# A thermostat applies a Set at once (mains powered): one that still answers its old setting
# this long after the Set did not take it.
CLIMATE_REFUSAL_SECONDS = 5.0
OCCUPIED = {1, 2, 3, 4}  # User ID status: enabled, disabled, messaging, passage mode
# Z-Wave JS notices a dead node come back only when it hears from it: ping dead locks this often.
DEAD_PING_SECONDS = float(os.environ.get("LOCKHUB_ZWAVE_DEAD_PING_SECONDS", "60"))
NODE_EVENTS = ("value updated", "value added", "value notification", "notification", "dead",
               "alive", "ready", "wake up", "sleep", "interview completed")


class ZWaveJSProvider:
    name = "zwave_js"
    sandbox = False

    def __init__(self, command_timeout: float = COMMAND_TIMEOUT_SECONDS) -> None:
        self.command_timeout = command_timeout
        self.live: dict[str, ZWaveConnection] = {}
        self._own_commands: dict[str, float] = {}
        # The thermostat settings lockhub last wrote (value id: value, when), to tell their
        # echo from a change made at the thermostat.
        self._own_writes: dict[str, dict[str, tuple[Any, float]]] = {}
        self._jammed: set[str] = set()
        self._seen: set[str] = set()
        self._dirty_slots: dict[str, set[int] | None] = {}  # None: every slot

    def account_types(self) -> list[str]:
        return ["zwave_js"]

    def holds(self, connected_account_id: str) -> bool:
        return connected_account_id in self.live

    # --- signing in and importing --------------------------------------------------------

    async def login(self, workspace_id: str, account_type: str,
                    form: dict[str, Any]) -> AccountLogin:
        """Try the server before saying yes; the network's home id names the account."""
        try:
            url = check_url(str(form.get("url", "")))
            async with connected(url) as connection:
                home_id = connection.home_id
        except ProviderError as exc:
            raise ProviderError("invalid_credentials", exc.message) from exc
        return AccountLogin(account_login=f"zwave_js:{home_id:08x}",
                            user_identifier={"api_url": url}, credentials={"url": url})

    async def import_devices(self, account: AccountRef) -> list[DeviceSnapshot]:
        async with self._connection(account.connected_account_id, account.credentials) as conn:
            return self._devices(conn)

    def _devices(self, conn: ZWaveConnection) -> list[DeviceSnapshot]:
        """Locks and thermostats, in node order."""
        return [self._snapshot(conn, node) for node_id, node in sorted(conn.nodes.items())
                if _is_device(node_dict(node))]

    def _snapshot(self, conn: ZWaveConnection, node: Any) -> DeviceSnapshot:
        data = node_dict(node)
        if mapping.is_thermostat(data):
            return mapping.thermostat_snapshot(conn.home_id, data)
        snap = mapping.snapshot(conn.home_id, data)
        pdid = snap.provider_device_id
        # The "Lock state" value stays at "jammed" until the lock reports idle, which many
        # never do: after the first sight, a jam is what the lock reported since (a jam
        # notification or value change) and ends when the bolt is seen to move.
        if pdid not in self._seen:
            self._seen.add(pdid)
            if snap.jammed:
                self._jammed.add(pdid)
        return msgspec.structs.replace(snap, jammed=pdid in self._jammed)

    @contextlib.asynccontextmanager
    async def _connection(self, account_id: str,
                          credentials: dict[str, Any]) -> AsyncIterator[ZWaveConnection]:
        live = self.live.get(account_id)
        if live is not None and not live.closed.done():
            yield live
            return
        async with connected(check_url(str(credentials.get("url", "")))) as conn:
            yield conn

    # --- the live connection ---------------------------------------------------------------

    async def maintain(self, account: AccountRef, sink: ReportSink) -> None:
        conn = ZWaveConnection(check_url(str(account.credentials.get("url", ""))))
        await conn.open()
        queue: asyncio.Queue[tuple[str, Any, dict[str, Any]]] = asyncio.Queue()
        unsubscribe: list[Any] = []

        def watch(node: Any) -> None:
            for event in NODE_EVENTS:
                unsubscribe.append(node.on(event, lambda data, e=event, n=node:
                                           queue.put_nowait((e, n, data))))

        try:
            self.live[account.connected_account_id] = conn
            for node in conn.nodes.values():
                watch(node)
            controller = conn.client.driver.controller  # type: ignore[union-attr]
            for event in ("node added", "node removed"):
                unsubscribe.append(controller.on(event, lambda data, e=event:
                                                 queue.put_nowait((e, data["node"], data))))
            await sink(ConnectionReport(connected=True))
            await sink(DeviceListReport(devices=self._devices(conn)))
            next_ping = time.monotonic() + DEAD_PING_SECONDS
            while True:
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, conn.closed},
                                             timeout=max(0.0, next_ping - time.monotonic()),
                                             return_when=asyncio.FIRST_COMPLETED)
                if conn.closed in done:
                    getter.cancel()
                    raise ProviderError("account_disconnected",
                                        "The Z-Wave JS server closed the connection.")
                if getter not in done:
                    getter.cancel()
                    await self._ping_dead_locks(conn)
                    next_ping = time.monotonic() + DEAD_PING_SECONDS
                    continue
                event, node, data = getter.result()
                if event == "node added":
                    watch(node)
                for report in self._reports(conn, event, node, data):
                    await sink(report)
        finally:
            if self.live.get(account.connected_account_id) is conn:
                del self.live[account.connected_account_id]
            for stop in unsubscribe:
                stop()
            await conn.close()

    async def _ping_dead_locks(self, conn: ZWaveConnection) -> None:
        """A ping that gets through makes the driver mark the node alive (an `alive` event).
        Dead thermostats are pinged too."""
        for node in conn.nodes.values():
            if node.status == 3 and _is_device(node_dict(node)):
                async with conn.commands:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(node.async_ping(), self.command_timeout)

    def _reports(self, conn: ZWaveConnection, event: str, node: Any,
                 data: dict[str, Any]) -> list[Report]:
        if event in ("node added", "node removed") or (event == "ready"
                                                       and _is_device(node_dict(node))):
            return [DeviceListReport(devices=self._devices(conn))]
        data_of_node = node_dict(node)
        if mapping.is_thermostat(data_of_node):
            return self._thermostat_reports(conn, event, node, data)
        if not mapping.is_lock(data_of_node):
            return []
        pdid = mapping.provider_device_id(conn.home_id, node.node_id)
        reports: list[Report] = []
        notification = data.get("notification")
        if event == "notification" and getattr(notification, "type_", None) \
                == mapping.ACCESS_CONTROL:
            report, jammed = mapping.notification_report(pdid, notification.event,
                                                         notification.parameters or {})
            if jammed:
                self._jammed.add(pdid)
            elif jammed is False:
                self._jammed.discard(pdid)
            if isinstance(report, LockOperationReport):
                self._jammed.discard(pdid)
            if notification.event in (12, 13, 14):
                user = (notification.parameters or {}).get("userId")
                self._mark_dirty(pdid, user if isinstance(user, int) else None)
            if isinstance(report, LockOperationReport) and report.method == "remote" \
                    and self._own_command_recent(pdid):
                report = None
            if report is not None:
                reports.append(report)
        elif event == "value updated":
            value = data.get("value")
            if getattr(value, "command_class", None) == mapping.NOTIFICATION \
                    and getattr(value, "property_key", None) == "Lock state":
                if value.value == mapping.LOCK_STATE_JAMMED:
                    self._jammed.add(pdid)
                else:
                    self._jammed.discard(pdid)
        snapshot = self._snapshot(conn, node)
        if conn.reported.get(pdid) != snapshot:
            conn.reported[pdid] = snapshot
            reports.append(DeviceStateReport(snapshot=snapshot))
        return reports

    def _thermostat_reports(self, conn: ZWaveConnection, event: str, node: Any,
                            data: dict[str, Any]) -> list[Report]:
        """Any change of a thermostat (a reading, what its HVAC runs, its settings) is its
        whole new state. A settings change (`mapping.adjusted_setting`) that is not the echo
        of lockhub's own write (the value it wrote, within the echo window) was made at the
        thermostat: after the state report carrying the new settings comes a
        ClimateAdjustedReport (one per changed value: a person setting mode and set point at
        once makes two)."""
        pdid = mapping.provider_device_id(conn.home_id, node.node_id)
        snapshot = self._snapshot(conn, node)
        reports: list[Report] = []
        if conn.reported.get(pdid) != snapshot:
            conn.reported[pdid] = snapshot
            reports.append(DeviceStateReport(snapshot=snapshot))
        value, args = data.get("value"), data.get("args") or {}
        if event == "value updated" and mapping.adjusted_setting(value) \
                and args.get("prevValue") != args.get("newValue") \
                and not self._own_echo(pdid, getattr(value, "value_id", ""), args.get("newValue")):
            reports.append(ClimateAdjustedReport(provider_device_id=pdid))
        return reports

    def _own_echo(self, pdid: str, value_id: str, new: Any) -> bool:
        """The value is one lockhub just wrote (its own command coming back)."""
        written = self._own_writes.get(pdid, {}).get(value_id)
        return written is not None and written[0] == new \
            and time.monotonic() - written[1] < OWN_COMMAND_ECHO_SECONDS

    def _own_command_recent(self, pdid: str) -> bool:
        return time.monotonic() - self._own_commands.get(pdid, -1e9) < OWN_COMMAND_ECHO_SECONDS

    def _mark_dirty(self, pdid: str, slot: int | None) -> None:
        if slot is None:
            self._dirty_slots[pdid] = None
            return
        current = self._dirty_slots.setdefault(pdid, set())
        if current is not None:
            current.add(slot)

    # --- commands ------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _node(self, device: DeviceRef,
                    what: str = "lock") -> AsyncIterator[tuple[ZWaveConnection, Any]]:
        try:
            async with self._connection(device.connected_account_id,
                                        device.credentials) as conn:
                node = conn.nodes.get(mapping.node_id_of(device.provider_device_id))
                if node is None:
                    raise ProviderError("device_removed",
                                        f"The {what} is no longer in the Z-Wave network.")
                if node.status == 3:
                    raise ProviderError("device_offline",
                                        f"The {what} does not answer (Z-Wave JS marks it dead).")
                async with conn.commands:
                    yield conn, node
        except BaseZwaveJSServerError as exc:
            raise ProviderError("device_communication_timeout",
                                f"The {what} did not answer: {exc}", retryable=True) from exc

    async def read_state(self, device: DeviceRef) -> DeviceSnapshot:
        async with self._connection(device.connected_account_id, device.credentials) as conn:
            node = conn.nodes.get(mapping.node_id_of(device.provider_device_id))
            if node is None:
                raise ProviderError("device_removed",
                                    "The lock is no longer in the Z-Wave network.")
            return self._snapshot(conn, node)

    async def lock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=True)

    async def unlock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._move(device, locked=False)

    async def _move(self, device: DeviceRef, *, locked: bool) -> DeviceSnapshot:
        """Door Lock Set, then Door Lock Get until the lock reports the new mode."""
        target = mapping.SECURED if locked else 0
        deadline = time.monotonic() + self.command_timeout
        async with self._node(device) as (conn, node):
            self._own_commands[device.provider_device_id] = time.monotonic()
            try:
                result = await asyncio.wait_for(node.async_set_value(
                    f"{node.node_id}-{int(mapping.DOOR_LOCK)}-0-targetMode", target,
                    wait_for_result=True), self.command_timeout)
            except TimeoutError as exc:
                raise await self._silent(node) from exc
            except BaseZwaveJSServerError as exc:
                raise await self._silent(node, str(exc)) from exc
            if result is not None and int(result.status) in (0, 2, 3, 4, 5):
                raise ProviderError("lock_operation_failed",
                                    f"The lock refused the command ({result.status.name}).")
            answered = False
            while time.monotonic() < deadline:
                try:
                    state = await asyncio.wait_for(node.async_invoke_cc_api(
                        mapping.DOOR_LOCK, "get", wait_for_result=True),
                        max(0.1, deadline - time.monotonic()))
                except (TimeoutError, BaseZwaveJSServerError):
                    state = None
                if node.status == 3:
                    raise ProviderError("device_offline",
                                        "The lock stopped answering (Z-Wave JS marks it dead).")
                if isinstance(state, dict):
                    answered = True
                    if state.get("currentMode") == target:
                        self._jammed.discard(device.provider_device_id)
                        self._own_commands[device.provider_device_id] = time.monotonic()
                        return self._snapshot(conn, node)
                if device.provider_device_id in self._jammed:
                    raise ProviderError("lock_jammed", "The lock is jammed.")
                await asyncio.sleep(CONFIRM_POLL_SECONDS)
            if answered:
                raise ProviderError("lock_operation_failed",
                                    "The lock answered but did not move.")
            raise await self._silent(node)

    async def _silent(self, node: Any, detail: str = "", what: str = "lock") -> ProviderError:
        """Why the device did not answer: dead (a ping the driver cannot deliver also marks it
        dead) or merely slow."""
        if node.status != 3:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(node.async_ping(), self.command_timeout)
        if node.status == 3:
            return ProviderError("device_offline",
                                 f"The {what} stopped answering (Z-Wave JS marks it dead).")
        return ProviderError("device_communication_timeout",
                             f"The {what} did not report the new state in time."
                             + (f" ({detail})" if detail else ""))

    # --- thermostats ---------------------------------------------------------------------

    async def set_climate(self, device: DeviceRef, command: ClimateCommand) -> DeviceSnapshot:
        """Set points, then mode, then fan mode (each a Set the node must take), then each read
        back from the thermostat (Get) until it holds the new settings."""
        pdid = device.provider_device_id
        deadline = time.monotonic() + self.command_timeout
        async with self._node(device, "thermostat") as (conn, node):
            try:
                writes = mapping.climate_writes(node_dict(node), command)
            except ValueError as exc:
                raise ProviderError("device_cannot_perform_action", str(exc)) from exc
            self._own_commands[pdid] = time.monotonic()
            for write in writes:
                self._own_writes.setdefault(pdid, {})[write.value_id] = (write.target,
                                                                         time.monotonic())
                try:
                    result = await asyncio.wait_for(node.async_set_value(
                        write.value_id, write.target, wait_for_result=True),
                        max(0.1, deadline - time.monotonic()))
                except TimeoutError as exc:
                    raise await self._silent(node, what="thermostat") from exc
                except BaseZwaveJSServerError as exc:
                    raise await self._silent(node, str(exc), what="thermostat") from exc
                if result is not None and int(result.status) in (0, 2, 3, 4, 5):
                    raise ProviderError(
                        "device_cannot_perform_action",
                        f"The thermostat refused the {write.what} ({result.status.name}).")
            await self._confirm_climate(node, writes, deadline)
            self._own_commands[pdid] = time.monotonic()
            return self._snapshot(conn, node)

    async def _confirm_climate(self, node: Any, writes: list[mapping.ClimateWrite],
                               deadline: float) -> None:
        pending = list(writes)
        first_answer: float | None = None
        while pending:
            for write in list(pending):
                try:
                    answer = await asyncio.wait_for(node.async_invoke_cc_api(
                        write.command_class, "get", *write.get_args, wait_for_result=True),
                        max(0.1, deadline - time.monotonic()))
                except (TimeoutError, BaseZwaveJSServerError):
                    answer = None
                if node.status == 3:
                    raise ProviderError(
                        "device_offline",
                        "The thermostat stopped answering (Z-Wave JS marks it dead).")
                if isinstance(answer, dict):
                    first_answer = first_answer or time.monotonic()
                    got = answer.get(write.answer_key)
                    if isinstance(got, int | float) and abs(got - write.target) < 0.01:
                        pending.remove(write)
            if not pending:
                return
            now = time.monotonic()
            if first_answer is not None and now - first_answer >= CLIMATE_REFUSAL_SECONDS:
                raise ProviderError(
                    "device_cannot_perform_action",
                    f"The thermostat kept its {pending[0].what} (it did not take the change).")
            if now >= deadline:
                raise await self._silent(node, what="thermostat")
            await asyncio.sleep(CONFIRM_POLL_SECONDS)

    # --- PINs ----------------------------------------------------------------------------

    async def _read_slot(self, node: Any, slot: int) -> tuple[int, str | None]:
        """(User ID status, code) as the lock answers a User Code Get."""
        try:
            answer = await asyncio.wait_for(node.async_invoke_cc_api(
                mapping.USER_CODE, "get", slot, wait_for_result=True), self.command_timeout)
        except TimeoutError as exc:
            raise ProviderError("device_communication_timeout",
                                "The lock did not answer a PIN read.", retryable=True) from exc
        if not isinstance(answer, dict):
            raise ProviderError("device_communication_timeout",
                                "The lock did not answer a PIN read.", retryable=True)
        code = answer.get("userCode")
        return int(answer.get("userIdStatus") or 0), code if isinstance(code, str) else None

    async def _write_slot(self, device: DeviceRef, node: Any, slot: int, operation: str,
                          *args: Any) -> tuple[int, str | None]:
        """User Code set/clear, then the slot as the lock answers a User Code Get."""
        try:
            await asyncio.wait_for(node.async_invoke_cc_api(
                mapping.USER_CODE, operation, slot, *args), self.command_timeout)
        except TimeoutError as exc:
            raise ProviderError("device_communication_timeout",
                                f"The lock did not {operation} the PIN in time.",
                                retryable=True) from exc
        answer = await self._read_slot(node, slot)
        # The driver's cache catches up only with its own later poll: read this slot from the
        # lock again at the next listing.
        self._mark_dirty(device.provider_device_id, slot)
        return answer

    def _cached_slots(self, node: Any) -> dict[int, tuple[int | None, str | None]]:
        slots: dict[int, tuple[int | None, str | None]] = {}
        for value in node.values.values():
            if value.command_class != mapping.USER_CODE or value.endpoint not in (0, None):
                continue
            if not isinstance(value.property_key, int):
                continue
            status, code = slots.get(value.property_key, (None, None))
            if value.property_name == "userIdStatus":
                status = value.value
            elif value.property_name == "userCode":
                code = value.value if isinstance(value.value, str) else None
            slots[value.property_key] = (status, code)
        return slots

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        """The lock's PINs: slots the lock said changed (and any never read) are read from the
        lock itself; the rest from what the lock last reported."""
        async with self._node(device) as (_, node):
            count = mapping.slot_count(node_dict(node))
            cached = self._cached_slots(node)
            dirty = self._dirty_slots.pop(device.provider_device_id, set())
            codes = []
            for slot in range(1, count + 1):
                status, code = cached.get(slot, (None, None))
                if dirty is None or slot in dirty or status is None \
                        or (status in OCCUPIED and code is None):
                    status, code = await self._read_slot(node, slot)
                if status in OCCUPIED and code:
                    codes.append(CodeOnDevice(code=code, ref=str(slot)))
            return codes

    async def set_code(self, device: DeviceRef, code: CodeOnDevice,
                       replacing: CodeOnDevice | None = None) -> CodeOnDevice:
        async with self._node(device) as (_, node):
            count = mapping.slot_count(node_dict(node))
            cached = self._cached_slots(node)
            wanted = None if code.ref is None else slot_number(code.ref)
            if any(pin == code.code and slot != wanted and status in OCCUPIED
                   for slot, (status, pin) in cached.items()):
                raise ProviderError("duplicate_code_on_device", "The lock already holds this PIN.")
            slot = wanted
            if slot is None:
                for candidate in range(1, count + 1):
                    if cached.get(candidate, (None, None))[0] in OCCUPIED:
                        continue
                    status, _ = await self._read_slot(node, candidate)
                    if status not in OCCUPIED:
                        slot = candidate
                        break
                if slot is None:
                    raise ProviderError("no_space_for_access_code_on_device",
                                        "The lock has no free PIN slot.")
            status, stored = await self._write_slot(device, node, slot, "set", 1, code.code)
            if status not in OCCUPIED or stored != code.code:
                raise ProviderError("failed_to_set_on_device",
                                    "The lock did not store the PIN.", retryable=True)
            return CodeOnDevice(code=code.code, ref=str(slot))

    async def remove_code(self, device: DeviceRef, code: CodeOnDevice) -> None:
        slot = slot_number(code.ref)
        async with self._node(device) as (_, node):
            status, _ = await self._write_slot(device, node, slot, "clear")
            if status in OCCUPIED:
                raise ProviderError("failed_to_remove_from_device",
                                    "The lock still holds the PIN.", retryable=True)


def _is_device(node_data: dict[str, Any]) -> bool:
    return mapping.is_lock(node_data) or mapping.is_thermostat(node_data)
