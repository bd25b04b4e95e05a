"""Real Z-Wave locks behind the Seam API: the official SDK against a lockhub server whose
production workspace is connected, through a Connect Webview, to a real zwave-js driver and
zwave-server running a mock controller with three mock locks (Schlage BE469, Yale YRD256,
Kwikset 916). Everything a user relies on is driven through the SDK; the lock's own side
(keypad, thumb-turn, battery, dead node) through the mock's "at the lock" control API.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from seam import Seam
from seam.exceptions import SeamActionAttemptFailedError, SeamHttpApiError

from tests.conformance.helpers import EPOCH, wait_until
from tests.providers.webview import events_of, production_clock
from tests.providers.webview import submit as submit_form
from tests.providers.zwave_js.stack import (
    INCLUDED_LATER,
    KWIKSET_916,
    SCHLAGE_BE469,
    YALE_YRD256,
    ZWaveStack,
)
from tests.server import LockhubServer


def submit(server: LockhubServer, webview: Any, **fields: str) -> httpx.Response:
    return submit_form(server, webview, "zwave_js", fields)


# The SDK's objects carry only Seam's fields; the model name tells the mock locks apart.
MODELS = {SCHLAGE_BE469: "BE469", YALE_YRD256: "YRD256", KWIKSET_916: "916"}


def lock_of(seam: Seam, account: str, node: int) -> Any:
    found = [d for d in seam.locks.list(connected_account_id=account)
             if MODELS[node] in d.properties.model.display_name]
    assert len(found) == 1, f"no single device for node {node}"
    return found[0]


def test_the_picker_of_a_production_workspace_offers_z_wave_js(server: LockhubServer,
                                                               seam: Seam) -> None:
    webview = seam.connect_webviews.create(accepted_providers=["zwave_js", "zigbee2mqtt"])
    picker = httpx.get(webview.url, timeout=30)
    assert 'data-provider="zwave_js"' in picker.text
    form = httpx.get(f"{webview.url}&provider=zwave_js", timeout=30)
    assert 'name="url"' in form.text
    providers = {p.device_provider_name for p in seam.devices.list_device_providers()}
    assert "zwave_js" in providers


def test_a_wrong_url_shows_the_error_on_the_form_and_stores_nothing(
        server: LockhubServer, seam: Seam) -> None:
    before = seam.connected_accounts.list()
    webview = seam.connect_webviews.create(accepted_providers=["zwave_js"])
    for url in ("http://not-a-websocket", "ws://127.0.0.1:1"):
        page = submit(server, webview, url=url)
        assert page.status_code == 200
        assert 'role="alert"' in page.text
    assert seam.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "pending"
    assert len(seam.connected_accounts.list()) == len(before)


def test_connecting_lists_every_lock_with_its_maker_model_and_state(seam: Seam,
                                                                    account: str) -> None:
    assert len(seam.locks.list(connected_account_id=account)) == 3
    schlage, yale, kwikset = (lock_of(seam, account, node)
                              for node in (SCHLAGE_BE469, YALE_YRD256, KWIKSET_916))
    assert (schlage.device_type, schlage.properties.manufacturer) == ("schlage_lock", "schlage")
    assert (yale.device_type, yale.properties.manufacturer) == ("yale_lock", "yale")
    assert (kwikset.device_type, kwikset.properties.manufacturer) == ("kwikset_lock", "kwikset")
    assert "BE469" in schlage.properties.model.display_name
    assert schlage.device_provider.device_provider_name == "zwave_js"
    assert yale.properties.max_active_codes_supported == 250
    assert schlage.properties.max_active_codes_supported == 30
    for lock in (schlage, yale, kwikset):
        assert lock.properties.online is True
        assert lock.can_remotely_lock and lock.can_remotely_unlock
        assert lock.can_program_online_access_codes
        assert lock.properties.battery_level is not None
        assert lock.errors == []
    account_row = seam.connected_accounts.get(connected_account_id=account)
    assert account_row.account_type == "zwave_js"
    assert account_row.errors == []


@pytest.mark.parametrize("node", [SCHLAGE_BE469, YALE_YRD256])
def test_unlock_and_lock_move_the_bolt_and_record_remote_events(
        seam: Seam, account: str, stack: ZWaveStack, node: int) -> None:
    device = lock_of(seam, account, node)
    attempt = seam.locks.unlock_door(device_id=device.device_id)
    assert attempt.status == "success"
    assert stack.state(node)["mode"] == "unlocked"
    assert seam.locks.get(device_id=device.device_id).properties.locked is False
    attempt = seam.locks.lock_door(device_id=device.device_id)
    assert attempt.status == "success"
    assert stack.state(node)["mode"] == "locked"
    assert seam.locks.get(device_id=device.device_id).properties.locked is True
    unlocked = events_of(seam, device.device_id, "lock.unlocked")
    assert any(e.method == "remote" for e in unlocked)


@pytest.mark.parametrize(("node", "condition", "error_type"), [
    (YALE_YRD256, "refuse", "lock_operation_failed"),
    (KWIKSET_916, "refuse", "lock_operation_failed"),
    (SCHLAGE_BE469, "dead", "device_offline"),
])
def test_a_lock_that_refuses_or_is_dead_fails_the_attempt_with_a_typed_error(
        seam: Seam, account: str, stack: ZWaveStack, node: int, condition: str,
        error_type: str) -> None:
    device = lock_of(seam, account, node)
    seam.locks.lock_door(device_id=device.device_id)
    (stack.set_refuse if condition == "refuse" else stack.set_dead)(node, True)
    try:
        with pytest.raises(SeamActionAttemptFailedError) as failed:
            seam.locks.unlock_door(device_id=device.device_id,
                                   wait_for_action_attempt={"timeout": 40})
        assert failed.value.action_attempt.error.type == error_type
        assert stack.state(node)["mode"] == "locked"
        if condition == "dead":
            offline = wait_until(lambda: any(
                e["error_code"] == "device_offline"
                for e in seam.devices.get(device_id=device.device_id).errors),
                timeout=20, message="device_offline on the dead lock")
            assert offline
    finally:
        (stack.set_refuse if condition == "refuse" else stack.set_dead)(node, False)
    if condition == "dead":
        wait_until(lambda: seam.devices.get(device_id=device.device_id).properties.online,
                   timeout=30, message="the lock back online")


def test_keypad_and_manual_operations_at_the_lock_become_events(
        seam: Seam, account: str, stack: ZWaveStack) -> None:
    device = lock_of(seam, account, KWIKSET_916)
    code = seam.access_codes.create(device_id=device.device_id, name="Guest", code="5831")
    code = wait_until(lambda: (c := seam.access_codes.get(
        access_code_id=code.access_code_id)).status == "set" and c,
        timeout=30, message="the code set on the lock")
    slot = next(int(s) for s, pin in stack.codes(KWIKSET_916).items() if pin == "5831")
    seam.locks.lock_door(device_id=device.device_id)

    stack.keypad_unlock(KWIKSET_916, user=slot)
    keyed = wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                                if e.method == "keycode"], message="the keypad unlock event")
    assert keyed[0].access_code_id == code.access_code_id
    assert seam.locks.get(device_id=device.device_id).properties.locked is False

    stack.manual_lock(KWIKSET_916)
    manual = wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.locked")
                                 if e.method == "manual"], message="the manual lock event")
    assert manual
    assert seam.locks.get(device_id=device.device_id).properties.locked is True

    stack.wrong_code(KWIKSET_916)
    assert wait_until(lambda: events_of(seam, device.device_id, "lock.access_denied"),
                      message="lock.access_denied")
    seam.access_codes.delete(access_code_id=code.access_code_id)
    wait_until(lambda: "5831" not in stack.codes(KWIKSET_916).values(), timeout=30,
               message="the code removed from the lock")


def test_an_ongoing_code_is_programmed_read_back_and_removed(
        seam: Seam, account: str, stack: ZWaveStack) -> None:
    device = lock_of(seam, account, SCHLAGE_BE469)
    code = seam.access_codes.create(device_id=device.device_id, name="Cleaner", code="2468")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=30, message="the code set")
    assert "2468" in stack.codes(SCHLAGE_BE469).values()
    seam.access_codes.delete(access_code_id=code.access_code_id)

    def gone() -> bool:
        try:
            seam.access_codes.get(access_code_id=code.access_code_id)
        except SeamHttpApiError as exc:
            return exc.code == "access_code_not_found"
        return False

    wait_until(gone, timeout=30, message="the code deleted once off the lock")
    assert "2468" not in stack.codes(SCHLAGE_BE469).values()
    types = [e.event_type for e in seam.events.list(since=EPOCH,
                                                    access_code_id=code.access_code_id)]
    assert {"access_code.set_on_device", "access_code.removed_from_device",
            "access_code.deleted"} <= set(types)


def test_a_time_bound_code_is_on_the_lock_only_inside_its_window(
        server: LockhubServer, seam: Seam, account: str, stack: ZWaveStack) -> None:
    device = lock_of(seam, account, YALE_YRD256)
    clock = production_clock(server)
    start = datetime(2031, 3, 1, 15, 0, tzinfo=UTC)
    try:
        assert clock.post("/set", json={"now": "2031-02-25T12:00:00Z",
                                        "frozen": True}).status_code == 200
        code = seam.access_codes.create(
            device_id=device.device_id, name="Stay", code="97531",
            starts_at=start.isoformat(), ends_at=(start + timedelta(days=2)).isoformat())
        assert seam.access_codes.get(access_code_id=code.access_code_id).status == "unset"
        assert "97531" not in stack.codes(YALE_YRD256).values()
        clock.post("/set", json={"now": "2031-03-01T15:00:00Z", "frozen": True})
        wait_until(lambda: seam.access_codes.get(
            access_code_id=code.access_code_id).status == "set", timeout=30,
            message="the code set at starts_at")
        assert "97531" in stack.codes(YALE_YRD256).values()
        clock.post("/set", json={"now": "2031-03-03T15:00:00Z", "frozen": True})
        wait_until(lambda: "97531" not in stack.codes(YALE_YRD256).values(), timeout=30,
                   message="the code removed at ends_at")
    finally:
        clock.post("/unfreeze")
        clock.post("/set", json={"now": datetime.now(UTC).isoformat(), "frozen": False})


def test_a_pin_added_at_the_lock_appears_as_an_unmanaged_code(
        seam: Seam, account: str, stack: ZWaveStack) -> None:
    device = lock_of(seam, account, SCHLAGE_BE469)
    stack.set_code_at_lock(SCHLAGE_BE469, slot=25, code="7777")
    try:
        found = wait_until(lambda: [c for c in seam.access_codes.unmanaged.list(
            device_id=device.device_id) if c.code == "7777"], timeout=30,
            message="the unmanaged code")
        assert found[0].status == "set"
    finally:
        stack.clear_code_at_lock(SCHLAGE_BE469, slot=25)
    wait_until(lambda: not [c for c in seam.access_codes.unmanaged.list(
        device_id=device.device_id) if c.code == "7777"], timeout=30,
        message="the unmanaged code gone")


def test_battery_reports_and_low_battery(seam: Seam, account: str, stack: ZWaveStack) -> None:
    device = lock_of(seam, account, YALE_YRD256)
    stack.battery(YALE_YRD256, 15)
    wait_until(lambda: seam.devices.get(device_id=device.device_id).properties.battery_level
               == 0.15, message="the battery level")
    assert events_of(seam, device.device_id, "device.low_battery")
    assert seam.devices.get(device_id=device.device_id).properties.battery.status == "low"
    stack.battery(YALE_YRD256, 87)
    wait_until(lambda: seam.devices.get(device_id=device.device_id).properties.battery_level
               == 0.87, message="the battery back up")


def test_a_jam_is_a_device_error_until_the_bolt_moves(seam: Seam, account: str,
                                                      stack: ZWaveStack) -> None:
    device = lock_of(seam, account, KWIKSET_916)
    stack.jam(KWIKSET_916)
    wait_until(lambda: any(e["error_code"] == "lock_jammed" for e in seam.devices.get(
        device_id=device.device_id).errors), message="the jam error")
    seam.locks.lock_door(device_id=device.device_id)
    assert not any(e["error_code"] == "lock_jammed"
                   for e in seam.devices.get(device_id=device.device_id).errors)


def test_the_server_going_away_disconnects_the_account_and_it_recovers(
        seam: Seam, account: str, stack: ZWaveStack, tmp_path: Path) -> None:
    device = lock_of(seam, account, SCHLAGE_BE469)
    stack.stop_server()
    try:
        wait_until(lambda: any(e["error_code"] == "account_disconnected" for e in
                               seam.connected_accounts.get(connected_account_id=account).errors),
                   timeout=30, message="account_disconnected")
        assert any(e["error_code"] == "account_disconnected"
                   for e in seam.devices.get(device_id=device.device_id).errors)
        code = seam.access_codes.create(device_id=device.device_id, name="While down",
                                        code="8642")
    finally:
        stack.start_server()
    wait_until(lambda: not seam.connected_accounts.get(connected_account_id=account).errors,
               timeout=60, message="the account reconnected")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=60, message="the pending code converged")
    assert "8642" in stack.codes(SCHLAGE_BE469).values()
    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"
    seam.access_codes.delete(access_code_id=code.access_code_id)


def run_cli(server: LockhubServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockhub.cli", *args,
                           "--database-url", server.database_url],
                          capture_output=True, text=True, timeout=120)


def test_the_cli_connects_a_network_headlessly_and_prints_its_locks(
        server: LockhubServer, seam: Seam, account: str, stack: ZWaveStack) -> None:
    done = run_cli(server, "connect", "zwave-js", stack.ws_url, "--workspace",
                   "seed_workspace_2")
    assert done.returncode == 0, done.stderr
    # The same network (its home id) is the same connected account, not a second one.
    assert f"account {account}" in done.stdout
    for model in ("BE469", "YRD256", "916"):
        assert model in done.stdout or any(
            model in d.properties.model.display_name for d in seam.locks.list())
    assert done.stdout.count("zwave_js") <= 1 and len(seam.connected_accounts.list()) == 1


@pytest.mark.parametrize(("url", "workspace", "expected"), [
    ("ws://127.0.0.1:1", "seed_workspace_2", "Cannot reach the Z-Wave JS server"),
    ("http://example.com", "seed_workspace_2", "WebSocket URL"),
    ("ws://127.0.0.1:1", "seed_workspace_1", "cannot be connected to a sandbox workspace"),
    ("ws://127.0.0.1:1", "no_such_workspace", "not found"),
])
def test_the_cli_refuses_bad_input_in_one_line(server: LockhubServer, url: str,
                                               workspace: str, expected: str) -> None:
    done = run_cli(server, "connect", "zwave-js", url, "--workspace", workspace)
    assert done.returncode == 1
    output = (done.stdout + done.stderr).strip()
    assert expected in output and "Traceback" not in output
    assert len(output.splitlines()) == 1, output


async def _as_the_users_z_wave_ui(url: str, action: str) -> None:
    """Z-Wave JS UI's "include" / "exclude" buttons: the user runs them, not lockhub."""
    import aiohttp
    from zwave_js_server.client import Client
    from zwave_js_server.const import InclusionStrategy

    async with aiohttp.ClientSession() as session:
        client = Client(url, session)
        await client.connect()
        ready = asyncio.Event()
        listening = asyncio.create_task(client.listen(ready))
        await ready.wait()
        controller = client.driver.controller  # type: ignore[union-attr]
        if action == "include":
            assert await controller.async_begin_inclusion(InclusionStrategy.INSECURE)
        else:
            assert await controller.async_begin_exclusion()
        await client.disconnect()
        await asyncio.gather(listening, return_exceptions=True)


