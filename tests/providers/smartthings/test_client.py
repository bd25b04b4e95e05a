"""The SmartThings client against the fake cloud: sign-in, token rotation, locks and their
state, commands that are accepted before the lock acts, PIN slots, the rate limit, offline hubs
and locks, outages and slow answers."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from lockhub.providers.base import ProviderError
from lockhub.providers.smartthings.client import (
    SmartThingsClient,
    TokenSet,
    authorize_url,
    exchange_code,
)
from tests.fakes.smartthings.cloud import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    SANDBOX_EMAIL,
    SANDBOX_PASSWORD,
    Cloud,
)
from tests.fakes.smartthings.conftest import BACK_DOOR, FRONT_DOOR, HUB_ID
from tests.providers.smartthings.conftest import ClientFactory

# --- sign-in -----------------------------------------------------------------------------------


def sign_in_on_the_authorize_page(cloud: Cloud, url: str, password: str) -> httpx.Response:
    """What the user's browser does: open the page, submit the form."""
    page = httpx.get(url)
    assert page.status_code == 200 and "<form" in page.text
    form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return httpx.post(f"{cloud.auth_url}/v1/oauth/authorize",
                      data={**form, "email": SANDBOX_EMAIL, "password": password})


async def test_the_authorization_code_flow_signs_in_on_the_auth_host_and_lists_the_locks(
        smartthings_cloud: Cloud) -> None:
    cloud = smartthings_cloud
    url = authorize_url(CLIENT_ID, REDIRECT_URI, state="xyz", base_url=cloud.auth_url)
    assert url.startswith(f"{cloud.auth_url}/v1/oauth/authorize?")

    redirect = sign_in_on_the_authorize_page(cloud, url, SANDBOX_PASSWORD)

    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT_URI)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    tokens = await exchange_code(query["code"][0], REDIRECT_URI, CLIENT_ID, CLIENT_SECRET,
                                 base_url=cloud.auth_url, clock=cloud.clock)
    assert tokens.refresh_token and tokens.installed_app_id
    assert tokens.expires_at is not None and tokens.expires_at > cloud.clock.now()
    async with SmartThingsClient(tokens, base_url=cloud.url) as client:
        assert {lock.device_id for lock in await client.list_locks()} == {FRONT_DOOR, BACK_DOOR}


async def test_a_wrong_password_shows_the_sign_in_page_again(smartthings_cloud: Cloud) -> None:
    url = authorize_url(CLIENT_ID, REDIRECT_URI, "s", base_url=smartthings_cloud.auth_url)

    answer = sign_in_on_the_authorize_page(smartthings_cloud, url, "wrong")

    assert answer.status_code == 200 and "incorrect" in answer.text


async def test_a_used_code_or_a_wrong_client_secret_is_invalid_credentials(
        smartthings_cloud: Cloud) -> None:
    cloud = smartthings_cloud
    code = cloud.oauth.issue_code(CLIENT_ID, SANDBOX_EMAIL, REDIRECT_URI, "r:devices:*")
    await exchange_code(code, REDIRECT_URI, CLIENT_ID, CLIENT_SECRET, base_url=cloud.auth_url)

    with pytest.raises(ProviderError) as used:
        await exchange_code(code, REDIRECT_URI, CLIENT_ID, CLIENT_SECRET,
                            base_url=cloud.auth_url)
    fresh = cloud.oauth.issue_code(CLIENT_ID, SANDBOX_EMAIL, REDIRECT_URI, "r:devices:*")
    with pytest.raises(ProviderError) as bad_secret:
        await exchange_code(fresh, REDIRECT_URI, CLIENT_ID, "not-the-secret",
                            base_url=cloud.auth_url)

    assert used.value.error_type == "invalid_credentials"
    assert code not in used.value.message  # the brand's description repeats the code
    assert bad_secret.value.error_type == "invalid_credentials"


