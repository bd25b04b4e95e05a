"""Nuki locks behind the Seam API: the official SDK against a lockhub server whose production
workspace is connected, through a Connect Webview, to the fake Nuki Web API (tests/fakes/nuki,
a real HTTP server on loopback). Nuki accepts every change at once and the lock applies it
later: the tests apply pending changes with `cloud.settle()` once lockhub has sent them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from seam import Seam
from seam.exceptions import SeamActionAttemptFailedError

from tests.conformance.helpers import wait_until
from tests.fakes.nuki.server import BACK_DOOR, FRONT_DOOR, TOKEN, NukiCloud
from tests.providers.webview import (
    account_errors,
    events_of,
    lock_named,
    production_clock,
    production_seam,
    stored_credentials,
)
from tests.providers.webview import submit as submit_form
from tests.server import LockhubServer, start_server

SECRET_KEY = Fernet.generate_key().decode()
GARAGE = 18205280001  # a Smart Lock 2.0 (type 0, Bluetooth only) behind a Nuki Bridge


@pytest.fixture(scope="module")
def cloud() -> Iterator[NukiCloud]:
    fake = NukiCloud()
    fake.add_lock(GARAGE, "Garage", type=0, keypad_paired=False)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, cloud: NukiCloud) -> Iterator[LockhubServer]:
    env = {"LOCKHUB_ENGINE_POLL_SECONDS": "0.05", "LOCKHUB_DEVICE_SYNC_SECONDS": "3600",
           "LOCKHUB_TEST_PRODUCTION_CLOCK": "1", "LOCKHUB_NUKI_API_URL": cloud.url,
           "LOCKHUB_NUKI_POLL_SECONDS": "0.2", "LOCKHUB_RADIO_COMMAND_TIMEOUT_SECONDS": "5",
           "LOCKHUB_SECRET_KEY": SECRET_KEY}
    srv = start_server(tmp_path_factory.mktemp("lockhub-nuki"), env=env)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def seam(server: LockhubServer) -> Seam:
    return production_seam(server)


def submit(server: LockhubServer, webview: Any, token: str) -> httpx.Response:
    return submit_form(server, webview, "nuki", {"api_token": token})


def connect(server: LockhubServer, seam: Seam, token: str) -> str:
    webview = seam.connect_webviews.create(accepted_providers=["nuki"])
    page = submit(server, webview, token)
    assert page.status_code == 200 and 'role="alert"' not in page.text, page.text
    webview = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert webview.status == "authorized" and webview.login_successful
    return webview.connected_account_id


@pytest.fixture(scope="module")
def account(server: LockhubServer, seam: Seam) -> str:
    return connect(server, seam, TOKEN)


def settle(cloud: NukiCloud, what: str) -> None:
    """Once lockhub's change reached Nuki, the lock applies it."""
    wait_until(lambda: cloud.pending, timeout=30, message=f"{what} sent to Nuki")
    assert cloud.settle() >= 1


def codes_on(cloud: NukiCloud, code: int) -> list[Any]:
    return [a for a in cloud.lock(FRONT_DOOR).auths.values() if a.code == code]


def test_the_production_form_asks_for_the_api_token(server: LockhubServer, seam: Seam) -> None:
    webview = seam.connect_webviews.create(accepted_providers=["nuki"])
    page = httpx.get(f"{webview.url}&provider=nuki", timeout=30).text
    assert 'name="api_token"' in page and 'type="password"' in page


def test_a_wrong_token_shows_on_the_form_and_stores_nothing(server: LockhubServer,
                                                            seam: Seam) -> None:
    before = len(seam.connected_accounts.list())
    webview = seam.connect_webviews.create(accepted_providers=["nuki"])
    page = submit(server, webview, "not-a-nuki-token")
    assert page.status_code == 200 and 'role="alert"' in page.text
    assert "not-a-nuki-token" not in page.text
    assert seam.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "pending"
    assert len(seam.connected_accounts.list()) == before


