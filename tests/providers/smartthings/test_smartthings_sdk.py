"""SmartThings locks behind the Seam API: the official SDK against a lockhub server whose
production workspace signs in to the fake SmartThings cloud (tests/fakes/smartthings) through a
Connect Webview, driving the OAuth flow as a browser does: lockhub's "Continue" link to the
fake's authorize page, its login form, the redirect back to lockhub's callback.

The fake's per-device rate limit is relaxed (lockhub polls every 0.2 s here); its clock is
moved a second before each change at a lock, so history rows have distinct times.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from seam import Seam
from seam.exceptions import SeamActionAttemptFailedError

from tests.conformance.helpers import wait_until
from tests.fakes.smartthings.cloud import (
    CLIENT_ID,
    CLIENT_SECRET,
    SANDBOX_EMAIL,
    SANDBOX_PASSWORD,
    Cloud,
)
from tests.fakes.smartthings.conftest import BACK_DOOR, FRONT_DOOR, populate
from tests.fakes.smartthings.server import FakeSmartThings
from tests.providers.webview import (
    account_errors,
    events_of,
    lock_named,
    production_clock,
    production_seam,
)
from tests.server import LockhubServer, start_server

CALLBACK = "/connect_webviews/oauth/callback"


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    fake = FakeSmartThings()
    populate(fake.cloud)
    fake.cloud.limiter.per_minute = 100_000
    fake.start()
    yield fake.cloud
    fake.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, cloud: Cloud) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path_factory.mktemp("lockhub-smartthings"), env={
        "LOCKHUB_ENGINE_POLL_SECONDS": "0.05", "LOCKHUB_DEVICE_SYNC_SECONDS": "3600",
        "LOCKHUB_RADIO_COMMAND_TIMEOUT_SECONDS": "2", "LOCKHUB_TEST_PRODUCTION_CLOCK": "1",
        "LOCKHUB_SMARTTHINGS_POLL_SECONDS": "0.2",
        "LOCKHUB_SMARTTHINGS_API_URL": cloud.url, "LOCKHUB_SMARTTHINGS_AUTH_URL": cloud.auth_url,
        "LOCKHUB_SMARTTHINGS_CLIENT_ID": CLIENT_ID,
        "LOCKHUB_SMARTTHINGS_CLIENT_SECRET": CLIENT_SECRET})
    # The user registered lockhub's callback as a redirect URI of their app.
    cloud.oauth.apps[CLIENT_ID].redirect_uris.append(f"{srv.url}{CALLBACK}")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def seam(server: LockhubServer) -> Seam:
    return production_seam(server)


def continue_link(webview: Any) -> str:
    page = httpx.get(f"{webview.url}&provider=smartthings", timeout=30)
    assert page.status_code == 200, page.text
    found = re.search(r'<a class="button" href="([^"]+)">Continue to SmartThings</a>', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def authorize(cloud: Cloud, link: str, password: str = SANDBOX_PASSWORD) -> httpx.Response:
    """The user signs in on SmartThings' page; returns its answer (a redirect when allowed)."""
    page = httpx.get(link, timeout=30)
    assert page.status_code == 200, page.text
    hidden = {name: html.unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
    return httpx.post(f"{cloud.auth_url}/v1/oauth/authorize", timeout=30,
                      data={**hidden, "email": SANDBOX_EMAIL, "password": password})


def sign_in(cloud: Cloud, webview: Any) -> httpx.Response:
    """The whole browser round trip: lockhub's page, SmartThings' page, lockhub's callback."""
    allowed = authorize(cloud, continue_link(webview))
    assert allowed.status_code == 302, allowed.text
    return httpx.get(allowed.headers["location"], timeout=60)


@pytest.fixture(scope="module")
def account(cloud: Cloud, seam: Seam) -> str:
    webview = seam.connect_webviews.create(accepted_providers=["smartthings"])
    done = sign_in(cloud, webview)
    assert done.status_code == 200 and "Connected" in done.text, done.text
    webview = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert webview.status == "authorized"
    return webview.connected_account_id


def test_the_page_sends_the_user_to_smartthings_with_a_signed_state(
        cloud: Cloud, seam: Seam, server: LockhubServer) -> None:
    webview = seam.connect_webviews.create(accepted_providers=["smartthings"])
    link = httpx.URL(continue_link(webview))
    assert str(link).startswith(f"{cloud.auth_url}/v1/oauth/authorize")
    assert link.params["client_id"] == CLIENT_ID
    assert link.params["redirect_uri"] == f"{server.url}{CALLBACK}"
    token = httpx.URL(webview.url).params["auth_token"]
    assert token not in link.params["state"], "the webview's token never leaves lockhub"
    forged = link.params["state"][:-4] + "0000"
    refused = httpx.get(f"{server.url}{CALLBACK}", params={"code": "x", "state": forged})
    assert refused.status_code == 404


def test_a_wrong_password_stays_on_smartthings_page_and_a_denial_shows_on_the_brand_page(
        cloud: Cloud, seam: Seam, server: LockhubServer) -> None:
    webview = seam.connect_webviews.create(accepted_providers=["smartthings"])
    link = continue_link(webview)
    wrong = authorize(cloud, link, password="wrong")
    assert wrong.status_code == 200 and "incorrect" in wrong.text
    state = httpx.URL(link).params["state"]
    denied = httpx.get(f"{server.url}{CALLBACK}", params={"error": "access_denied",
                                                          "state": state})
    assert denied.status_code == 200 and 'role="alert"' in denied.text
    assert "Continue to SmartThings" in denied.text
    assert seam.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "pending"


def test_a_reused_code_shows_on_the_brand_page_and_stores_nothing(
        cloud: Cloud, seam: Seam, server: LockhubServer, account: str) -> None:
    first = seam.connect_webviews.create(accepted_providers=["smartthings"])
    allowed = authorize(cloud, continue_link(first))
    callback = httpx.URL(allowed.headers["location"])
    assert httpx.get(str(callback), timeout=60).status_code == 200  # used once: connected
    second = seam.connect_webviews.create(accepted_providers=["smartthings"])
    state = httpx.URL(continue_link(second)).params["state"]
    again = httpx.get(f"{server.url}{CALLBACK}", timeout=60,
                      params={"code": callback.params["code"], "state": state})
    assert again.status_code == 200 and 'role="alert"' in again.text, again.text
    assert callback.params["code"] not in again.text
    assert seam.connect_webviews.get(
        connect_webview_id=second.connect_webview_id).status == "pending"
    assert [a.connected_account_id for a in seam.connected_accounts.list()] == [account]


def test_connecting_lists_the_locks(seam: Seam, account: str) -> None:
    front = lock_named(seam, account, "Front Door")
    back = lock_named(seam, account, "Back Door")
    assert front.device_provider.device_provider_name == "smartthings"
    assert front.properties.online and front.properties.locked is True
    assert back.properties.locked is False
    assert front.properties.smartthings_metadata.device_id == FRONT_DOOR
    assert back.properties.model.display_name == "Kwikset SmartCode 916 (Zigbee)"
    assert front.can_program_online_access_codes


def test_unlock_and_lock_succeed_once_the_status_says_so(
        cloud: Cloud, seam: Seam, account: str) -> None:
    device = lock_named(seam, account, "Back Door")
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"
    assert cloud.world.locks[BACK_DOOR].lock == "locked"
    assert seam.locks.get(device_id=device.device_id).properties.locked is True
    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"
    assert seam.locks.get(device_id=device.device_id).properties.locked is False
    remote = [e for e in events_of(seam, device.device_id, "lock.unlocked")
              if e.method == "remote"]
    assert len(remote) == 1, "lockhub's own unlock is recorded once, not echoed back"


def test_a_command_the_lock_never_carries_out_fails_with_a_typed_error(
        cloud: Cloud, seam: Seam, account: str) -> None:
    device = lock_named(seam, account, "Back Door")
    cloud.switches.hold_commands = True
    try:
        with pytest.raises(SeamActionAttemptFailedError) as failed:
            seam.locks.lock_door(device_id=device.device_id,
                                 wait_for_action_attempt={"timeout": 30})
        assert failed.value.action_attempt.error.type == "device_communication_timeout"
    finally:
        cloud.switches.hold_commands = False
        cloud.world.drop_pending()
    assert cloud.world.locks[BACK_DOOR].lock == "unlocked"


def test_an_ongoing_code_is_set_used_at_the_keypad_and_removed(
        cloud: Cloud, seam: Seam, account: str) -> None:
    device = lock_named(seam, account, "Front Door")
    code = seam.access_codes.create(device_id=device.device_id, name="Guest", code="4682")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=30, message="the code set")
    pins = {pin: slot for slot, (pin, _) in cloud.world.locks[FRONT_DOOR].codes.items()}
    assert "4682" in pins and pins["4682"] not in (1, 2), "a free slot, not the owner's"
    cloud.clock.advance(1)
    assert cloud.world.keypad_unlock(FRONT_DOOR, "4682")
    keyed = wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                                if e.method == "keycode"], timeout=30, message="keypad event")
    assert keyed[0].access_code_id == code.access_code_id
    cloud.clock.advance(1)
    cloud.world.manual(FRONT_DOOR, "locked")
    assert wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.locked")
                               if e.method == "manual"], timeout=30, message="manual event")
    seam.access_codes.delete(access_code_id=code.access_code_id)
    wait_until(lambda: pins["4682"] not in cloud.world.locks[FRONT_DOOR].codes, timeout=30,
               message="the code removed from the lock")