async def test_the_hosts_come_from_the_environment(
        smartthings_cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKHUB_SMARTTHINGS_API_URL", smartthings_cloud.url)
    monkeypatch.setenv("LOCKHUB_SMARTTHINGS_AUTH_URL", smartthings_cloud.auth_url + "/")

    assert authorize_url(CLIENT_ID, REDIRECT_URI, "s").startswith(
        f"{smartthings_cloud.auth_url}/v1/oauth/authorize?")
    pat = smartthings_cloud.oauth.issue_pat(SANDBOX_EMAIL)
    async with SmartThingsClient(TokenSet(pat)) as client:
        assert len(await client.list_locks()) == 2


# --- tokens ------------------------------------------------------------------------------------


async def test_an_expired_access_token_is_refreshed_and_the_rotated_pair_is_stored_first(
        smartthings_cloud: Cloud, make_client: ClientFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    cloud = smartthings_cloud
    caplog.set_level(logging.DEBUG)
    client = await make_client()
    old = client.tokens
    cloud.oauth.expire_access_tokens()

    locks = await client.list_locks()

    assert len(locks) == 2
    assert client.saved_tokens == [client.tokens]  # type: ignore[attr-defined]
    assert client.tokens.refresh_token != old.refresh_token
    assert client.tokens.access_token != old.access_token
    # Rotation: the old refresh token no longer works.
    answer = httpx.post(f"{cloud.auth_url}/v1/oauth/token", auth=(CLIENT_ID, CLIENT_SECRET),
                        data={"grant_type": "refresh_token", "refresh_token": old.refresh_token})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_grant"
    for secret in (old.access_token, old.refresh_token, client.tokens.access_token,
                   client.tokens.refresh_token, CLIENT_SECRET):
        assert secret and secret not in caplog.text
    assert secret not in repr(client.tokens)


async def test_the_token_is_refreshed_before_it_expires_by_the_clock(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    client = await make_client()
    before = smartthings_cloud.oauth.token_requests
    smartthings_cloud.clock.advance(86399 - 60)

    await client.get_status(FRONT_DOOR)

    assert smartthings_cloud.oauth.token_requests == before + 1
    # Refreshed ahead of time: the read went out once, never refused with 401.
    assert smartthings_cloud.switches.requests.count(f"GET /v1/devices/{FRONT_DOOR}/status") == 1


async def test_concurrent_calls_after_expiry_share_one_refresh(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    client = await make_client()
    before = smartthings_cloud.oauth.token_requests
    smartthings_cloud.oauth.expire_access_tokens()

    statuses = await asyncio.gather(client.get_status(FRONT_DOOR), client.get_status(BACK_DOOR),
                                    client.get_health(FRONT_DOOR))

    assert len(statuses) == 3
    assert smartthings_cloud.oauth.token_requests == before + 1


async def test_a_revoked_account_is_account_disconnected_without_leaking_the_token(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    client = await make_client()
    smartthings_cloud.oauth.revoke_all()

    with pytest.raises(ProviderError) as err:
        await client.get_status(FRONT_DOOR)

    assert err.value.error_type == "account_disconnected"
    assert client.tokens.refresh_token not in str(err.value)
    assert client.tokens.access_token not in str(err.value)


async def test_an_expired_personal_access_token_is_account_disconnected(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    pat = smartthings_cloud.oauth.issue_pat(SANDBOX_EMAIL)
    client = await make_client(tokens=TokenSet(pat), client_id=None, client_secret=None)
    smartthings_cloud.clock.advance(24 * 3600)

    with pytest.raises(ProviderError) as err:
        await client.list_locks()

    assert err.value.error_type == "account_disconnected"


# --- devices and state -------------------------------------------------------------------------


async def test_list_locks_follows_pages_and_leaves_out_the_hub(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.switches.page_size = 1
    client = await make_client()

    locks = {lock.device_id: lock for lock in await client.list_locks()}

    assert set(locks) == {FRONT_DOOR, BACK_DOOR}
    front, back = locks[FRONT_DOOR], locks[BACK_DOOR]
    assert (front.label, front.hub_id, front.network) == ("Front Door", HUB_ID, "ZWAVE")
    assert (back.hub_id, back.network, back.manufacturer_code) == (HUB_ID, "ZIGBEE", "Yale")
    assert {"lock", "lockCodes", "battery"} <= set(front.capabilities)


async def test_status_reports_the_bolt_battery_and_pin_slots(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    client = await make_client()

    front = await client.get_status(FRONT_DOOR)
    back = await client.get_status(BACK_DOOR)
    health = await client.get_health(FRONT_DOOR)

    assert (front.locked, front.battery, front.codes) == (True, 86, {1: "Cleaner", 2: "Owner"})
    assert (front.max_codes, front.min_code_length, front.max_code_length) == (30, 4, 8)
    assert (back.locked, back.battery, back.codes) == (False, 68, {})
    assert health.online


async def test_an_unknown_lock_state_reads_as_unknown(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.world.manual(FRONT_DOOR, "unknown")
    client = await make_client()

    status = await client.get_status(FRONT_DOOR)

    assert status.lock == "unknown" and status.locked is None


async def test_an_unknown_device_is_device_removed(make_client: ClientFactory) -> None:
    client = await make_client()

    with pytest.raises(ProviderError) as err:
        await client.get_status("0d0e1f2a-0000-4000-8000-000000000000")

    assert err.value.error_type == "device_removed"


async def test_a_keypad_unlock_at_the_lock_shows_its_slot_in_status_and_history(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    assert smartthings_cloud.world.keypad_unlock(FRONT_DOOR, "5678")
    client = await make_client()

    status = await client.get_status(FRONT_DOOR)
    events = await client.list_events(FRONT_DOOR, limit=5)

    assert (status.locked, status.lock_method, status.lock_code_slot) == (False, "keypad", 2)
    newest = events[0]
    assert (newest.attribute, newest.value) == ("lock", "unlocked")
    assert newest.data == {"method": "keypad", "codeId": "2", "codeName": "Owner"}
    later = await client.list_events(FRONT_DOOR, after_epoch_ms=newest.epoch_ms)
    assert later == []


# --- commands: accepted first, done later ------------------------------------------------------


async def test_unlock_is_accepted_before_the_lock_moves_and_the_status_confirms_it_later(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.switches.hold_commands = True
    client = await make_client()

    command_id = await client.unlock(FRONT_DOOR)
    still = await client.get_status(FRONT_DOOR)
    assert smartthings_cloud.deliver() == 1
    done = await client.wait_for_lock(FRONT_DOOR, False, timeout=30, interval=5)

    assert command_id
    assert still.locked is True
    assert (done.locked, done.lock_method) == (False, "command")


async def test_set_code_is_confirmed_by_code_changed_and_delete_code_frees_the_slot(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.switches.hold_commands = True
    client = await make_client()
    before = await client.get_status(FRONT_DOOR)
    slot = client.free_slot(before)

    await client.set_code(FRONT_DOOR, slot, "4321", "Guest")
    smartthings_cloud.deliver()
    after_set = await client.wait_for_code(FRONT_DOOR, slot, before, timeout=30)
    await client.delete_code(FRONT_DOOR, slot)
    smartthings_cloud.deliver()
    after_delete = await client.wait_for_code(FRONT_DOOR, slot, after_set, deleted=True,
                                              timeout=30)

    assert slot == 3
    assert after_set.codes[3] == "Guest" and after_set.code_changed == "3 set"
    assert 3 not in after_delete.codes and after_delete.code_changed == "3 deleted"


async def test_a_pin_the_lock_refuses_is_failed_to_set_on_device(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    client = await make_client()
    before = await client.get_status(FRONT_DOOR)

    await client.set_code(FRONT_DOOR, 3, "1234", "Duplicate of slot 1")
    with pytest.raises(ProviderError) as err:
        await client.wait_for_code(FRONT_DOOR, 3, before, timeout=30)

    assert err.value.error_type == "failed_to_set_on_device"
    assert (await client.list_codes(FRONT_DOOR)) == {1: "Cleaner", 2: "Owner"}


async def test_a_full_lock_has_no_space_for_another_code(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    world = smartthings_cloud.world
    lock = world.locks[BACK_DOOR]
    lock.max_codes = 2
    world.set_code(lock, 1, "1111", "A")
    world.set_code(lock, 2, "2222", "B")
    client = await make_client()

    with pytest.raises(ProviderError) as err:
        client.free_slot(await client.get_status(BACK_DOOR))

    assert err.value.error_type == "no_space_for_access_code_on_device"


async def test_a_command_smartthings_refuses_is_a_provider_error_with_its_details(
        make_client: ClientFactory) -> None:
    client = await make_client()

    with pytest.raises(ProviderError) as err:
        await client.send_commands(FRONT_DOOR, [{"capability": "switch", "command": "on"}])

    assert err.value.error_type == "provider_error"
    assert "ConstraintViolationError" in err.value.message
    assert "switch is not a valid value" in err.value.message


# --- the per-device rate limit -----------------------------------------------------------------


async def test_a_rate_limited_read_waits_for_the_window_and_succeeds(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    client = await make_client(max_retry_wait=60)
    for _ in range(12):
        smartthings_cloud.limiter.hit(FRONT_DOOR)

    status = await client.get_status(FRONT_DOOR)

    assert status.locked is True
    assert client.sleeps == [60.0]  # type: ignore[attr-defined]


async def test_a_rate_limited_command_is_sent_again_and_runs_once(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.switches.hold_commands = True
    client = await make_client(max_retry_wait=60)
    for _ in range(12):
        smartthings_cloud.limiter.hit(FRONT_DOOR)

    await client.unlock(FRONT_DOOR)

    assert len(smartthings_cloud.world.pending) == 1
    commands = [r for r in smartthings_cloud.switches.requests if r.endswith("/commands")]
    assert len(commands) == 2  # refused with 429, then accepted


async def test_a_long_rate_limit_wait_is_rate_limit_exceeded_for_the_caller_to_schedule(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    client = await make_client(max_retry_wait=5)
    for _ in range(12):
        smartthings_cloud.limiter.hit(FRONT_DOOR)

    with pytest.raises(ProviderError) as err:
        await client.lock(FRONT_DOOR)

    assert err.value.error_type == "rate_limit_exceeded" and err.value.retryable
    assert "60 s" in err.value.message
    assert client.sleeps == []  # type: ignore[attr-defined]


# --- offline hub, offline lock, outages, slow answers -----------------------------------------


async def test_a_command_to_a_lock_behind_an_offline_hub_times_out_as_hub_disconnected(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.world.set_hub_online(HUB_ID, False)
    client = await make_client()

    await client.unlock(FRONT_DOOR)  # the cloud still accepts it
    with pytest.raises(ProviderError) as err:
        await client.wait_for_lock(FRONT_DOOR, False, timeout=20, interval=5)
    health = await client.get_health(FRONT_DOOR)

    assert err.value.error_type == "hub_disconnected"
    assert not health.online
    # The hub comes back and carries out what it was sent.
    smartthings_cloud.world.set_hub_online(HUB_ID, True)
    smartthings_cloud.deliver()
    assert (await client.get_status(FRONT_DOOR)).locked is False


async def test_an_offline_lock_on_an_online_hub_is_device_offline(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.world.set_lock_online(BACK_DOOR, False)
    client = await make_client()

    await client.lock(BACK_DOOR)
    with pytest.raises(ProviderError) as err:
        await client.wait_for_lock(BACK_DOOR, True, timeout=10, interval=5)

    assert err.value.error_type == "device_offline"
    assert (await client.get_health(HUB_ID)).online


async def test_a_lock_that_never_confirms_is_device_communication_timeout(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.switches.hold_commands = True
    client = await make_client()

    await client.lock(BACK_DOOR)
    with pytest.raises(ProviderError) as err:
        await client.wait_for_lock(BACK_DOOR, True, timeout=10, interval=5)

    assert err.value.error_type == "device_communication_timeout"


async def test_an_outage_retries_reads_but_never_a_command(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.switches.outage = True
    client = await make_client(max_retries=2)

    with pytest.raises(ProviderError) as read:
        await client.get_status(FRONT_DOOR)
    with pytest.raises(ProviderError) as command:
        await client.unlock(FRONT_DOOR)

    assert read.value.error_type == "provider_error" and read.value.retryable
    assert command.value.error_type == "provider_error"
    requests = smartthings_cloud.switches.requests
    assert sum(r.endswith("/status") for r in requests) == 3
    assert sum(r.endswith("/commands") for r in requests) == 1


async def test_a_read_that_fails_once_is_retried_and_succeeds(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    smartthings_cloud.switches.outage = True
    client = await make_client()

    async def outage_ends(seconds: float) -> None:
        smartthings_cloud.switches.outage = False

    client.sleep = outage_ends

    assert (await client.get_status(FRONT_DOOR)).locked is True


async def test_a_slow_answer_is_device_communication_timeout(
        smartthings_cloud: Cloud, make_client: ClientFactory) -> None:
    client = await make_client(timeout=0.2, max_retries=0)
    smartthings_cloud.stall()
    try:
        with pytest.raises(ProviderError) as err:
            await client.lock(FRONT_DOOR)
    finally:
        smartthings_cloud.unstall()

    assert err.value.error_type == "device_communication_timeout" and err.value.retryable
    assert smartthings_cloud.stalled_requests == 1