def test_signing_in_lists_the_locks(server: LockhubServer, seam: Seam, account: str) -> None:
    assert stored_credentials(server, account, SECRET_KEY)["api_token"] == TOKEN
    assert seam.connected_accounts.get(
        connected_account_id=account).user_identifier.email == "jane@example.com"
    front = lock_named(seam, account, "Front Door")
    assert (front.device_type, front.properties.manufacturer) == ("nuki_lock", "nuki")
    assert front.properties.online and front.properties.battery_level == 0.9
    assert front.properties.locked is True
    assert front.can_remotely_unlock and front.can_program_online_access_codes
    assert not front.can_program_offline_access_codes
    assert front.properties.supported_code_lengths == [6]
    assert front.properties.nuki_metadata.device_id == str(FRONT_DOOR)
    assert not front.errors
    back = lock_named(seam, account, "Back Door")  # no keypad paired
    assert back.properties.locked is False and not back.can_program_online_access_codes


def test_unlock_and_lock_succeed_once_the_lock_has_moved(seam: Seam, account: str,
                                                         cloud: NukiCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    for locked in (False, True):
        act = seam.locks.lock_door if locked else seam.locks.unlock_door
        attempt = act(device_id=device.device_id, wait_for_action_attempt=False)
        settle(cloud, "the action")
        done = wait_until(lambda a=attempt: (x := seam.action_attempts.get(
            action_attempt_id=a.action_attempt_id)).status != "pending" and x,
            timeout=30, message="the action attempt resolved")
        assert done.status == "success"
        assert seam.locks.get(device_id=device.device_id).properties.locked is locked
    # lockhub's own commands in Nuki's log are not events twice; a hand on the knob is one
    cloud.turn_by_hand(FRONT_DOOR, locked=False)
    wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                        if e.method == "manual"], message="the manual unlock")
    assert len([e for e in events_of(seam, device.device_id, "lock.unlocked")
                if e.method == "remote"]) == 1
    cloud.turn_by_hand(FRONT_DOOR, locked=True)


def test_an_unreachable_lock_fails_with_a_typed_error(seam: Seam, account: str,
                                                      cloud: NukiCloud) -> None:
    back = lock_named(seam, account, "Back Door")  # built-in WiFi: the lock itself is offline
    garage = lock_named(seam, account, "Garage")  # behind a bridge: the bridge is offline
    cloud.set_lock_online(BACK_DOOR, False)
    cloud.set_bridge_online(GARAGE, False)
    try:
        for device, error in ((back, "device_offline"), (garage, "hub_disconnected")):
            wait_until(lambda d=device, e=error: e in {
                x["error_code"] for x in seam.devices.get(device_id=d.device_id).errors},
                message=error)
            with pytest.raises(SeamActionAttemptFailedError) as failed:
                seam.locks.unlock_door(device_id=device.device_id)
            assert failed.value.action_attempt.error.type == error
    finally:
        cloud.set_lock_online(BACK_DOOR, True)
        cloud.set_bridge_online(GARAGE, True)


def test_a_lost_command_times_out_with_a_typed_error(seam: Seam, account: str,
                                                     cloud: NukiCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    cloud.lose_next_change()
    with pytest.raises(SeamActionAttemptFailedError) as failed:
        seam.locks.unlock_door(device_id=device.device_id,
                               wait_for_action_attempt={"timeout": 30})
    assert failed.value.action_attempt.error.type == "device_communication_timeout"
    assert cloud.lock(FRONT_DOOR).state == 1  # still locked: the command never arrived


def test_an_ongoing_code_and_a_keypad_unlock_naming_it(seam: Seam, account: str,
                                                       cloud: NukiCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    code = seam.access_codes.create(device_id=device.device_id, name="Guest", code="468235")
    settle(cloud, "the new code")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=30, message="the code set")
    on_lock = codes_on(cloud, 468235)
    assert len(on_lock) == 1 and on_lock[0].name == "Guest"
    assert (on_lock[0].allowed_from, on_lock[0].allowed_until) == (None, None)
    assert cloud.enter_pin(FRONT_DOOR, "468235")
    keyed = wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                                if e.method == "keycode"], message="the keypad event")
    assert keyed[0].access_code_id == code.access_code_id
    assert cloud.enter_pin(FRONT_DOOR, "999999") is False
    wait_until(lambda: events_of(seam, device.device_id, "lock.access_denied"),
               message="the wrong code refused")
    seam.access_codes.delete(access_code_id=code.access_code_id)
    settle(cloud, "the removal")
    wait_until(lambda: not codes_on(cloud, 468235), message="the code removed")
    cloud.turn_by_hand(FRONT_DOOR, locked=True)


