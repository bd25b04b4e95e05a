"""Real Zigbee locks behind the Seam API: the official SDK against a lockhub server whose
production workspace is connected, through a Connect Webview, to a real mosquitto broker and a
Zigbee2MQTT bridge simulator (tests/providers/zigbee2mqtt/bridge.py, written from Z2M's MQTT
contract). The bridge runs on an event loop of its own, in a thread, as a real bridge runs in
its own process; the lock's side (keypad, thumb-turn, battery, going offline) is driven on it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from seam import Seam
from seam.exceptions import SeamActionAttemptFailedError

from tests.conformance.helpers import wait_until
from tests.providers.webview import events_of, lock_named, production_seam
from tests.providers.webview import submit as submit_form
from tests.providers.zigbee2mqtt.bridge import Z2MBridge
from tests.providers.zigbee2mqtt.broker import MosquittoBroker
from tests.server import LockhubServer, start_server

YALE = "0x000d6f0011aa0001"  # Yale YRD226HA2619 "front_door"
KWIKSET = "0x000d6f0011aa0002"  # Kwikset 99140-002 "back_door"
ENGINE_ENV = {"LOCKHUB_ENGINE_POLL_SECONDS": "0.05", "LOCKHUB_DEVICE_SYNC_SECONDS": "3600",
              "LOCKHUB_RADIO_COMMAND_TIMEOUT_SECONDS": "3"}


class BridgeThread:
    """The simulator on its own loop; `call` runs one of its methods there and waits."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.bridge = self.call(lambda: Z2MBridge(broker.host, broker.port, username="lockhub",
                                                  password="s3cret-mqtt"))
        self.call(self.bridge.add_lock, YALE, "front_door", "YRD226HA2619")
        self.call(self.bridge.add_lock, KWIKSET, "back_door", "99140-002")
        self.call(self.bridge.start)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            result = fn(*args, **kwargs)
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)

    def pins(self, ieee: str) -> dict[int, str]:
        return {slot: s.pin for slot, s in self.call(self.bridge.codes, ieee).items()}

    def close(self) -> None:
        try:
            self.call(self.bridge.stop)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def broker() -> Iterator[MosquittoBroker]:
    mqtt = MosquittoBroker(username="lockhub", password="s3cret-mqtt")
    mqtt.start()
    yield mqtt
    mqtt.close()


@pytest.fixture(scope="module")
def bridge(broker: MosquittoBroker) -> Iterator[BridgeThread]:
    simulated = BridgeThread(broker)
    yield simulated
    simulated.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           bridge: BridgeThread) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path_factory.mktemp("lockhub-z2m"), env=ENGINE_ENV)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def seam(server: LockhubServer) -> Seam:
    return production_seam(server)


def broker_form(broker: MosquittoBroker, **changes: str) -> dict[str, str]:
    return {"broker_url": f"mqtt://{broker.host}:{broker.port}", "username": "lockhub",
            "password": "s3cret-mqtt", "base_topic": "zigbee2mqtt", **changes}


def submit(server: LockhubServer, webview: Any, form: dict[str, str]) -> httpx.Response:
    return submit_form(server, webview, "zigbee2mqtt", form)


@pytest.fixture(scope="module")
def account(server: LockhubServer, seam: Seam, broker: MosquittoBroker) -> str:
    webview = seam.connect_webviews.create(accepted_providers=["zigbee2mqtt"])
    page = submit(server, webview, broker_form(broker))
    assert page.status_code == 200 and 'role="alert"' not in page.text, page.text
    webview = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert webview.status == "authorized"
    return webview.connected_account_id


def test_wrong_broker_details_show_on_the_form_and_store_nothing(
        server: LockhubServer, seam: Seam, broker: MosquittoBroker) -> None:
    webview = seam.connect_webviews.create(accepted_providers=["zigbee2mqtt"])
    for form in (broker_form(broker, password="wrong"),
                 broker_form(broker, base_topic="not-zigbee2mqtt"),
                 broker_form(broker, broker_url="mqtt://127.0.0.1:1")):
        page = submit(server, webview, form)
        assert page.status_code == 200 and 'role="alert"' in page.text
        assert "s3cret-mqtt" not in page.text
    assert seam.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "pending"