def test_a_time_bound_code_is_on_the_lock_only_inside_its_window(
        cloud: Cloud, server: LockhubServer, seam: Seam, account: str) -> None:
    device = lock_named(seam, account, "Back Door")
    clock = production_clock(server)
    start = datetime(2031, 3, 1, 15, 0, tzinfo=UTC)

    def pins() -> set[str]:
        return {pin for pin, _ in cloud.world.locks[BACK_DOOR].codes.values()}

    try:
        assert clock.post("/set", json={"now": "2031-02-25T12:00:00Z",
                                        "frozen": True}).status_code == 200
        code = seam.access_codes.create(
            device_id=device.device_id, name="Stay", code="97531",
            starts_at=start.isoformat(), ends_at=(start + timedelta(days=2)).isoformat())
        assert seam.access_codes.get(access_code_id=code.access_code_id).status == "unset"
        assert "97531" not in pins()
        clock.post("/set", json={"now": "2031-03-01T15:00:00Z", "frozen": True})
        wait_until(lambda: seam.access_codes.get(
            access_code_id=code.access_code_id).status == "set", timeout=30,
            message="the code set at starts_at")
        assert "97531" in pins()
        clock.post("/set", json={"now": "2031-03-03T15:00:00Z", "frozen": True})
        wait_until(lambda: "97531" not in pins(), timeout=30,
                   message="the code removed at ends_at")
    finally:
        clock.post("/unfreeze")
        clock.post("/set", json={"now": datetime.now(UTC).isoformat(), "frozen": False})