def test_a_time_bound_code_carries_its_window_to_nuki(
        server: LockhubServer, seam: Seam, account: str, cloud: NukiCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    clock = production_clock(server)
    start = datetime(2031, 3, 1, 15, 0, tzinfo=UTC)
    end = start + timedelta(days=2)
    try:
        assert clock.post("/set", json={"now": "2031-02-20T12:00:00Z",
                                        "frozen": True}).status_code == 200
        code = seam.access_codes.create(device_id=device.device_id, name="Stay", code="975314",
                                        starts_at=start.isoformat(), ends_at=end.isoformat())
        # the lock enforces the window itself, so the code goes on ahead of it
        clock.post("/set", json={"now": "2031-02-28T12:00:00Z", "frozen": True})
        settle(cloud, "the time-bound code")
        written = wait_until(lambda: codes_on(cloud, 975314), message="the code on the lock")[0]
        assert (written.allowed_from, written.allowed_until) == (start, end)
        # on the lock, waiting for its window (Seam's status for a code before starts_at)
        wait_until(lambda: seam.access_codes.get(
            access_code_id=code.access_code_id).status == "unset"
            and seam.access_codes.get(access_code_id=code.access_code_id).is_scheduled_on_device,
            message="the code scheduled on the lock")
        clock.post("/set", json={"now": "2031-03-01T15:00:00Z", "frozen": True})
        wait_until(lambda: seam.access_codes.get(
            access_code_id=code.access_code_id).status == "set", timeout=30,
            message="the code set at starts_at")
        clock.post("/set", json={"now": "2031-03-03T15:00:00Z", "frozen": True})
        settle(cloud, "the removal at ends_at")
        wait_until(lambda: not codes_on(cloud, 975314), message="the code removed at ends_at")
    finally:
        clock.post("/unfreeze")
        clock.post("/set", json={"now": datetime.now(UTC).isoformat(), "frozen": False})


def test_an_outage_disconnects_the_account_and_a_code_made_meanwhile_converges(
        seam: Seam, account: str, cloud: NukiCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    cloud.outage()
    try:
        wait_until(lambda: "account_disconnected" in account_errors(seam, account),
                   timeout=30, message="account_disconnected")
        code = seam.access_codes.create(device_id=device.device_id, name="While down",
                                        code="864275")
    finally:
        cloud.restore()
    wait_until(lambda: not account_errors(seam, account), timeout=60,
               message="the account reconnected")
    settle(cloud, "the code made during the outage")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=60, message="the code made during the outage set")
    assert len(codes_on(cloud, 864275)) == 1
    seam.access_codes.delete(access_code_id=code.access_code_id)
    settle(cloud, "the removal")
    wait_until(lambda: not codes_on(cloud, 864275), message="the code removed")


def test_a_revoked_token_disconnects_until_a_new_token_restores_the_account(
        server: LockhubServer, seam: Seam, account: str, cloud: NukiCloud) -> None:
    cloud.change_password()  # Nuki destroys every API token of the account
    wait_until(lambda: "account_disconnected" in account_errors(seam, account), timeout=30,
               message="account_disconnected")
    device = lock_named(seam, account, "Front Door")
    assert any(e["error_code"] == "account_disconnected"
               for e in seam.devices.get(device_id=device.device_id).errors)
    cloud.account.api_tokens.add("a-new-nuki-token")
    assert connect(server, seam, "a-new-nuki-token") == account
    wait_until(lambda: not account_errors(seam, account), timeout=30,
               message="the account restored")
    assert stored_credentials(server, account, SECRET_KEY)["api_token"] == "a-new-nuki-token"
    attempt = seam.locks.unlock_door(device_id=device.device_id, wait_for_action_attempt=False)
    settle(cloud, "the unlock")
    assert seam.action_attempts.get(action_attempt_id=attempt.action_attempt_id,
                                    wait_for_action_attempt={"timeout": 30}).status == "success"