def test_connecting_lists_the_bridge_locks_with_makers(seam: Seam, account: str) -> None:
    yale = lock_named(seam, account, "front_door")
    kwikset = lock_named(seam, account, "back_door")
    assert (yale.device_type, yale.properties.manufacturer) == ("yale_lock", "yale")
    assert (kwikset.device_type, kwikset.properties.manufacturer) == ("kwikset_lock", "kwikset")
    assert yale.device_provider.device_provider_name == "zigbee2mqtt"
    assert yale.properties.online and yale.properties.locked is True
    assert yale.can_program_online_access_codes
    identity = seam.connected_accounts.get(connected_account_id=account).user_identifier
    assert "s3cret-mqtt" not in str(identity)


def test_unlock_and_lock_are_done_when_the_lock_reports_them(
        seam: Seam, account: str, bridge: BridgeThread) -> None:
    device = lock_named(seam, account, "front_door")
    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"
    assert seam.locks.get(device_id=device.device_id).properties.locked is False
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"
    assert seam.locks.get(device_id=device.device_id).properties.locked is True
    remote = [e for e in events_of(seam, device.device_id, "lock.unlocked")
              if e.method == "remote"]
    assert len(remote) == 1, "lockhub's own unlock is recorded once, not echoed back"


def test_an_offline_lock_fails_the_attempt_and_shows_device_offline(
        seam: Seam, account: str, bridge: BridgeThread) -> None:
    device = lock_named(seam, account, "back_door")
    bridge.call(bridge.bridge.set_offline, KWIKSET, True)
    try:
        wait_until(lambda: not seam.devices.get(device_id=device.device_id).properties.online,
                   message="the lock offline")
        assert any(e["error_code"] == "device_offline"
                   for e in seam.devices.get(device_id=device.device_id).errors)
        with pytest.raises(SeamActionAttemptFailedError) as failed:
            seam.locks.unlock_door(device_id=device.device_id)
        assert failed.value.action_attempt.error.type == "device_offline"
    finally:
        bridge.call(bridge.bridge.set_offline, KWIKSET, False)
    wait_until(lambda: seam.devices.get(device_id=device.device_id).properties.online,
               message="the lock back online")


def test_a_lock_that_never_answers_fails_with_a_typed_timeout(
        seam: Seam, account: str, bridge: BridgeThread) -> None:
    device = lock_named(seam, account, "back_door")
    bridge.call(bridge.bridge.set_silent, KWIKSET, True)
    try:
        with pytest.raises(SeamActionAttemptFailedError) as failed:
            seam.locks.unlock_door(device_id=device.device_id,
                                   wait_for_action_attempt={"timeout": 30})
        assert failed.value.action_attempt.error.type == "device_communication_timeout"
    finally:
        bridge.call(bridge.bridge.set_silent, KWIKSET, False)
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"


def test_a_broker_dropping_mid_command_gives_a_typed_error_then_recovers(
        seam: Seam, account: str, bridge: BridgeThread, broker: MosquittoBroker) -> None:
    device = lock_named(seam, account, "back_door")
    bridge.call(bridge.bridge.set_silent, KWIKSET, True)  # the command stays in flight
    attempt = seam.locks.unlock_door(device_id=device.device_id, wait_for_action_attempt=False)
    broker.stop()
    try:
        settled = wait_until(lambda: (a := seam.action_attempts.get(
            action_attempt_id=attempt.action_attempt_id,
            wait_for_action_attempt=False)).status != "pending" and a,
            timeout=30, message="the attempt settled")
        assert settled.status == "error"
        assert settled.error.type in ("device_communication_timeout", "account_disconnected",
                                      "device_offline")
    finally:
        bridge.call(bridge.bridge.set_silent, KWIKSET, False)
        broker.start()
    wait_until(lambda: not seam.connected_accounts.get(connected_account_id=account).errors,
               timeout=60, message="the account reconnected")
    wait_until(lambda: not seam.devices.get(device_id=device.device_id).errors, timeout=60,
               message="the bridge and its lock back")
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"


def test_a_code_is_programmed_and_a_keypad_entry_names_it(
        seam: Seam, account: str, bridge: BridgeThread) -> None:
    device = lock_named(seam, account, "front_door")
    code = seam.access_codes.create(device_id=device.device_id, name="Guest", code="4682")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=30, message="the code set")
    slot = next(s for s, pin in bridge.pins(YALE).items() if pin == "4682")
    bridge.call(bridge.bridge.keypad_unlock, YALE, slot)
    keyed = wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                                if e.method == "keycode"], message="the keypad event")
    assert keyed[0].access_code_id == code.access_code_id
    bridge.call(bridge.bridge.manual_lock, YALE)
    assert wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.locked")
                               if e.method == "manual"], message="the manual lock event")
    seam.access_codes.delete(access_code_id=code.access_code_id)
    wait_until(lambda: "4682" not in bridge.pins(YALE).values(), timeout=30,
               message="the code removed from the lock")