def test_an_expired_access_token_is_refreshed_and_stored(
        cloud: Cloud, seam: Seam, account: str) -> None:
    device = lock_named(seam, account, "Back Door")
    before = cloud.oauth.token_requests
    cloud.oauth.expire_access_tokens()
    wait_until(lambda: cloud.oauth.token_requests > before, timeout=30,
               message="the holder refreshed the token")
    assert seam.locks.lock_door(device_id=device.device_id).status == "success"
    assert not account_errors(seam, account)


def test_an_outage_disconnects_the_account_and_a_code_made_meanwhile_converges(
        cloud: Cloud, seam: Seam, account: str) -> None:
    device = lock_named(seam, account, "Front Door")
    cloud.switches.outage = True
    try:
        wait_until(lambda: "account_disconnected" in account_errors(seam, account), timeout=30,
                   message="account_disconnected")
        code = seam.access_codes.create(device_id=device.device_id, name="While down",
                                        code="9753")
    finally:
        cloud.switches.outage = False
    wait_until(lambda: not account_errors(seam, account), timeout=60,
               message="the account reconnected")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set",
               timeout=60, message="the pending code converged")
    assert "9753" in {pin for pin, _ in cloud.world.locks[FRONT_DOOR].codes.values()}
    seam.access_codes.delete(access_code_id=code.access_code_id)


def test_a_revoked_token_disconnects_and_a_new_sign_in_restores_the_same_account(
        cloud: Cloud, seam: Seam, account: str) -> None:
    cloud.oauth.revoke_all()
    wait_until(lambda: "account_disconnected" in account_errors(seam, account), timeout=30,
               message="account_disconnected")
    webview = seam.connect_webviews.create(accepted_providers=["smartthings"])
    done = sign_in(cloud, webview)
    assert done.status_code == 200 and "Connected" in done.text, done.text
    assert seam.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).connected_account_id == account
    wait_until(lambda: not account_errors(seam, account), timeout=60,
               message="the account reconnected")
    device = lock_named(seam, account, "Back Door")
    assert seam.locks.unlock_door(device_id=device.device_id).status == "success"