def test_a_lock_included_later_appears_and_an_excluded_one_is_removed(
        seam: Seam, account: str, stack: ZWaveStack) -> None:
    stack.include_next(INCLUDED_LATER, model="kwikset_916")
    asyncio.run(_as_the_users_z_wave_ui(stack.ws_url, "include"))
    added = wait_until(lambda: [d for d in seam.locks.list(connected_account_id=account)
                                if f"(node {INCLUDED_LATER})" in d.display_name], timeout=30,
                       message="the new lock")
    device_id = added[0].device_id
    assert events_of(seam, device_id, "device.added")
    stack.exclude_next(INCLUDED_LATER)
    asyncio.run(_as_the_users_z_wave_ui(stack.ws_url, "exclude"))
    wait_until(lambda: any(e["error_code"] == "device_removed"
                           for e in seam.devices.get(device_id=device_id).errors),
               timeout=30, message="the excluded lock marked removed")
    assert events_of(seam, device_id, "device.removed")


def test_a_managed_pin_changed_at_the_lock_is_reported_and_set_back(
        seam: Seam, account: str, stack: ZWaveStack) -> None:
    device = lock_of(seam, account, KWIKSET_916)
    code = seam.access_codes.create(device_id=device.device_id, name="Owner", code="3141")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=30, message="the code set")
    slot = next(int(s) for s, pin in stack.codes(KWIKSET_916).items() if pin == "3141")
    stack.set_code_at_lock(KWIKSET_916, slot=slot, code="2718")  # someone edits it at the lock
    wait_until(lambda: seam.events.list(since=EPOCH, access_code_id=code.access_code_id,
                                        event_type="access_code.modified_external_to_seam"),
               timeout=30, message="the external modification noticed")
    wait_until(lambda: stack.codes(KWIKSET_916).get(slot) == "3141", timeout=30,
               message="the managed PIN set back")
    assert seam.access_codes.get(access_code_id=code.access_code_id).code == "3141"
    seam.access_codes.delete(access_code_id=code.access_code_id)
