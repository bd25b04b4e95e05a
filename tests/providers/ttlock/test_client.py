"""The TTLock client against the fake TTLock cloud (a real HTTP server on loopback)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from lockhub.providers.base import ProviderError
from lockhub.providers.ttlock.client import (
    OfflineKind,
    Tokens,
    TTLockClient,
    md5_password,
    parse_callback,
)
from tests.fakes.ttlock.fixtures import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME
from tests.fakes.ttlock.receiver import CallbackReceiver

HOUR = timedelta(hours=1)


def client_for(cloud, **options) -> TTLockClient:
    settings = {"timeout": 5.0, "read_retry_delays": (0.0,), "busy_retry_delays": (0.0, 0.0)}
    return TTLockClient(CLIENT_ID, CLIENT_SECRET, base_url=cloud.url, **(settings | options))


@pytest.fixture
async def client(ttlock_cloud) -> AsyncIterator[TTLockClient]:
    async with client_for(ttlock_cloud) as signed_in:
        await signed_in.sign_in(USERNAME, PASSWORD)
        yield signed_in


def this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


# --- sign-in and tokens -----------------------------------------------------------------


async def test_sign_in_sends_the_md5_of_the_password_and_keeps_the_tokens(ttlock_cloud):
    kept: list[Tokens] = []
    async with client_for(ttlock_cloud, on_tokens=kept.append) as client:
        tokens = await client.sign_in(USERNAME, PASSWORD)
        assert tokens.uid == ttlock_cloud.world.accounts[USERNAME].uid
        assert tokens.expires_at > datetime.now(UTC).timestamp() + 89 * 86400
        assert kept == [tokens]
        # lockhub stores only the hash: signing in with it works the same
        again = await client.sign_in(USERNAME, password_md5=md5_password(PASSWORD))
        assert again.access_token != tokens.access_token


@pytest.mark.parametrize(("client_id", "secret", "password"), [
    (CLIENT_ID, CLIENT_SECRET, "wrong"),
    (CLIENT_ID, "wrong-secret", PASSWORD),
    ("unknown-client", CLIENT_SECRET, PASSWORD),
])
async def test_a_wrong_app_or_account_is_invalid_credentials(ttlock_cloud, client_id, secret,
                                                              password):
    async with TTLockClient(client_id, secret, base_url=ttlock_cloud.url) as client:
        with pytest.raises(ProviderError) as refused:
            await client.sign_in(USERNAME, password)
    assert refused.value.error_type == "invalid_credentials"
    assert secret not in str(refused.value) and md5_password(password) not in str(refused.value)


async def test_an_unreviewed_app_signs_in_only_its_test_accounts(ttlock_cloud):
    ttlock_cloud.world.apps[CLIENT_ID].reviewed = False
    async with client_for(ttlock_cloud) as client:
        with pytest.raises(ProviderError) as refused:
            await client.sign_in(USERNAME, PASSWORD)
        assert refused.value.error_type == "invalid_credentials"
        assert "not reviewed" in refused.value.message
        ttlock_cloud.world.apps[CLIENT_ID].test_usernames.add(USERNAME)
        await client.sign_in(USERNAME, PASSWORD)


async def test_an_expired_token_is_refreshed_once_and_the_call_repeated(ttlock_cloud):
    kept: list[Tokens] = []
    async with client_for(ttlock_cloud, on_tokens=kept.append) as client:
        first = await client.sign_in(USERNAME, PASSWORD)
        ttlock_cloud.expire_tokens()
        locks = await client.list_locks()
    assert len(locks) == 3
    assert kept[-1].access_token != first.access_token and len(kept) == 2
    assert ttlock_cloud.world.calls[-3:] == ["/v3/lock/list", "/oauth2/token", "/v3/lock/list"]


async def test_a_token_about_to_expire_is_refreshed_before_the_call(ttlock_cloud):
    ttlock_cloud.world.token_lifetime_s = 60
    async with client_for(ttlock_cloud) as client:
        await client.sign_in(USERNAME, PASSWORD)
        await client.get_lock(ttlock_cloud.front)
    assert ttlock_cloud.world.calls == ["/oauth2/token", "/oauth2/token", "/v3/lock/detail"]


async def test_a_refused_refresh_token_disconnects_the_account(client, ttlock_cloud):
    ttlock_cloud.expire_tokens()
    ttlock_cloud.world.revoke_refresh_tokens()
    with pytest.raises(ProviderError) as refused:
        await client.list_locks()
    assert refused.value.error_type == "account_disconnected"


async def test_a_request_time_more_than_five_minutes_off_is_refused(client, ttlock_cloud):
    ttlock_cloud.skew_clock(6 * 60)
    with pytest.raises(ProviderError) as refused:
        await client.list_locks()
    assert refused.value.error_type == "provider_error"
    assert "clock" in refused.value.message and "80000" in refused.value.message
    ttlock_cloud.skew_clock(4 * 60)  # within the tolerance
    assert await client.list_locks()


async def test_an_exhausted_call_quota_is_rate_limit_exceeded(client, ttlock_cloud):
    ttlock_cloud.world.quota_exceeded = True
    with pytest.raises(ProviderError) as refused:
        await client.get_lock(ttlock_cloud.front)
    assert refused.value.error_type == "rate_limit_exceeded" and refused.value.retryable


async def test_the_base_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LOCKHUB_TTLOCK_API_URL", "http://127.0.0.1:9/ttlock/")
    async with TTLockClient(CLIENT_ID, CLIENT_SECRET) as client:
        assert client.base_url == "http://127.0.0.1:9/ttlock"
    monkeypatch.delenv("LOCKHUB_TTLOCK_API_URL")
    async with TTLockClient(CLIENT_ID, CLIENT_SECRET) as client:
        assert client.base_url == "https://euapi.ttlock.com"


# --- locks ------------------------------------------------------------------------------


async def test_locks_are_listed_with_battery_and_gateway_across_pages(client, ttlock_cloud):
    for number in range(120):
        ttlock_cloud.world.add_lock(USERNAME, f"Room {number}")
    ttlock_cloud.world.add_lock("someone-else@example.com", "Not ours")
    locks = {lock.lock_id: lock for lock in await client.list_locks()}
    assert len(locks) == 123
    front, back = locks[ttlock_cloud.front], locks[ttlock_cloud.back]
    assert (front.lock_alias, front.electric_quantity, front.gateway_connected) == (
        "Front Door", 90, True)
    assert (back.electric_quantity, back.gateway_connected) == (55, False)
    assert ttlock_cloud.world.calls.count("/v3/lock/list") == 2


async def test_lock_details_carry_the_facts_the_provider_maps(client, ttlock_cloud):
    ttlock_cloud.set_lock(ttlock_cloud.front, timezone_raw_offset=3_600_000, battery=42)
    front = await client.get_lock(ttlock_cloud.front)
    assert front.electric_quantity == 42 and front.timezone_raw_offset == 3_600_000
    assert front.supports_custom_passcodes and front.remote_unlock_enabled
    assert not (await client.get_lock(ttlock_cloud.office)).supports_custom_passcodes


async def test_a_lock_outside_the_account_is_device_removed(client, ttlock_cloud):
    other = ttlock_cloud.world.add_lock("someone-else@example.com", "Not ours").lock_id
    with pytest.raises(ProviderError) as refused:
        await client.get_lock(other)
    assert refused.value.error_type == "device_removed"


async def test_unlock_and_lock_through_the_gateway(client, ttlock_cloud):
    await client.unlock(ttlock_cloud.front)
    assert await client.is_locked(ttlock_cloud.front) is False
    await client.lock(ttlock_cloud.front)
    assert await client.is_locked(ttlock_cloud.front) is True
    records = await client.list_records(ttlock_cloud.front)
    assert [r.record_type for r in records] == [11, 12]  # newest first
    assert records[1].username == USERNAME


async def test_remote_commands_without_a_gateway_are_hub_disconnected(client, ttlock_cloud):
    for command in (client.unlock, client.lock, client.is_locked):
        with pytest.raises(ProviderError) as refused:
            await command(ttlock_cloud.back)
        assert refused.value.error_type == "hub_disconnected"


async def test_unlock_on_a_lock_without_gateway_unlocking_is_not_supported(client,
                                                                            ttlock_cloud):
    ttlock_cloud.set_lock(ttlock_cloud.front, features=0)
    with pytest.raises(ProviderError) as refused:
        await client.unlock(ttlock_cloud.front)
    assert refused.value.error_type == "remote_unlock_not_supported"


async def test_a_busy_gateway_is_retried(client, ttlock_cloud):
    ttlock_cloud.world.busy_next = 2
    await client.unlock(ttlock_cloud.front)
    assert ttlock_cloud.world.calls.count("/v3/lock/unlock") == 3
    assert ttlock_cloud.lock(ttlock_cloud.front).locked is False


async def test_a_gateway_busy_with_another_lock_fails_once_the_retries_are_spent(
        client, ttlock_cloud):
    ttlock_cloud.hold_gateway()
    first = asyncio.create_task(client.unlock(ttlock_cloud.front))
    await ttlock_cloud.gateway_commands_held(1)
    try:
        with pytest.raises(ProviderError) as refused:
            await client.lock(ttlock_cloud.office)  # the same gateway
        assert refused.value.error_type == "provider_error" and refused.value.retryable
        assert "busy" in refused.value.message
        assert ttlock_cloud.world.calls.count("/v3/lock/lock") == 3
    finally:
        ttlock_cloud.release_gateway()
    await first
    await client.lock(ttlock_cloud.office)  # free again


# --- passcodes --------------------------------------------------------------------------


async def test_custom_passcodes_ongoing_and_time_bound(client, ttlock_cloud):
    start = this_hour() + HOUR
    ongoing = await client.add_passcode(ttlock_cloud.front, "1234", name="Cleaner")
    bound = await client.add_passcode(ttlock_cloud.front, "987654", name="Guest",
                                      starts_at=start, ends_at=start + 48 * HOUR)
    listed = {p.keyboard_pwd_id: p for p in await client.list_passcodes(ttlock_cloud.front)}
    assert listed[ongoing].keyboard_pwd == "1234" and listed[ongoing].is_custom == 1
    assert (listed[ongoing].start_date, listed[ongoing].end_date) == (0, 0)
    assert (listed[bound].keyboard_pwd_name, listed[bound].start_date,
            listed[bound].end_date) == ("Guest", ms(start), ms(start + 48 * HOUR))
    # the lock enforces the window itself
    assert ttlock_cloud.enter_pin(ttlock_cloud.front, "987654", ms(start) - 1) is None
    entry = ttlock_cloud.enter_pin(ttlock_cloud.front, "987654", ms(start) + 1)
    assert entry is not None and entry.record_type == 4


async def test_passcode_refusals_map_to_seam_errors(client, ttlock_cloud):
    await client.add_passcode(ttlock_cloud.front, "1234")
    cases = [(ttlock_cloud.front, "1234", "duplicate_code_on_device"),
             (ttlock_cloud.office, "5678", "access_codes_not_supported"),
             (ttlock_cloud.back, "5678", "hub_disconnected")]
    for lock_id, code, error_type in cases:
        with pytest.raises(ProviderError) as refused:
            await client.add_passcode(lock_id, code)
        assert refused.value.error_type == error_type


async def test_a_full_lock_has_no_space_for_another_passcode(client, ttlock_cloud):
    front = ttlock_cloud.lock(ttlock_cloud.front)
    for number in range(150):  # stored straight into the fake, to keep the test fast
        ttlock_cloud.world.add_custom_passcode(front, f"{10000 + number}", "", 0, 0, USERNAME,
                                               on_lock=True)
    with pytest.raises(ProviderError) as refused:
        await client.add_passcode(ttlock_cloud.front, "99999")
    assert refused.value.error_type == "no_space_for_access_code_on_device"
    assert len(await client.list_passcodes(ttlock_cloud.front)) == 150  # two pages


async def test_delete_removes_the_passcode_and_accepts_unknown_ids(client, ttlock_cloud):
    passcode_id = await client.add_passcode(ttlock_cloud.front, "1234")
    await client.delete_passcode(ttlock_cloud.front, passcode_id)
    assert await client.list_passcodes(ttlock_cloud.front) == []
    await client.delete_passcode(ttlock_cloud.front, 999_999)  # TTLock's silent success
    assert ttlock_cloud.enter_pin(ttlock_cloud.front, "1234") is None


async def test_a_generated_period_code_must_be_used_within_24_hours(client, ttlock_cloud):
    start = this_hour()
    generated = await client.get_offline_passcode(
        ttlock_cloud.back, OfflineKind.PERIOD, starts_at=start, ends_at=start + 72 * HOUR)
    assert generated.keyboard_pwd.isdigit() and 6 <= len(generated.keyboard_pwd) <= 9
    listed = await client.list_passcodes(ttlock_cloud.back)
    assert [(p.keyboard_pwd, p.keyboard_pwd_type, p.is_custom) for p in listed] == [
        (generated.keyboard_pwd, 3, 0)]
    first_use, late = ms(start + 2 * HOUR), ms(start + 30 * HOUR)
    assert ttlock_cloud.enter_pin(ttlock_cloud.back, generated.keyboard_pwd, first_use)
    assert ttlock_cloud.enter_pin(ttlock_cloud.back, generated.keyboard_pwd, late)
    assert not ttlock_cloud.enter_pin(ttlock_cloud.back, generated.keyboard_pwd,
                                      ms(start + 73 * HOUR))
    unused = await client.get_offline_passcode(
        ttlock_cloud.back, OfflineKind.PERIOD, starts_at=start + HOUR, ends_at=start + 72 * HOUR)
    assert not ttlock_cloud.enter_pin(ttlock_cloud.back, unused.keyboard_pwd, late)


async def test_a_generated_one_time_code_works_once_within_six_hours(client, ttlock_cloud):
    start = this_hour()
    once = await client.get_offline_passcode(ttlock_cloud.back, OfflineKind.ONE_TIME,
                                             starts_at=start)
    assert not ttlock_cloud.enter_pin(ttlock_cloud.back, once.keyboard_pwd, ms(start + 7 * HOUR))
    assert ttlock_cloud.enter_pin(ttlock_cloud.back, once.keyboard_pwd, ms(start + HOUR))
    assert not ttlock_cloud.enter_pin(ttlock_cloud.back, once.keyboard_pwd, ms(start + 2 * HOUR))


async def test_generated_codes_take_whole_hours_only(client, ttlock_cloud):
    with pytest.raises(ValueError, match="whole hours"):
        await client.get_offline_passcode(ttlock_cloud.back, OfflineKind.PERIOD,
                                          starts_at=this_hour() + timedelta(minutes=30),
                                          ends_at=this_hour() + 5 * HOUR)


# --- records and the callback push ------------------------------------------------------


async def test_keypad_entries_reach_the_callback_and_the_record_list(client, ttlock_cloud):
    await client.add_passcode(ttlock_cloud.front, "2468")
    with CallbackReceiver() as receiver:
        ttlock_cloud.callback_url = receiver.url
        ttlock_cloud.enter_pin(ttlock_cloud.front, "2468")
        for _ in range(5):  # several wrong codes raise an alarm record
            ttlock_cloud.enter_pin(ttlock_cloud.front, "0000")
        await client.unlock(ttlock_cloud.front)  # pushed from the cloud's own loop
        forms = await asyncio.to_thread(receiver.wait_for, 3)
    pushes = [parse_callback(form) for form in forms]
    assert all(push.lock_id == ttlock_cloud.front and push.notify_type == 1 for push in pushes)
    assert pushes[0].admin == USERNAME
    keypad = pushes[0].records[0]
    assert (keypad.record_type, keypad.success, keypad.keyboard_pwd) == (4, 1, "2468")
    assert [push.records[0].record_type for push in pushes[1:]] == [48, 12]
    listed = await client.list_records(ttlock_cloud.front)
    assert [(r.record_type, r.keyboard_pwd) for r in listed][-1] == (4, "2468")


async def test_records_are_filtered_by_time(client, ttlock_cloud):
    start = this_hour()
    await client.add_passcode(ttlock_cloud.front, "1357")
    ttlock_cloud.enter_pin(ttlock_cloud.front, "1357", ms(start - 5 * HOUR))
    ttlock_cloud.enter_pin(ttlock_cloud.front, "1357", ms(start - HOUR))
    recent = await client.list_records(ttlock_cloud.front, since=start - 2 * HOUR)
    assert [r.lock_date for r in recent] == [ms(start - HOUR)]


def test_a_form_that_is_not_a_ttlock_push_is_refused():
    with pytest.raises(ValueError):
        parse_callback({"records": "[]"})
    with pytest.raises(ValueError):
        parse_callback({"lockId": "1", "records": "not json"})


# --- slow answers, outages, secrets -----------------------------------------------------


async def test_a_slow_read_times_out_and_is_retried(ttlock_cloud):
    async with client_for(ttlock_cloud, timeout=0.3) as client:
        await client.sign_in(USERNAME, PASSWORD)
        ttlock_cloud.hold_requests()
        try:
            with pytest.raises(ProviderError) as slow:
                await client.list_locks()
            assert slow.value.error_type == "device_communication_timeout"
            assert slow.value.retryable
            assert ttlock_cloud.held_requests == 2  # the first try and one retry
        finally:
            ttlock_cloud.release_requests()


async def test_a_slow_unlock_times_out_without_being_sent_twice(ttlock_cloud):
    async with client_for(ttlock_cloud, timeout=0.3) as client:
        await client.sign_in(USERNAME, PASSWORD)
        ttlock_cloud.hold_requests()
        try:
            with pytest.raises(ProviderError) as slow:
                await client.unlock(ttlock_cloud.front)
            assert slow.value.error_type == "device_communication_timeout"
            assert ttlock_cloud.held_requests == 1
        finally:
            ttlock_cloud.release_requests()


async def test_an_outage_is_a_retryable_provider_error(client, ttlock_cloud):
    ttlock_cloud.set_outage(True)
    with pytest.raises(ProviderError) as down:
        await client.list_locks()
    assert down.value.error_type == "provider_error" and down.value.retryable
    assert "503" in down.value.message
    with pytest.raises(ProviderError):
        await client.unlock(ttlock_cloud.front)
    assert ttlock_cloud.world.calls.count("/v3/lock/list") == 2  # retried once
    assert ttlock_cloud.world.calls.count("/v3/lock/unlock") == 1  # a write is not
    ttlock_cloud.set_outage(False)
    assert len(await client.list_locks()) == 3


async def test_an_unreachable_cloud_is_a_retryable_provider_error(ttlock_cloud):
    url = ttlock_cloud.url
    ttlock_cloud.stop()
    async with TTLockClient(CLIENT_ID, CLIENT_SECRET, base_url=url,
                            read_retry_delays=()) as client:
        with pytest.raises(ProviderError) as down:
            await client.sign_in(USERNAME, PASSWORD)
    assert down.value.error_type == "provider_error" and down.value.retryable


async def test_secrets_stay_out_of_logs_and_errors(ttlock_cloud, caplog):
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    async with client_for(ttlock_cloud) as client:
        tokens = await client.sign_in(USERNAME, PASSWORD)
        await client.add_passcode(ttlock_cloud.front, "1234")
        ttlock_cloud.world.busy_next = 1
        await client.unlock(ttlock_cloud.front)
        for failing in (client.unlock(ttlock_cloud.back),
                        client.add_passcode(ttlock_cloud.front, "1234")):
            try:
                await failing
            except ProviderError as exc:
                errors.append(str(exc))
        ttlock_cloud.expire_tokens()
        await client.list_locks()
        assert client.tokens is not None
        secrets = [CLIENT_SECRET, PASSWORD, md5_password(PASSWORD), tokens.access_token,
                   tokens.refresh_token, client.tokens.access_token]
    text = caplog.text + "\n".join(errors)
    assert len(errors) == 2 and "gateway busy" in caplog.text
    assert not [secret for secret in secrets if secret in text]


async def test_generated_code_hours_are_the_lock_s_own(client, ttlock_cloud):
    """A lock at UTC+05:30 counts whole hours on its clock: a whole UTC hour is refused."""
    india = 19_800_000
    ttlock_cloud.set_lock(ttlock_cloud.back, timezone_raw_offset=india)
    utc_hour = this_hour()
    with pytest.raises(ProviderError) as refused:
        await client.get_offline_passcode(ttlock_cloud.back, OfflineKind.PERIOD,
                                          starts_at=utc_hour, ends_at=utc_hour + 5 * HOUR)
    assert refused.value.error_type == "provider_error" and "-3" in refused.value.message
    with pytest.raises(ValueError):
        await client.get_offline_passcode(ttlock_cloud.back, OfflineKind.PERIOD,
                                          starts_at=utc_hour, ends_at=utc_hour + 5 * HOUR,
                                          tz_offset_ms=india)
    local_hour = utc_hour + timedelta(minutes=30)
    assert await client.get_offline_passcode(
        ttlock_cloud.back, OfflineKind.PERIOD, starts_at=local_hour,
        ends_at=local_hour + 5 * HOUR, tz_offset_ms=india)


async def test_a_daily_cyclic_code_works_between_its_hours_every_day(client, ttlock_cloud):
    day = this_hour().replace(hour=0)
    nine, five_pm = day + 9 * HOUR, day + 17 * HOUR
    cyclic = await client.get_offline_passcode(ttlock_cloud.back, OfflineKind.DAILY,
                                               starts_at=nine, ends_at=five_pm + 30 * 24 * HOUR)
    code = cyclic.keyboard_pwd
    assert ttlock_cloud.enter_pin(ttlock_cloud.back, code, ms(nine + 3 * 24 * HOUR + HOUR))
    assert not ttlock_cloud.enter_pin(ttlock_cloud.back, code, ms(five_pm + 3 * 24 * HOUR))
    assert not ttlock_cloud.enter_pin(ttlock_cloud.back, code, ms(nine - HOUR))
