"""The zigbee2mqtt provider driven directly against a real broker and the simulated bridge."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from lockhub.providers.base import (
    AccessDeniedReport,
    AccountRef,
    CodeOnDevice,
    CodesChangedReport,
    ConnectionReport,
    DeviceListReport,
    DeviceRef,
    DeviceStateReport,
    LockOperationReport,
    ProviderError,
    Report,
)
from lockhub.providers.zigbee2mqtt import Zigbee2MQTTProvider, client
from tests.providers.zigbee2mqtt.bridge import Z2MBridge
from tests.providers.zigbee2mqtt.broker import MosquittoBroker
from tests.providers.zigbee2mqtt.conftest import BACK_DOOR, FRONT_DOOR

ACCOUNT = "acc_z2m"


def provider() -> Zigbee2MQTTProvider:
    return Zigbee2MQTTProvider(command_timeout=1.5, programming_wait=0.5, event_grace=0.3)


def form(broker: MosquittoBroker, **extra: Any) -> dict[str, Any]:
    return {"broker_url": f"mqtt://{broker.host}:{broker.port}", **extra}


def account(broker: MosquittoBroker) -> AccountRef:
    return AccountRef(workspace_id="ws", connected_account_id=ACCOUNT,
                      account_type="zigbee2mqtt",
                      credentials={"broker_url": f"mqtt://{broker.host}:{broker.port}",
                                   "username": "", "password": "", "base_topic": "zigbee2mqtt"})


def device(broker: MosquittoBroker, ieee: str = FRONT_DOOR) -> DeviceRef:
    return DeviceRef(workspace_id="ws", device_id="dev", provider_device_id=ieee,
                     brand="zigbee2mqtt", model="lock", credentials=account(broker).credentials,
                     connected_account_id=ACCOUNT)


class Live:
    """`maintain` running in a task, its reports collected for `wait_for`."""

    def __init__(self) -> None:
        self.reports: list[Report] = []
        self._arrived = asyncio.Condition()

    async def sink(self, report: Report) -> None:
        async with self._arrived:
            self.reports.append(report)
            self._arrived.notify_all()

    def mark(self) -> int:
        return len(self.reports)

    async def wait_for(self, match: Callable[[Report], bool], since: int = 0,
                       timeout: float = 5.0) -> Report:
        def find() -> Report | None:
            return next((r for r in self.reports[since:] if match(r)), None)

        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: find() is not None)
        found = find()
        assert found is not None
        return found


@contextlib.asynccontextmanager
async def live(p: Zigbee2MQTTProvider, broker: MosquittoBroker) -> AsyncIterator[
        tuple[Live, asyncio.Task[None]]]:
    watcher = Live()
    task = asyncio.create_task(p.maintain(account(broker), watcher.sink))
    try:
        await watcher.wait_for(lambda r: isinstance(r, DeviceListReport))
        yield watcher, task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def state_of(ieee: str) -> Callable[[Report], bool]:
    return lambda r: isinstance(r, DeviceStateReport) and r.snapshot.provider_device_id == ieee


# --- signing in ---------------------------------------------------------------------------

async def test_login_names_the_account_by_the_coordinator(z2m_bridge: Z2MBridge,
                                                          mqtt_broker: MosquittoBroker) -> None:
    login = await provider().login("ws", "zigbee2mqtt", form(mqtt_broker))
    assert login.account_login == "zigbee2mqtt:0x00124b0000c0ffee"
    assert login.user_identifier == {"api_url": f"mqtt://127.0.0.1:{mqtt_broker.port}"}
    assert login.credentials == {"broker_url": f"mqtt://127.0.0.1:{mqtt_broker.port}",
                                 "username": "", "password": "", "base_topic": "zigbee2mqtt"}


async def test_login_refuses_a_bad_url_an_unreachable_broker_and_a_missing_bridge(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    p = provider()
    for bad in ({"broker_url": "http://example.com"}, {"broker_url": ""},
                {"broker_url": "mqtt://127.0.0.1:1"}):
        with pytest.raises(ProviderError) as error:
            await p.login("ws", "zigbee2mqtt", bad)
        assert error.value.error_type == "invalid_credentials"
    with pytest.raises(ProviderError) as error:
        await p.login("ws", "zigbee2mqtt", form(mqtt_broker, base_topic="elsewhere"))
    assert error.value.error_type == "invalid_credentials"
    assert "no Zigbee2MQTT bridge" in error.value.message


async def test_login_with_broker_credentials() -> None:
    with MosquittoBroker(username="z2m", password="s3cret") as broker:
        bridge = Z2MBridge(broker.host, broker.port, username="z2m", password="s3cret")
        bridge.add_lock(FRONT_DOOR, "front_door", "YRD226HA2619")
        await bridge.start()
        try:
            p = provider()
            with pytest.raises(ProviderError) as error:
                await p.login("ws", "zigbee2mqtt", form(broker, username="z2m", password="no"))
            assert error.value.error_type == "invalid_credentials"
            assert "username or password" in error.value.message
            login = await p.login("ws", "zigbee2mqtt",
                                  form(broker, username="z2m", password="s3cret"))
            assert login.user_identifier["api_url"] == f"mqtt://z2m@127.0.0.1:{broker.port}"
            assert login.credentials["password"] == "s3cret"
        finally:
            await bridge.stop()


# --- devices --------------------------------------------------------------------------------

async def test_import_lists_locks_with_their_makers_and_facts(z2m_bridge: Z2MBridge,
                                                              mqtt_broker: MosquittoBroker) -> None:
    await z2m_bridge.join("0x000d6f0011aa0003", "66492-001", "kit")
    await z2m_bridge.join("0x000d6f0011aa0004", "Nimly", "nimly")
    snaps = {s.provider_device_id: s for s in
             await provider().import_devices(account(mqtt_broker))}
    assert set(snaps) == {FRONT_DOOR, BACK_DOOR, "0x000d6f0011aa0003", "0x000d6f0011aa0004"}
    yale, kwikset = snaps[FRONT_DOOR], snaps[BACK_DOOR]
    assert (yale.name, yale.manufacturer, yale.device_type) == ("front_door", "yale", "yale_lock")
    assert yale.locked is True and yale.online and yale.battery_level == 0.87
    assert yale.model_facts["display_name"] == "Yale YRD226HA2619 Assure lock"
    assert yale.model_facts["code_slots"] == 20 and yale.model_facts["auto_lock"] is True
    assert yale.model_facts["supported_code_lengths"] == [4, 5, 6, 7, 8]
    assert kwikset.locked is False and kwikset.manufacturer == "kwikset"
    kit = snaps["0x000d6f0011aa0003"].model_facts
    assert kit["online_access_codes"] is False and kit["code_slots"] == 0
    # Nimly: PINs are write-only (no read-back), so lockhub does not manage them.
    assert snaps["0x000d6f0011aa0004"].manufacturer == "nimly"
    assert snaps["0x000d6f0011aa0004"].model_facts["online_access_codes"] is False


async def test_unknown_vendor_and_door_sensor(z2m_bridge: Z2MBridge,
                                              mqtt_broker: MosquittoBroker) -> None:
    await z2m_bridge.join("0x000d6f0011aa0005", "0402946", "id_lock")
    snap = next(s for s in await provider().import_devices(account(mqtt_broker))
                if s.provider_device_id == "0x000d6f0011aa0005")
    assert snap.manufacturer == "id_lock" and snap.door_open is False
    assert snap.model_facts["door_sensor"] is True
    assert snap.model_facts["supported_code_lengths"][-1] == 10


# --- lock and unlock ------------------------------------------------------------------------

async def test_unlock_and_lock_are_confirmed_by_the_locks_report(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    p = provider()
    snap = await p.unlock(device(mqtt_broker))
    assert snap.locked is False and z2m_bridge.device(FRONT_DOOR).lock_state == 2
    snap = await p.lock(device(mqtt_broker))
    assert snap.locked is True


async def test_lock_failures_are_typed(z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    p = provider()

    async def error_of(ieee: str) -> str:
        with pytest.raises(ProviderError) as error:
            await p.unlock(device(mqtt_broker, ieee))
        return error.value.error_type

    z2m_bridge.set_silent(FRONT_DOOR)
    assert await error_of(FRONT_DOOR) == "device_communication_timeout"
    z2m_bridge.set_silent(FRONT_DOOR, False)
    z2m_bridge.set_refuse(FRONT_DOOR)
    assert await error_of(FRONT_DOOR) == "lock_operation_failed"
    z2m_bridge.set_refuse(FRONT_DOOR, False)
    z2m_bridge.set_jammed(FRONT_DOOR)
    assert await error_of(FRONT_DOOR) == "lock_jammed"
    await z2m_bridge.set_offline(BACK_DOOR)
    assert await error_of(BACK_DOOR) == "device_offline"
    assert await error_of("0x0000000000000bad") == "device_removed"


async def test_delivery_failure_is_device_offline(mqtt_broker: MosquittoBroker) -> None:
    bridge = Z2MBridge(mqtt_broker.host, mqtt_broker.port, availability=False)
    bridge.add_lock(FRONT_DOOR, "front_door", "YRD226HA2619")
    await bridge.start()
    try:
        await bridge.set_offline(FRONT_DOOR)  # no availability message: only the log says it
        with pytest.raises(ProviderError) as error:
            await provider().lock(device(mqtt_broker))
        assert error.value.error_type == "device_offline"
    finally:
        await bridge.stop()
        await bridge.clear_retained()


# --- PINs -----------------------------------------------------------------------------------

async def test_pins_are_set_listed_and_removed_by_reading_slots_back(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    p = provider()
    ref = device(mqtt_broker, BACK_DOOR)
    placed = await p.set_code(ref, CodeOnDevice(code="0123"))
    assert placed.ref == "1" and z2m_bridge.codes(BACK_DOOR)[1].pin == "0123"
    assert z2m_bridge.device(BACK_DOOR).options["expose_pin"] is True
    await p.set_code(ref, CodeOnDevice(code="555666", ref="4"))
    assert [(c.ref, c.code) for c in await p.list_codes(ref)] == [("1", "0123"), ("4", "555666")]
    with pytest.raises(ProviderError) as error:
        await p.set_code(ref, CodeOnDevice(code="0123"))
    assert error.value.error_type == "duplicate_code_on_device"
    await p.remove_code(ref, placed)
    assert 1 not in z2m_bridge.codes(BACK_DOOR)
    # A fresh provider (another process) reads the slots from the lock.
    assert [(c.ref, c.code) for c in await provider().list_codes(ref)] == [("4", "555666")]


async def test_a_pin_the_lock_rejects_fails_and_a_pinless_lock_refuses(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    p = provider()
    with pytest.raises(ProviderError) as error:
        await p.set_code(device(mqtt_broker), CodeOnDevice(code="12", ref="2"))  # too short
    assert error.value.error_type == "failed_to_set_on_device"
    await z2m_bridge.join("0x000d6f0011aa0003", "66492-001", "kit")
    with pytest.raises(ProviderError) as error:
        await p.set_code(device(mqtt_broker, "0x000d6f0011aa0003"), CodeOnDevice(code="1234"))
    assert error.value.error_type == "access_codes_not_supported"


async def test_a_reference_that_is_no_slot_number_is_refused(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    p = provider()
    ref = device(mqtt_broker, BACK_DOOR)
    for bad in ("front", "-1", "1.0", " 2"):
        with pytest.raises(ProviderError) as error:
            await p.set_code(ref, CodeOnDevice(code="0123", ref=bad))
        assert error.value.error_type == "invalid_code_reference"
        with pytest.raises(ProviderError) as error:
            await p.remove_code(ref, CodeOnDevice(code="0123", ref=bad))
        assert error.value.error_type == "invalid_code_reference"
    assert z2m_bridge.codes(BACK_DOOR) == {}


# --- the live connection --------------------------------------------------------------------

async def test_live_reports_keypad_manual_auto_denied_and_codes(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    p = provider()
    async with live(p, mqtt_broker) as (watcher, _):
        listed = next(r for r in watcher.reports if isinstance(r, DeviceListReport))
        assert {s.provider_device_id for s in listed.devices} == {FRONT_DOOR, BACK_DOOR}
        assert isinstance(watcher.reports[0], ConnectionReport) and watcher.reports[0].connected
        assert p.holds(ACCOUNT)
        await watcher.wait_for(lambda r: state_of(FRONT_DOOR)(r) and r.snapshot.locked is True)

        mark = watcher.mark()
        await z2m_bridge.keypad_unlock(FRONT_DOOR, 3)
        op = await watcher.wait_for(lambda r: isinstance(r, LockOperationReport), mark)
        assert (op.locked, op.method, op.code_ref) == (False, "keycode", "3")
        await watcher.wait_for(lambda r: state_of(FRONT_DOOR)(r) and r.snapshot.locked is False,
                               mark)

        mark = watcher.mark()
        await z2m_bridge.manual_lock(FRONT_DOOR)
        op = await watcher.wait_for(lambda r: isinstance(r, LockOperationReport), mark)
        assert (op.locked, op.method, op.code_ref) == (True, "manual", None)

        mark = watcher.mark()
        await z2m_bridge.auto_lock(BACK_DOOR)
        op = await watcher.wait_for(lambda r: isinstance(r, LockOperationReport), mark)
        assert (op.provider_device_id, op.locked, op.method) == (BACK_DOOR, True, "automatic")

        mark = watcher.mark()
        await z2m_bridge.enter_code(FRONT_DOOR, "9999")
        denied = await watcher.wait_for(lambda r: isinstance(r, AccessDeniedReport), mark)
        assert denied.provider_device_id == FRONT_DOOR and denied.code_ref is None

        mark = watcher.mark()
        await z2m_bridge.set_code_at_lock(FRONT_DOOR, 7, "4321")
        await watcher.wait_for(lambda r: isinstance(r, CodesChangedReport), mark)


async def test_own_command_is_not_reported_as_a_remote_operation(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    p = provider()
    async with live(p, mqtt_broker) as (watcher, _):
        await watcher.wait_for(state_of(FRONT_DOOR))
        mark = watcher.mark()
        await p.unlock(device(mqtt_broker))  # goes over the held connection
        await watcher.wait_for(lambda r: state_of(FRONT_DOOR)(r) and r.snapshot.locked is False,
                               mark)
        await z2m_bridge.rf_lock(BACK_DOOR)  # another controller: reported as remote
        op = await watcher.wait_for(lambda r: isinstance(r, LockOperationReport), mark)
        assert (op.provider_device_id, op.method) == (BACK_DOOR, "remote")


async def test_jam_battery_and_availability_are_state_reports(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    async with live(provider(), mqtt_broker) as (watcher, _):
        await watcher.wait_for(state_of(FRONT_DOOR))
        mark = watcher.mark()
        await z2m_bridge.jam(FRONT_DOOR)
        jam = await watcher.wait_for(state_of(FRONT_DOOR), mark)
        assert jam.snapshot.jammed is True
        mark = watcher.mark()
        await z2m_bridge.battery(FRONT_DOOR, 12)
        low = await watcher.wait_for(state_of(FRONT_DOOR), mark)
        assert low.snapshot.battery_level == 0.12
        mark = watcher.mark()
        await z2m_bridge.set_offline(BACK_DOOR)
        off = await watcher.wait_for(state_of(BACK_DOOR), mark)
        assert off.snapshot.online is False
        mark = watcher.mark()
        await z2m_bridge.stop()  # bridge offline: every lock offline
        await watcher.wait_for(lambda r: state_of(FRONT_DOOR)(r) and not r.snapshot.online, mark)


async def test_lock_state_change_without_event_is_reported_as_unknown(
        mqtt_broker: MosquittoBroker) -> None:
    bridge = Z2MBridge(mqtt_broker.host, mqtt_broker.port)
    bridge.add_lock(FRONT_DOOR, "front_door", "YRD226HA2619", operation_events=False)
    await bridge.start()
    try:
        async with live(provider(), mqtt_broker) as (watcher, _):
            await watcher.wait_for(state_of(FRONT_DOOR))
            mark = watcher.mark()
            await bridge.manual_unlock(FRONT_DOOR)
            op = await watcher.wait_for(lambda r: isinstance(r, LockOperationReport), mark)
            assert (op.locked, op.method) == (False, "unknown")
    finally:
        await bridge.stop()
        await bridge.clear_retained()


async def test_rename_join_and_leave_are_device_lists(z2m_bridge: Z2MBridge,
                                                      mqtt_broker: MosquittoBroker,
                                                      mqtt_watch: Any) -> None:
    async with live(provider(), mqtt_broker) as (watcher, _):
        def listing(r: Report) -> bool:
            return isinstance(r, DeviceListReport)

        mark = watcher.mark()
        await mqtt_watch.publish("zigbee2mqtt/bridge/request/device/rename",
                                 {"from": "front_door", "to": "hall/front"})
        renamed = await watcher.wait_for(
            lambda r: listing(r) and any(s.name == "hall/front" for s in r.devices), mark)
        assert {s.provider_device_id for s in renamed.devices} == {FRONT_DOOR, BACK_DOOR}
        mark = watcher.mark()
        await z2m_bridge.keypad_unlock(FRONT_DOOR, 2)  # the state topic follows the new name
        op = await watcher.wait_for(lambda r: isinstance(r, LockOperationReport), mark)
        assert (op.provider_device_id, op.code_ref) == (FRONT_DOOR, "2")

        mark = watcher.mark()
        await z2m_bridge.join("0x000d6f0011aa0009", "V3-BTZB/V3-BTZBE", "garage")
        joined = await watcher.wait_for(
            lambda r: listing(r) and len(r.devices) == 3, mark)
        assert joined.devices[-1].manufacturer == "danalock"
        mark = watcher.mark()
        await z2m_bridge.leave(BACK_DOOR)
        left = await watcher.wait_for(lambda r: listing(r) and len(r.devices) == 2, mark)
        assert BACK_DOOR not in {s.provider_device_id for s in left.devices}


async def test_broker_restart_ends_maintain_and_it_connects_again(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker) -> None:
    p = provider()
    watcher = Live()
    task = asyncio.create_task(p.maintain(account(mqtt_broker), watcher.sink))
    try:
        await watcher.wait_for(lambda r: isinstance(r, DeviceListReport))
        mqtt_broker.stop()
        with pytest.raises(ProviderError) as error:
            await asyncio.wait_for(task, 10)
        assert error.value.error_type == "account_disconnected"
        assert not p.holds(ACCOUNT)
    finally:
        mqtt_broker.start()
    watcher = Live()
    task = asyncio.create_task(p.maintain(account(mqtt_broker), watcher.sink))
    try:
        # The broker lost its retained messages; the bridge republishes them.
        listed = await watcher.wait_for(lambda r: isinstance(r, DeviceListReport), timeout=10)
        assert {s.provider_device_id for s in listed.devices} == {FRONT_DOOR, BACK_DOOR}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_broker_that_stops_answering_ends_maintain(
        z2m_bridge: Z2MBridge, mqtt_broker: MosquittoBroker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection the client hears nothing more on (broker frozen, host gone, or a socket
    the event loop stopped watching) must still end `maintain`, or the account never shows
    account_disconnected and its locks keep the last state they were given."""
    monkeypatch.setattr(client, "KEEPALIVE_SECONDS", 1, raising=False)
    p = provider()
    async with live(p, mqtt_broker) as (_, task):
        with mqtt_broker.frozen(), pytest.raises(ProviderError) as error:
            await asyncio.wait_for(task, 10)
        assert error.value.error_type == "account_disconnected"
        assert not p.holds(ACCOUNT)


async def test_malformed_payloads_are_ignored(z2m_bridge: Z2MBridge,
                                              mqtt_broker: MosquittoBroker) -> None:
    async with live(provider(), mqtt_broker) as (watcher, task):
        await watcher.wait_for(state_of(FRONT_DOOR))
        for topic, payload in (("front_door", "{not json"), ("front_door", "[1,2]"),
                               ("bridge/devices", "nope"), ("bridge/state", "???"),
                               ("front_door", '{"action":null,"action_user":"x",'
                                              '"users":{"a":1,"2":{"pin_code":{}}}}'),
                               ("front_door", '{"action":"unlock","action_source_name":"laser"}'),
                               ("back_door/availability", "{}"), ("bridge/logging", "[]")):
            await z2m_bridge.publish_raw(topic, payload)
        mark = watcher.mark()
        await z2m_bridge.keypad_unlock(FRONT_DOOR, 5)
        op = await watcher.wait_for(lambda r: isinstance(r, LockOperationReport), mark)
        assert op.code_ref == "5" and not task.done()