def test_a_pin_added_at_the_lock_appears_as_unmanaged(
        seam: Seam, account: str, bridge: BridgeThread) -> None:
    device = lock_named(seam, account, "front_door")
    bridge.call(bridge.bridge.set_code_at_lock, YALE, 7, "1357")
    try:
        wait_until(lambda: [c for c in seam.access_codes.unmanaged.list(
            device_id=device.device_id) if c.code == "1357"], timeout=30,
            message="the unmanaged code")
    finally:
        bridge.call(bridge.bridge.clear_code_at_lock, YALE, 7)


def test_battery_reports_and_low_battery(seam: Seam, account: str,
                                         bridge: BridgeThread) -> None:
    device = lock_named(seam, account, "back_door")
    bridge.call(bridge.bridge.battery, KWIKSET, 12)
    wait_until(lambda: seam.devices.get(device_id=device.device_id).properties.battery_level
               == 0.12, message="the battery level")
    assert events_of(seam, device.device_id, "device.low_battery")


def test_the_broker_going_away_disconnects_the_account_and_it_recovers(
        seam: Seam, account: str, bridge: BridgeThread, broker: MosquittoBroker) -> None:
    device = lock_named(seam, account, "front_door")
    broker.stop()
    try:
        wait_until(lambda: any(e["error_code"] == "account_disconnected" for e in
                               seam.connected_accounts.get(connected_account_id=account).errors),
                   timeout=30, message="account_disconnected")
        code = seam.access_codes.create(device_id=device.device_id, name="While down",
                                        code="9753")
    finally:
        broker.start()
    wait_until(lambda: not seam.connected_accounts.get(connected_account_id=account).errors,
               timeout=60, message="the account reconnected")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=60, message="the pending code converged")
    assert "9753" in bridge.pins(YALE).values()
    seam.access_codes.delete(access_code_id=code.access_code_id)


def test_the_cli_connects_a_bridge_headlessly(server: LockhubServer, broker: MosquittoBroker,
                                              account: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lockhub.cli", "connect", "zigbee2mqtt",
         f"mqtt://{broker.host}:{broker.port}", "--workspace", "seed_workspace_2",
         "--username", "lockhub", "--database-url", server.database_url],
        env={**os.environ, "LOCKHUB_MQTT_PASSWORD": "s3cret-mqtt"},
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"account {account}" in done.stdout
    assert "front_door" in done.stdout and "back_door" in done.stdout
    assert "s3cret-mqtt" not in done.stdout + done.stderr


def test_auto_lock_is_set_on_the_lock_which_then_relocks_by_itself(
        seam: Seam, account: str, bridge: BridgeThread) -> None:
    device = lock_named(seam, account, "front_door")
    assert device.can_configure_auto_lock is True
    attempt = seam.locks.configure_auto_lock(device_id=device.device_id, auto_lock_enabled=True,
                                             auto_lock_delay_seconds=1)
    assert attempt.status == "success"
    assert bridge.call(lambda: bridge.bridge.device(YALE).auto_relock_time) == 1
    on = seam.devices.get(device_id=device.device_id).properties
    assert (on.auto_lock_enabled, on.auto_lock_delay_seconds) == (True, 1)

    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"
    wait_until(lambda: any(e.method == "automatic"
                           for e in events_of(seam, device.device_id, "lock.locked")),
               message="the lock's own relock")
    assert seam.devices.get(device_id=device.device_id).properties.locked is True

    seam.locks.configure_auto_lock(device_id=device.device_id, auto_lock_enabled=False)
    assert bridge.call(lambda: bridge.bridge.device(YALE).auto_relock_time) == 0
    assert seam.devices.get(device_id=device.device_id).properties.auto_lock_enabled is False
    with pytest.raises(SeamActionAttemptFailedError) as refused:
        seam.locks.configure_auto_lock(device_id=device.device_id, auto_lock_enabled=True,
                                       auto_lock_delay_seconds=7200)
    assert refused.value.action_attempt.error.type == "device_cannot_perform_action"
