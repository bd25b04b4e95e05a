"""igloohome locks behind the Seam API: the official SDK against a lockhub server whose production
workspace is connected, through a Connect Webview, to the fake igloohome cloud
(tests/fakes/igloohome/) with an iglooaccess API key. The lock's side (keypad, thumb-turn, bridge
going offline, lock out of the bridge's range) is driven on the fake's world.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from seam import Seam, SeamHttpInvalidInputError
from seam.exceptions import SeamActionAttemptFailedError

from tests.conformance.helpers import wait_until
from tests.fakes.igloohome.conftest import BACK_DOOR, BRIDGE, FRONT_DOOR, KEYBOX, KEYPAD
from tests.fakes.igloohome.jobs import JOB_CREATE_PIN, JOB_DELETE_PIN
from tests.fakes.igloohome.server import IgloohomeCloud
from tests.providers.webview import (
    disconnected_by_outage,
    events_of,
    lock_named,
    production_clock,
    production_seam,
)
from tests.providers.webview import submit as submit_form
from tests.server import LockhubServer, start_server

CLIENT_ID = "lockhub-api-key"
SECRET = "s3cret-igloo"


@pytest.fixture(scope="module")
def cloud() -> Iterator[IgloohomeCloud]:
    fake = IgloohomeCloud()  # the system clock: lockhub's server reads the same time
    fake.tokens.add_client(CLIENT_ID, SECRET)
    world = fake.world
    world.add_bridge(BRIDGE, "Bridge")
    world.add_lock(FRONT_DOOR, "Front Door", bridge=BRIDGE, battery_level=100)
    world.add_lock(BACK_DOOR, "Back Door", bridge=BRIDGE, battery_level=35)
    world.add_keypad(KEYPAD, BACK_DOOR)
    world.add_lock(KEYBOX, "Keybox", battery_level=80)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           cloud: IgloohomeCloud) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path_factory.mktemp("lockhub-igloohome"), env={
        "LOCKHUB_ENGINE_POLL_SECONDS": "0.05", "LOCKHUB_DEVICE_SYNC_SECONDS": "3600",
        "LOCKHUB_RADIO_COMMAND_TIMEOUT_SECONDS": "3", "LOCKHUB_IGLOOHOME_POLL_SECONDS": "0.2",
        "LOCKHUB_TEST_PRODUCTION_CLOCK": "1", "LOCKHUB_IGLOOHOME_API_URL": cloud.api_url,
        "LOCKHUB_IGLOOHOME_AUTH_URL": cloud.auth_url})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def seam(server: LockhubServer) -> Seam:
    return production_seam(server)


def submit(server: LockhubServer, webview: Any, secret: str = SECRET) -> httpx.Response:
    return submit_form(server, webview, "igloohome",
                       {"client_id": CLIENT_ID, "client_secret": secret})


@pytest.fixture(scope="module")
def account(server: LockhubServer, seam: Seam) -> str:
    webview = seam.connect_webviews.create(accepted_providers=["igloohome"])
    page = submit(server, webview)
    assert page.status_code == 200 and 'role="alert"' not in page.text, page.text
    webview = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert webview.status == "authorized"
    return webview.connected_account_id


def pins(cloud: IgloohomeCloud, lock_id: str) -> dict[str, Any]:
    with cloud.world.lock:
        return {p.pin: p for p in cloud.world.locks[lock_id].pins}


def pin_jobs(cloud: IgloohomeCloud, lock_id: str, job_type: int) -> list[dict[str, Any]]:
    """The data of every PIN job of this type the bridge was given for the lock."""
    with cloud.jobs.lock:
        return [dict(j.data) for j in cloud.jobs.jobs.values()
                if j.lock_id == lock_id and j.job_type == job_type]


def code_status(seam: Seam, access_code_id: str) -> str:
    return seam.access_codes.get(access_code_id=access_code_id).status


def code_set(seam: Seam, device_id: str, name: str, pin: str) -> Any:
    """A new ongoing code, once lockhub has set it on the lock."""
    code = seam.access_codes.create(device_id=device_id, name=name, code=pin)
    wait_until(lambda: code_status(seam, code.access_code_id) == "set", timeout=30,
               message=f"the code {name} set")
    return code


def test_a_wrong_secret_shows_on_the_form_and_stores_nothing(
        server: LockhubServer, seam: Seam) -> None:
    webview = seam.connect_webviews.create(accepted_providers=["igloohome"])
    page = submit(server, webview, secret="wrong-secret")
    assert page.status_code == 200 and 'role="alert"' in page.text
    assert "wrong-secret" not in page.text
    assert seam.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "pending"
    assert not seam.connected_accounts.list()


def test_connecting_lists_the_locks_with_battery_and_bridge(seam: Seam, account: str) -> None:
    front = lock_named(seam, account, "Front Door")
    back = lock_named(seam, account, "Back Door")
    keybox = lock_named(seam, account, "Keybox")
    assert front.device_type == "igloohome_lock"
    assert front.device_provider.device_provider_name == "igloohome"
    assert back.properties.battery_level == 0.35
    assert front.properties.model.display_name == "igloohome Smart Deadbolt 2S"
    assert keybox.properties.model.display_name == "igloohome Smart Keybox 3"
    assert front.can_program_online_access_codes
    assert front.can_program_offline_access_codes and keybox.can_program_offline_access_codes
    assert not any(e["error_code"] == "hub_disconnected" for e in front.errors)
    assert any(e["error_code"] == "hub_disconnected" for e in keybox.errors)  # no bridge
    identity = seam.connected_accounts.get(connected_account_id=account).user_identifier
    assert SECRET not in str(identity)


def test_unlock_and_lock_succeed_when_the_bridge_job_is_done(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"
    assert cloud.world.locks[FRONT_DOOR].locked is False
    assert seam.locks.get(device_id=device.device_id).properties.locked is False
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"
    assert cloud.world.locks[FRONT_DOOR].locked is True
    assert seam.locks.get(device_id=device.device_id).properties.locked is True
    remote = [e for e in events_of(seam, device.device_id, "lock.unlocked")
              if e.method == "remote"]
    assert len(remote) == 1, "lockhub's own unlock is recorded once, not again from the log"


def test_a_lock_out_of_range_fails_the_attempt_with_a_typed_error(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    cloud.world.locks[FRONT_DOOR].in_bridge_range = False
    try:
        with pytest.raises(SeamActionAttemptFailedError) as failed:
            seam.locks.unlock_door(device_id=device.device_id)
        assert failed.value.action_attempt.error.type == "device_offline"
    finally:
        cloud.world.locks[FRONT_DOOR].in_bridge_range = True
    assert cloud.world.locks[FRONT_DOOR].locked is True


def test_a_bridge_gone_offline_shows_when_a_job_is_refused(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    cloud.world.bridges[BRIDGE].online = False
    try:
        with pytest.raises(SeamActionAttemptFailedError) as failed:
            seam.locks.unlock_door(device_id=device.device_id)
        assert failed.value.action_attempt.error.type == "hub_disconnected"
        wait_until(lambda: any(e["error_code"] == "hub_disconnected" for e in
                               seam.devices.get(device_id=device.device_id).errors),
                   message="hub_disconnected on the lock")
    finally:
        cloud.world.bridges[BRIDGE].online = True
    wait_until(lambda: not seam.devices.get(device_id=device.device_id).errors, timeout=30,
               message="the bridge back")
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"


def test_an_ongoing_code_is_set_used_at_the_keypad_and_removed(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Back Door")
    code = code_set(seam, device.device_id, "Guest", "246810")
    stored = pins(cloud, BACK_DOOR)["246810"]
    assert (stored.name, stored.starts_at, stored.ends_at) == ("Guest", None, None)
    assert cloud.world.enter_pin(BACK_DOOR, "246810")
    keyed = wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                                if e.method == "keycode"], timeout=30,
                       message="the keypad event")
    assert keyed[0].access_code_id == code.access_code_id
    assert seam.locks.get(device_id=device.device_id).properties.locked is False
    cloud.world.turn_by_hand(BACK_DOOR, locked=True)
    wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.locked")
                        if e.method == "manual"], timeout=30, message="the manual lock event")
    seam.access_codes.delete(access_code_id=code.access_code_id)
    wait_until(lambda: "246810" not in pins(cloud, BACK_DOOR), timeout=30,
               message="the code removed from the lock")


def test_a_changed_pin_replaces_the_old_one_by_its_digits_and_keypad_use_names_the_code(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Back Door")
    code = code_set(seam, device.device_id, "Cleaner", "135790")
    seam.access_codes.update(access_code_id=code.access_code_id, code="864200")
    wait_until(lambda: "864200" in pins(cloud, BACK_DOOR), timeout=30,
               message="the new PIN on the lock")
    assert "135790" not in pins(cloud, BACK_DOOR)
    assert {"pin": "135790"} in pin_jobs(cloud, BACK_DOOR, JOB_DELETE_PIN)
    wait_until(lambda: code_status(seam, code.access_code_id) == "set", timeout=30,
               message="the changed code set")
    assert cloud.world.enter_pin(BACK_DOOR, "864200")
    keyed = wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                                if e.method == "keycode"
                                and e.access_code_id == code.access_code_id], timeout=30,
                       message="the keypad event naming the code")
    assert keyed[0].access_code_is_managed
    cloud.world.turn_by_hand(BACK_DOOR, locked=True)
    seam.access_codes.delete(access_code_id=code.access_code_id)
    wait_until(lambda: "864200" not in pins(cloud, BACK_DOOR), timeout=30,
               message="the code removed from the lock")
    assert {"pin": "864200"} in pin_jobs(cloud, BACK_DOOR, JOB_DELETE_PIN)


def test_lockhub_trusts_the_pins_it_set_and_lists_none_it_cannot_see(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    """igloohome lists no PINs: a read-back neither rewrites lockhub's codes, nor reports a PIN
    removed in the igloohome app, nor turns a PIN added there into an unmanaged code."""
    device = lock_named(seam, account, "Front Door")
    kept = code_set(seam, device.device_id, "Kept", "112233")
    gone = code_set(seam, device.device_id, "Gone", "445566")
    with cloud.world.lock:
        lock = cloud.world.locks[FRONT_DOOR]
        lock.pins.remove(lock.find_pin("445566"))  # removed in the igloohome app
        cloud.world.add_pin(lock, pin="778899", name="From the app", kind="custom")
    seam.connected_accounts.sync(connected_account_id=account)
    # A device's jobs run in order: once a code made after the sync is set, the read-back ran.
    later = code_set(seam, device.device_id, "Later", "990011")
    for code in (kept, gone):
        served = seam.access_codes.get(access_code_id=code.access_code_id)
        assert (served.status, served.errors) == ("set", [])
    assert seam.access_codes.unmanaged.list(device_id=device.device_id) == []
    assert not events_of(seam, device.device_id, "access_code.deleted_external_to_seam")
    assert not events_of(seam, device.device_id, "access_code.unmanaged.created")
    created = [j["pin"] for j in pin_jobs(cloud, FRONT_DOOR, JOB_CREATE_PIN)]
    assert created.count("112233") == 1 and created.count("445566") == 1
    for code in (kept, gone, later):
        seam.access_codes.delete(access_code_id=code.access_code_id)
    wait_until(lambda: not {"112233", "990011"} & set(pins(cloud, FRONT_DOOR)), timeout=30,
               message="the codes removed")
    wait_until(lambda: not seam.access_codes.list(device_id=device.device_id), timeout=30,
               message="the codes deleted, the one already gone too")


def test_a_time_bound_code_goes_to_the_lock_with_its_window_and_leaves_at_its_end(
        server: LockhubServer, seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    clock = production_clock(server)
    start = datetime(2031, 3, 1, 15, 0, tzinfo=UTC)
    end = start + timedelta(days=2)
    try:
        assert clock.post("/set", json={"now": "2031-02-25T12:00:00Z",
                                        "frozen": True}).status_code == 200
        code = seam.access_codes.create(device_id=device.device_id, name="Stay", code="97531",
                                        starts_at=start.isoformat(), ends_at=end.isoformat())
        assert code_status(seam, code.access_code_id) == "unset"
        assert "97531" not in pins(cloud, FRONT_DOOR)
        # Within lockhub's preload window the PIN goes to the lock with its window.
        clock.post("/set", json={"now": "2031-02-27T12:00:00Z", "frozen": True})
        stored = wait_until(lambda: pins(cloud, FRONT_DOOR).get("97531"), timeout=30,
                            message="the PIN with its window on the lock")
        assert (stored.starts_at, stored.ends_at) == (start, end)
        wait_until(lambda: seam.access_codes.get(
            access_code_id=code.access_code_id).is_scheduled_on_device, timeout=30,
            message="scheduled on the lock")
        assert code_status(seam, code.access_code_id) == "unset"
        clock.post("/set", json={"now": "2031-03-01T15:00:00Z", "frozen": True})
        wait_until(lambda: code_status(seam, code.access_code_id) == "set", timeout=30,
                   message="the code active at starts_at")
        clock.post("/set", json={"now": "2031-03-03T15:00:00Z", "frozen": True})
        wait_until(lambda: "97531" not in pins(cloud, FRONT_DOOR), timeout=30,
                   message="the PIN removed at ends_at")
    finally:
        clock.post("/unfreeze")
        clock.post("/set", json={"now": datetime.now(UTC).isoformat(), "frozen": False})


def test_an_outage_disconnects_the_account_and_a_code_made_meanwhile_converges(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    with disconnected_by_outage(seam, account, cloud.outage):
        code = seam.access_codes.create(device_id=device.device_id, name="While down",
                                        code="9753")
    wait_until(lambda: not seam.connected_accounts.get(connected_account_id=account).errors,
               timeout=60, message="the account reconnected")
    wait_until(lambda: code_status(seam, code.access_code_id) == "set", timeout=60,
               message="the pending code converged")
    assert "9753" in pins(cloud, FRONT_DOOR)
    seam.access_codes.delete(access_code_id=code.access_code_id)
    wait_until(lambda: "9753" not in pins(cloud, FRONT_DOOR), timeout=30,
               message="the code removed")


def test_a_revoked_api_key_disconnects_and_a_new_sign_in_restores_the_account(
        server: LockhubServer, seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    cloud.tokens.remove_client(CLIENT_ID)
    cloud.tokens.revoke_all()
    wait_until(lambda: any(e["error_code"] == "account_disconnected" for e in
                           seam.connected_accounts.get(connected_account_id=account).errors),
               timeout=30, message="account_disconnected")
    cloud.tokens.add_client(CLIENT_ID, "rotated-secret")
    webview = seam.connect_webviews.create(accepted_providers=["igloohome"])
    page = submit(server, webview, secret="rotated-secret")
    assert page.status_code == 200 and 'role="alert"' not in page.text, page.text
    webview = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert webview.connected_account_id == account
    wait_until(lambda: not seam.connected_accounts.get(connected_account_id=account).errors,
               timeout=30, message="the account reconnected")
    device = lock_named(seam, account, "Front Door")
    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"


# --- offline algoPINs ---------------------------------------------------------------------


def whole_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def issued(seam: Seam, access_code_id: str) -> Any:
    """The code once igloohome issued its PIN."""
    return wait_until(lambda: (c := seam.access_codes.get(access_code_id=access_code_id)).code
                      and c, timeout=30, message="the algoPIN issued")


def test_an_offline_code_is_an_algopin_without_a_bridge(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Keybox")  # no bridge: algoPINs need none
    now = datetime.now(UTC)
    created = seam.access_codes.create(
        device_id=device.device_id, name="Courier", is_offline_access_code=True,
        starts_at=now.isoformat(), ends_at=(now + timedelta(hours=3)).isoformat())
    assert created.code is None and created.is_waiting_for_code_assignment
    code = wait_until(lambda: (c := seam.access_codes.get(
        access_code_id=created.access_code_id)).status == "set" and c, timeout=30,
        message="the algoPIN set")
    algopin = pins(cloud, KEYBOX)[code.code]
    assert (algopin.kind, algopin.name, algopin.variance) == ("hourly", "Courier", 1)
    assert (algopin.starts_at, algopin.ends_at) == (whole_hour(now),
                                                    whole_hour(now) + timedelta(hours=4))
    assert [w.warning_code for w in code.warnings] == [
        "offline_access_code_cannot_be_removed_remotely"]
    # A second guest with the same window gets the slot's next PIN.
    again = seam.access_codes.create(
        device_id=device.device_id, name="Second", is_offline_access_code=True,
        starts_at=now.isoformat(), ends_at=(now + timedelta(hours=3)).isoformat())
    other = issued(seam, again.access_code_id)
    assert other.code != code.code and pins(cloud, KEYBOX)[other.code].variance == 2
    assert cloud.world.enter_pin(KEYBOX, code.code)  # the lock knows it by itself


def test_day_rounding_issues_a_daily_algopin_that_must_be_used_within_24_hours(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    start = whole_hour(datetime.now(UTC)) + timedelta(hours=2, minutes=15)
    created = seam.access_codes.create(
        device_id=device.device_id, name="Tenant", is_offline_access_code=True,
        max_time_rounding="1day", starts_at=start.isoformat(),
        ends_at=(start + timedelta(days=45)).isoformat())
    assert [w.warning_code for w in created.warnings] == [
        "igloo_algopin_must_be_used_within_24_hours",
        "offline_access_code_cannot_be_removed_remotely"]
    code = issued(seam, created.access_code_id)
    assert code.status == "unset"  # issued ahead of its window
    algopin = pins(cloud, FRONT_DOOR)[code.code]
    assert algopin.kind == "daily"
    assert (algopin.starts_at, algopin.ends_at) == (when(code.starts_at), when(code.ends_at))
    assert algopin.ends_at - algopin.starts_at == timedelta(days=46)


def test_one_time_and_permanent_algopins(seam: Seam, account: str,
                                         cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Back Door")
    start = whole_hour(datetime.now(UTC)) + timedelta(hours=5)
    once = seam.access_codes.create(device_id=device.device_id, name="Once",
                                    is_offline_access_code=True, is_one_time_use=True,
                                    starts_at=start.isoformat())
    assert when(once.ends_at) - when(once.starts_at) == timedelta(hours=24)
    forever = seam.access_codes.create(device_id=device.device_id, name="Owner",
                                       is_offline_access_code=True)
    assert forever.type == "ongoing"
    issued_pins = [issued(seam, c.access_code_id).code for c in (once, forever)]
    assert [pins(cloud, BACK_DOOR)[pin].kind for pin in issued_pins] == ["onetime", "permanent"]


def test_algopin_windows_igloohome_cannot_issue_are_refused(seam: Seam, account: str) -> None:
    device = lock_named(seam, account, "Front Door")
    start = whole_hour(datetime.now(UTC)) + timedelta(hours=1)
    with pytest.raises(SeamHttpInvalidInputError) as refused:
        seam.access_codes.create(device_id=device.device_id, is_offline_access_code=True,
                                 starts_at=start.isoformat(),
                                 ends_at=(start + timedelta(days=30)).isoformat())
    assert "at most 672 hours" in str(refused.value) and "1d" in str(refused.value)
    with pytest.raises(SeamHttpInvalidInputError) as refused:
        seam.access_codes.create(device_id=device.device_id, is_offline_access_code=True,
                                 max_time_rounding="1d", starts_at=start.isoformat(),
                                 ends_at=(start + timedelta(days=400)).isoformat())
    assert "29-367 days" in str(refused.value)


def test_an_outage_delays_an_algopin_until_igloohome_answers_again(
        seam: Seam, account: str, cloud: IgloohomeCloud) -> None:
    device = lock_named(seam, account, "Keybox")
    with disconnected_by_outage(seam, account, cloud.outage):
        created = seam.access_codes.create(device_id=device.device_id, name="Late",
                                           is_offline_access_code=True)
        assert seam.access_codes.get(access_code_id=created.access_code_id).code is None
    code = wait_until(lambda: (c := seam.access_codes.get(
        access_code_id=created.access_code_id)).status == "set" and c, timeout=60,
        message="the algoPIN issued once igloohome is back")
    assert pins(cloud, KEYBOX)[code.code].kind == "permanent"
