"""TTLock locks behind the Seam API: the official SDK against a lockhub server whose production
workspace is connected, through a Connect Webview, to the fake TTLock Open Platform
(tests/fakes/ttlock, a real HTTP server on loopback). The lock's side (keypad entries, the
gateway, outages, revoked tokens) is driven on the fake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from seam import Seam, SeamHttpApiError, SeamHttpInvalidInputError
from seam.exceptions import SeamActionAttemptFailedError

from tests.conformance.helpers import wait_until
from tests.fakes.ttlock.fixtures import CLIENT_ID, CLIENT_SECRET, USERNAME, SeededCloud
from tests.fakes.ttlock.world import FEATURE_LOCK_REMOTELY, md5_hex
from tests.providers.webview import (
    account_errors,
    disconnected_by_outage,
    events_of,
    lock_named,
    production_clock,
    production_seam,
    stored_credentials,
)
from tests.providers.webview import submit as submit_form
from tests.server import LockhubServer, start_server

PASSWORD = "correct-horse-battery-7"
EPOCH_ISO = "1970-01-01T00:00:00Z"
SECRET_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def cloud() -> Iterator[SeededCloud]:
    fake = SeededCloud()
    fake.world.add_account(USERNAME, PASSWORD)  # a password that cannot hide in other data
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           cloud: SeededCloud) -> Iterator[LockhubServer]:
    env = {"LOCKHUB_ENGINE_POLL_SECONDS": "0.05", "LOCKHUB_DEVICE_SYNC_SECONDS": "3600",
           "LOCKHUB_TEST_PRODUCTION_CLOCK": "1", "LOCKHUB_TTLOCK_API_URL": cloud.url,
           "LOCKHUB_TTLOCK_POLL_SECONDS": "0.2", "LOCKHUB_SECRET_KEY": SECRET_KEY}
    srv = start_server(tmp_path_factory.mktemp("lockhub-ttlock"), env=env)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def seam(server: LockhubServer) -> Seam:
    return production_seam(server)


def sign_in_form(**changes: str) -> dict[str, str]:
    return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": USERNAME,
            "password": PASSWORD, **changes}


def submit(server: LockhubServer, webview: Any, form: dict[str, str]) -> httpx.Response:
    return submit_form(server, webview, "ttlock", form)


def connect(server: LockhubServer, seam: Seam, form: dict[str, str]) -> str:
    webview = seam.connect_webviews.create(accepted_providers=["ttlock"])
    page = submit(server, webview, form)
    assert page.status_code == 200 and 'role="alert"' not in page.text, page.text
    webview = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert webview.status == "authorized" and webview.login_successful
    return webview.connected_account_id


@pytest.fixture(scope="module")
def account(server: LockhubServer, seam: Seam) -> str:
    return connect(server, seam, sign_in_form())


def test_the_production_form_asks_for_the_open_platform_app_and_the_app_account(
        server: LockhubServer, seam: Seam) -> None:
    webview = seam.connect_webviews.create(accepted_providers=["ttlock"])
    page = httpx.get(f"{webview.url}&provider=ttlock", timeout=30).text
    for field in ("client_id", "client_secret", "username", "password"):
        assert f'name="{field}"' in page


def test_a_wrong_secret_or_password_shows_on_the_form_and_stores_nothing(
        server: LockhubServer, seam: Seam) -> None:
    before = len(seam.connected_accounts.list())
    webview = seam.connect_webviews.create(accepted_providers=["ttlock"])
    for form in (sign_in_form(client_secret="not-the-secret"),
                 sign_in_form(password="wrong-password")):
        page = submit(server, webview, form)
        assert page.status_code == 200 and 'role="alert"' in page.text
        assert "not-the-secret" not in page.text and "wrong-password" not in page.text
    assert seam.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "pending"
    assert len(seam.connected_accounts.list()) == before


def test_signing_in_stores_only_the_password_hash_and_lists_the_locks(
        server: LockhubServer, seam: Seam, account: str, cloud: SeededCloud) -> None:
    stored = stored_credentials(server, account, SECRET_KEY)
    assert stored["password_md5"] == md5_hex(PASSWORD)
    assert PASSWORD not in json.dumps(stored)
    identity = seam.connected_accounts.get(connected_account_id=account).user_identifier
    assert PASSWORD not in str(identity) and CLIENT_SECRET not in str(identity)

    front = lock_named(seam, account, "Front Door")
    assert (front.device_type, front.properties.manufacturer) == ("ttlock_lock", "ttlock")
    assert front.properties.online and front.properties.battery_level == 0.9
    assert front.can_remotely_unlock and front.can_program_online_access_codes
    assert front.can_program_offline_access_codes  # generated passcodes
    assert front.properties.supported_code_lengths == [4, 5, 6, 7, 8, 9]
    assert front.properties.ttlock_metadata.lock_id == cloud.front
    assert not front.errors

    back = seam.devices.get(device_id=lock_named(seam, account, "Back Door").device_id)
    assert {e["error_code"] for e in back.errors} == {"hub_disconnected"}
    office = lock_named(seam, account, "Office")
    assert not office.can_program_online_access_codes  # passcode version 3: no custom codes
    assert office.can_program_offline_access_codes  # ... but generated ones


def test_unlock_and_lock_through_the_gateway(seam: Seam, account: str,
                                             cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"
    assert cloud.lock(cloud.front).locked is False
    assert seam.locks.get(device_id=device.device_id).properties.locked is False
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"
    assert cloud.lock(cloud.front).locked is True
    # the records of lockhub's own commands reach the poll, and are not events twice
    cloud.open_from_inside(cloud.front)
    wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                        if e.method == "manual"], message="the manual unlock after them")
    remote = [e for e in events_of(seam, device.device_id, "lock.unlocked")
              if e.method == "remote"]
    assert len(remote) == 1


def test_a_lock_without_gateway_fails_with_a_typed_error(seam: Seam, account: str) -> None:
    device = lock_named(seam, account, "Back Door")
    with pytest.raises(SeamActionAttemptFailedError) as failed:
        seam.locks.unlock_door(device_id=device.device_id)
    assert failed.value.action_attempt.error.type == "hub_disconnected"


def test_remote_unlock_switched_off_in_the_app_shows_the_brand_warning(
        seam: Seam, account: str, cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Office")
    features = cloud.lock(cloud.office).features
    cloud.set_lock(cloud.office, features=FEATURE_LOCK_REMOTELY)
    try:
        found = wait_until(lambda: (d := seam.devices.get(device_id=device.device_id))
                           and not d.can_remotely_unlock and d, message="remote unlock off")
        assert [w["warning_code"] for w in found.warnings] == [
            "ttlock_lock_gateway_unlocking_not_enabled"]
        assert found.can_remotely_lock
    finally:
        cloud.set_lock(cloud.office, features=features)
    wait_until(lambda: seam.devices.get(device_id=device.device_id).can_remotely_unlock,
               message="remote unlock back on")


def test_an_ongoing_code_and_a_keypad_unlock_naming_it(seam: Seam, account: str,
                                                       cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    code = seam.access_codes.create(device_id=device.device_id, name="Guest", code="4682")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=30, message="the code set")
    on_lock = [p for p in cloud.lock(cloud.front).passcodes.values() if p.code == "4682"]
    assert len(on_lock) == 1 and (on_lock[0].start_ms, on_lock[0].end_ms) == (0, 0)
    assert cloud.enter_pin(cloud.front, "4682") is not None
    keyed = wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                                if e.method == "keycode"], message="the keypad event")
    assert keyed[0].access_code_id == code.access_code_id
    seam.access_codes.delete(access_code_id=code.access_code_id)
    wait_until(lambda: not [p for p in cloud.lock(cloud.front).passcodes.values()
                            if p.code == "4682"], timeout=30, message="the code removed")


def test_a_time_bound_code_is_written_with_its_window_and_removed_at_its_end(
        server: LockhubServer, seam: Seam, account: str, cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    clock = production_clock(server)
    start = datetime(2031, 3, 1, 15, 0, tzinfo=UTC)
    end = start + timedelta(days=2)

    def on_lock() -> list[Any]:
        return [p for p in cloud.lock(cloud.front).passcodes.values() if p.code == "97531"]

    try:
        assert clock.post("/set", json={"now": "2031-02-20T12:00:00Z",
                                        "frozen": True}).status_code == 200
        code = seam.access_codes.create(device_id=device.device_id, name="Stay", code="97531",
                                        starts_at=start.isoformat(), ends_at=end.isoformat())
        assert not on_lock()
        # the lock enforces the window itself, so the code goes on ahead of it
        clock.post("/set", json={"now": "2031-02-27T12:00:00Z", "frozen": True})
        wait_until(on_lock, timeout=30, message="the code written ahead of its window")
        written = on_lock()[0]
        assert (written.start_ms, written.end_ms) == (int(start.timestamp() * 1000),
                                                      int(end.timestamp() * 1000))
        assert seam.access_codes.get(access_code_id=code.access_code_id).status == "unset"
        clock.post("/set", json={"now": "2031-03-01T15:00:00Z", "frozen": True})
        wait_until(lambda: seam.access_codes.get(
            access_code_id=code.access_code_id).status == "set", timeout=30,
            message="the code set at starts_at")
        clock.post("/set", json={"now": "2031-03-03T15:00:00Z", "frozen": True})
        wait_until(lambda: not on_lock(), timeout=30, message="the code removed at ends_at")
    finally:
        clock.post("/unfreeze")
        clock.post("/set", json={"now": datetime.now(UTC).isoformat(), "frozen": False})


def test_an_outage_disconnects_the_account_and_a_code_made_meanwhile_converges(
        seam: Seam, account: str, cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    with disconnected_by_outage(seam, account, cloud.set_outage):
        code = seam.access_codes.create(device_id=device.device_id, name="While down",
                                        code="8642")
    wait_until(lambda: not account_errors(seam, account), timeout=60,
               message="the account reconnected")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=60, message="the code made during the outage set")
    assert any(p.code == "8642" for p in cloud.lock(cloud.front).passcodes.values())
    seam.access_codes.delete(access_code_id=code.access_code_id)


def test_a_refreshed_token_is_stored(server: LockhubServer, seam: Seam, account: str,
                                     cloud: SeededCloud) -> None:
    before = stored_credentials(server, account, SECRET_KEY)
    cloud.expire_tokens()
    wait_until(lambda: stored_credentials(server, account, SECRET_KEY)["access_token"]
               != before["access_token"], timeout=30, message="the refreshed token stored")
    assert not account_errors(seam, account)
    device = lock_named(seam, account, "Front Door")
    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"


def test_a_revoked_token_disconnects_until_a_new_sign_in_restores_the_account(
        server: LockhubServer, seam: Seam, account: str, cloud: SeededCloud) -> None:
    world = cloud.world
    world.accounts[USERNAME].password_md5 = md5_hex("changed-password-9")
    world.tokens.clear()
    world.revoke_refresh_tokens()
    wait_until(lambda: "account_disconnected" in account_errors(seam, account), timeout=30,
               message="account_disconnected")
    device = lock_named(seam, account, "Front Door")
    assert any(e["error_code"] == "account_disconnected"
               for e in seam.devices.get(device_id=device.device_id).errors)
    again = connect(server, seam, sign_in_form(password="changed-password-9"))
    assert again == account
    wait_until(lambda: not account_errors(seam, account), timeout=30,
               message="the account restored")
    assert stored_credentials(server, account, SECRET_KEY)["password_md5"] == md5_hex("changed-password-9")
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"


# --- the callback push ------------------------------------------------------------------


def callback_url(server: LockhubServer, client_id: str = CLIENT_ID) -> str:
    """The URL `lockhub ttlock callback-url` prints for the server (its key comes from the
    server's secret)."""
    done = subprocess.run(
        [sys.executable, "-m", "lockhub.cli", "ttlock", "callback-url", "--client-id", client_id],
        env={**os.environ, **server.env, "LOCKHUB_PUBLIC_URL": server.url},
        capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def keycode_events(seam: Seam, device_id: str, access_code_id: str) -> list[Any]:
    return [e for e in events_of(seam, device_id, "lock.unlocked")
            if e.method == "keycode" and e.access_code_id == access_code_id]


def test_a_keypad_unlock_pushed_to_the_callback_url_is_an_event_at_once_and_only_once(
        server: LockhubServer, seam: Seam, account: str, cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    code = seam.access_codes.create(device_id=device.device_id, name="Pushed", code="5173")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=30, message="the code set")
    cloud.callback_url = callback_url(server)
    cloud.hold_requests()  # the poll cannot see the record: only the push can bring it
    try:
        cloud.app.slow.wait_held(1)
        cloud.enter_pin(cloud.front, "5173")
        assert cloud.pusher.delivered[-1][1] == 200
        assert cloud.pusher.delivered[-1][0]["lockId"] == str(cloud.front)
        assert len(keycode_events(seam, device.device_id, code.access_code_id)) == 1
        pushed = cloud.pusher.delivered[-1][0]
        for forged in (f"{server.url}/_lockhub/callbacks/ttlock?clientId={CLIENT_ID}",
                       callback_url(server) + "x"):  # knowing the client id is not enough
            replay = httpx.post(forged, data={**pushed, "records": pushed["records"]},
                                timeout=30)
            assert replay.status_code == 401, replay.text
    finally:
        cloud.callback_url = None
        cloud.release_requests()
    polled = len(cloud.world.calls)
    wait_until(lambda: "/v3/lockRecord/list" in cloud.world.calls[polled:],
               message="a poll of the records after the push")
    wait_until(lambda: cloud.world.calls[polled:].count("/v3/lock/list") >= 2,
               message="a whole poll cycle")
    assert len(keycode_events(seam, device.device_id, code.access_code_id)) == 1
    seam.access_codes.delete(access_code_id=code.access_code_id)


def test_a_push_for_another_application_or_not_from_ttlock_is_not_applied(
        server: LockhubServer, seam: Seam, account: str, cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    before = len(events_of(seam, device.device_id, "lock.locked"))
    cloud.callback_url = callback_url(server, client_id="someone-elses-app")
    cloud.hold_requests()
    try:
        cloud.app.slow.wait_held(1)
        cloud.auto_lock(cloud.front)
        assert cloud.pusher.delivered[-1][1] == 200  # TTLock is answered, nothing applied
        assert len(events_of(seam, device.device_id, "lock.locked")) == before
    finally:
        cloud.callback_url = None
        cloud.release_requests()
    wait_until(lambda: len(events_of(seam, device.device_id, "lock.locked")) == before + 1,
               message="the poll bringing the auto-lock")
    assert [e.method for e in events_of(seam, device.device_id, "lock.locked")
            if e.method == "automatic"]
    bad = httpx.post(callback_url(server), data={"notifyType": "1"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_input"


# --- offline (generated) passcodes ------------------------------------------------------


def whole_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def issued_code(seam: Seam, access_code_id: str) -> Any:
    return wait_until(lambda: (c := seam.access_codes.get(access_code_id=access_code_id))
                      and c.status == "set" and c, timeout=30,
                      message="the offline code registered with TTLock and set")


def generated(cloud: SeededCloud, lock_id: int, pin: str) -> list[Any]:
    return [p for p in cloud.lock(lock_id).passcodes.values() if p.code == pin]


def test_an_offline_code_is_a_generated_passcode_and_a_keypad_unlock_names_it(
        seam: Seam, account: str, cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Back Door")  # no gateway: generated codes need none
    assert device.can_program_offline_access_codes
    now = datetime.now(UTC)
    created = seam.access_codes.create(
        device_id=device.device_id, name="Cleaner", is_offline_access_code=True,
        starts_at=now.isoformat(), ends_at=(now + timedelta(hours=2, minutes=10)).isoformat())
    assert created.code is None  # TTLock picks it
    assert datetime.fromisoformat(created.starts_at.replace("Z", "+00:00")) == whole_hour(now)
    code = issued_code(seam, created.access_code_id)
    [passcode] = generated(cloud, cloud.back, code.code)
    assert (passcode.is_custom, passcode.type, passcode.name) == (False, 3, "Cleaner")
    assert (passcode.start_ms, passcode.end_ms) == (ms(code.starts_at), ms(code.ends_at))
    assert [w.warning_code for w in code.warnings] == [
        "offline_access_code_cannot_be_removed_remotely"]
    [event] = seam.events.list(access_code_id=created.access_code_id, since=EPOCH_ISO,
                               event_types=["access_code.set_on_device"])
    assert event.code == code.code

    assert cloud.enter_pin(cloud.back, code.code) is not None
    keyed = wait_until(lambda: keycode_events(seam, device.device_id, created.access_code_id),
                       message="the keypad unlock naming the offline code")
    assert len(keyed) == 1


def test_offline_code_windows_follow_ttlocks_rules(seam: Seam, account: str,
                                                   cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Office")  # passcode version 3: generated codes only
    start = whole_hour(datetime.now(UTC)) + timedelta(hours=2)
    stay = seam.access_codes.create(device_id=device.device_id, is_offline_access_code=True,
                                    starts_at=start.isoformat(),
                                    ends_at=(start + timedelta(days=3)).isoformat())
    assert [w.warning_code for w in stay.warnings] == [
        "ttlock_offline_code_must_be_used_within_24_hours",
        "offline_access_code_cannot_be_removed_remotely"]
    once = seam.access_codes.create(device_id=device.device_id, is_offline_access_code=True,
                                    is_one_time_use=True, starts_at=start.isoformat())
    assert ms(once.ends_at) - ms(once.starts_at) == 6 * 3_600_000
    for created, kind in ((stay, 3), (once, 1)):
        issued = wait_until(lambda c=created: seam.access_codes.get(
            access_code_id=c.access_code_id).code, timeout=30, message="the PIN issued")
        assert seam.access_codes.get(access_code_id=created.access_code_id).status == "unset"
        [passcode] = generated(cloud, cloud.office, issued)
        assert (passcode.type, passcode.version) == (kind, 3)
        assert passcode.start_ms == int(start.timestamp() * 1000)
    with pytest.raises(SeamHttpInvalidInputError) as refused:
        seam.access_codes.create(device_id=device.device_id, is_offline_access_code=True,
                                 is_one_time_use=True, starts_at=start.isoformat(),
                                 ends_at=(start + timedelta(hours=12)).isoformat())
    assert "within 6 hours" in str(refused.value)
    with pytest.raises(SeamHttpApiError) as not_deleted:
        seam.access_codes.delete(access_code_id=stay.access_code_id)
    assert not_deleted.value.code == "offline_access_code_cannot_be_deleted"


def test_an_outage_delays_registration_until_ttlock_answers_again(
        seam: Seam, account: str, cloud: SeededCloud) -> None:
    device = lock_named(seam, account, "Back Door")
    with disconnected_by_outage(seam, account, cloud.set_outage):
        created = seam.access_codes.create(device_id=device.device_id, name="Late",
                                           is_offline_access_code=True)
        assert seam.access_codes.get(access_code_id=created.access_code_id).code is None
    code = wait_until(lambda: (c := seam.access_codes.get(
        access_code_id=created.access_code_id)).status == "set" and c, timeout=60,
        message="the code registered once TTLock is back")
    [passcode] = generated(cloud, cloud.back, code.code)
    assert (passcode.type, passcode.end_ms) == (2, 0)  # permanent
