"""The igloohome client against the fake igloohome cloud: sign-in and token renewal, devices,
bridge jobs (accepted, then polled until done or failed), custom PINs, algoPINs, activity logs,
and each igloohome error as the Seam error type lockhub reports."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime, timedelta, timezone

import pytest

from lockhub.clock import ManualClock
from lockhub.providers.base import ProviderError
from lockhub.providers.igloohome.client import JOB_UNLOCK, IgloohomeClient
from tests.fakes.igloohome import world as w
from tests.fakes.igloohome.conftest import BACK_DOOR, BRIDGE, FRONT_DOOR, KEYBOX, KEYPAD, START
from tests.fakes.igloohome.server import IgloohomeCloud
from tests.fakes.igloohome.tokens import ALL_SCOPES, SANDBOX_CLIENT_SECRET
from tests.providers.igloohome.conftest import make_client

LOCAL = timezone(timedelta(hours=1))  # the lock's zone in these tests
HOUR = timedelta(hours=1)
NEXT_HOUR = datetime(2026, 6, 11, 11, tzinfo=LOCAL)  # START is 10:20 local


async def raises(error_type: str, call: Awaitable[object]) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await call
    assert caught.value.error_type == error_type, caught.value.message
    return caught.value


# --- sign-in and tokens ----------------------------------------------------------------------

async def test_sign_in_with_a_wrong_secret_is_invalid_credentials_without_the_secret(
        igloohome_cloud: IgloohomeCloud, igloohome_clock: ManualClock) -> None:
    async with make_client(igloohome_cloud, igloohome_clock, secret="wrong-secret-123") as client:
        error = await raises("invalid_credentials", client.sign_in())
    assert "wrong-secret-123" not in error.message
    assert "wrong-secret-123" not in repr(client)


async def test_one_token_serves_many_calls(igloohome: IgloohomeClient,
                                           igloohome_cloud: IgloohomeCloud) -> None:
    await igloohome.sign_in()
    await igloohome.list_devices()
    await igloohome.get_device(FRONT_DOOR)
    assert igloohome_cloud.tokens.issued == 1


async def test_a_token_about_to_expire_is_replaced_before_the_call(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud,
        igloohome_clock: ManualClock) -> None:
    await igloohome.list_devices()
    igloohome_clock.advance(timedelta(hours=23, minutes=56).total_seconds())
    await igloohome.list_devices()
    assert igloohome_cloud.tokens.issued == 2
    assert [m for m, p in igloohome_cloud.requests if p == "/oauth2/token"] == ["POST", "POST"]


async def test_a_refused_token_is_replaced_once_and_the_call_repeated(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    await igloohome.list_devices()
    igloohome_cloud.tokens.revoke_all()
    assert len(await igloohome.list_devices()) == 5
    assert igloohome_cloud.tokens.issued == 2


async def test_a_deleted_api_key_disconnects_the_account(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    await igloohome.list_devices()
    igloohome_cloud.tokens.revoke_all()
    igloohome_cloud.tokens.remove_client("jane@example.com")
    error = await raises("account_disconnected", igloohome.list_devices())
    assert SANDBOX_CLIENT_SECRET not in error.message


async def test_an_api_key_without_a_permission_disconnects_the_account_on_that_call(
        igloohome_cloud: IgloohomeCloud, igloohome_clock: ManualClock) -> None:
    scopes = frozenset(ALL_SCOPES) - {"igloohomeapi/unlock-bridge-proxied-job"}
    igloohome_cloud.tokens.add_client("limited", "limited-secret", scopes)
    async with make_client(igloohome_cloud, igloohome_clock, client_id="limited",
                           secret="limited-secret") as client:
        assert await client.list_devices()
        await raises("account_disconnected", client.unlock(FRONT_DOOR, BRIDGE))


async def test_asking_for_a_scope_the_key_lacks_refuses_the_sign_in(
        igloohome_cloud: IgloohomeCloud, igloohome_clock: ManualClock) -> None:
    igloohome_cloud.tokens.add_client("limited", "limited-secret", ("igloohomeapi/get-devices",))
    async with make_client(igloohome_cloud, igloohome_clock, client_id="limited",
                           secret="limited-secret",
                           scope="igloohomeapi/get-devices igloohomeapi/algopin-hourly") as client:
        await raises("invalid_credentials", client.sign_in())


# --- devices ---------------------------------------------------------------------------------

async def test_devices_carry_battery_and_their_bridge_and_keypad_links(
        igloohome: IgloohomeClient) -> None:
    devices = {d.device_id: d for d in await igloohome.list_devices()}
    assert {d.type for d in devices.values()} == {"Lock", "Bridge", "Keypad"}
    back = devices[BACK_DOOR]
    assert (back.battery_level, back.bridge_id, back.keypad_id) == (35, BRIDGE, KEYPAD)
    assert devices[KEYBOX].bridge_id is None
    assert devices[BRIDGE].battery_level is None
    assert (await igloohome.get_device(FRONT_DOOR)).name == "Front Door"


async def test_the_device_list_follows_every_page(igloohome: IgloohomeClient,
                                                  igloohome_cloud: IgloohomeCloud) -> None:
    igloohome_cloud.app.page_size = 2
    assert len(await igloohome.list_devices()) == 5
    assert sum(p == "/igloohome/devices" for _, p in igloohome_cloud.requests) == 3


async def test_an_unknown_device_is_device_not_found(igloohome: IgloohomeClient) -> None:
    await raises("device_not_found", igloohome.get_device("OE1X000000"))


# --- bridge jobs -----------------------------------------------------------------------------

async def test_a_job_is_accepted_before_it_is_done(igloohome: IgloohomeClient,
                                                   igloohome_cloud: IgloohomeCloud) -> None:
    job_id = await igloohome.submit_job(FRONT_DOOR, BRIDGE, JOB_UNLOCK)
    first = await igloohome.job_status(job_id)
    assert (first.completed, first.done, first.failed) == (False, False, False)
    assert igloohome_cloud.world.locks[FRONT_DOOR].locked
    done = await igloohome.wait_for_job(job_id)
    assert done.done and done.job_type == JOB_UNLOCK
    assert not igloohome_cloud.world.locks[FRONT_DOOR].locked


async def test_lock_and_unlock_move_the_bolt_and_are_logged(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    await igloohome.unlock(BACK_DOOR, BRIDGE)
    assert not igloohome_cloud.world.locks[BACK_DOOR].locked
    await igloohome.lock(BACK_DOOR, BRIDGE)
    assert igloohome_cloud.world.locks[BACK_DOOR].locked
    logs = await igloohome.activity_logs(BACK_DOOR, BRIDGE)
    assert [e.log_type for e in logs] == [w.LOG_UNLOCK_BRIDGE, w.LOG_LOCK_BRIDGE]


async def test_an_offline_bridge_is_hub_disconnected(igloohome: IgloohomeClient,
                                                     igloohome_cloud: IgloohomeCloud) -> None:
    igloohome_cloud.world.bridges[BRIDGE].online = False
    error = await raises("hub_disconnected", igloohome.unlock(FRONT_DOOR, BRIDGE))
    assert error.retryable


async def test_a_lock_without_that_bridge_is_hub_disconnected(
        igloohome: IgloohomeClient) -> None:
    await raises("hub_disconnected", igloohome.unlock(KEYBOX, BRIDGE))


async def test_a_lock_out_of_bridge_range_fails_the_job_as_device_offline(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    igloohome_cloud.world.locks[FRONT_DOOR].in_bridge_range = False
    await raises("device_offline", igloohome.unlock(FRONT_DOOR, BRIDGE))
    assert igloohome_cloud.world.locks[FRONT_DOOR].locked


async def test_a_job_the_bridge_never_runs_is_a_communication_timeout(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    igloohome_cloud.jobs.held = True
    error = await raises("device_communication_timeout", igloohome.unlock(FRONT_DOOR, BRIDGE))
    assert "may still" in error.message
    assert sum(p.startswith("/igloohome/jobs/") for _, p in igloohome_cloud.requests) == 5


async def test_a_bridge_runs_its_jobs_one_at_a_time_in_order(
        igloohome: IgloohomeClient) -> None:
    first = await igloohome.submit_job(FRONT_DOOR, BRIDGE, JOB_UNLOCK)
    second = await igloohome.submit_job(BACK_DOOR, BRIDGE, JOB_UNLOCK)
    for _ in range(3):
        assert not (await igloohome.job_status(second)).completed
    await igloohome.wait_for_job(first)
    assert (await igloohome.wait_for_job(second)).done


async def test_a_failed_job_with_unknown_words_is_provider_error(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    igloohome_cloud.fail_next_job("Lock is busy")
    error = await raises("provider_error", igloohome.lock(FRONT_DOOR, BRIDGE))
    assert "Lock is busy" in error.message


async def test_battery_is_read_from_the_lock_through_the_bridge(
        igloohome: IgloohomeClient) -> None:
    assert await igloohome.battery_level(BACK_DOOR, BRIDGE) == 35


# --- custom PINs through the bridge ----------------------------------------------------------

async def test_a_custom_pin_with_a_window_opens_the_lock_only_inside_it(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud,
        igloohome_clock: ManualClock) -> None:
    await igloohome.create_pin(BACK_DOOR, BRIDGE, "482913", "Guest",
                               starts_at=NEXT_HOUR, ends_at=NEXT_HOUR + 2 * HOUR)
    world = igloohome_cloud.world
    assert not world.enter_pin(BACK_DOOR, "482913")
    igloohome_clock.advance(3600)
    assert world.enter_pin(BACK_DOOR, "482913")
    igloohome_clock.advance(2 * 3600)
    assert not world.enter_pin(BACK_DOOR, "482913")


async def test_an_ongoing_pin_works_until_deleted(igloohome: IgloohomeClient,
                                                  igloohome_cloud: IgloohomeCloud) -> None:
    await igloohome.create_pin(FRONT_DOOR, BRIDGE, "1234", "Cleaner")
    assert igloohome_cloud.world.enter_pin(FRONT_DOOR, "1234")
    await igloohome.delete_pin(FRONT_DOOR, BRIDGE, "1234")
    assert not igloohome_cloud.world.enter_pin(FRONT_DOOR, "1234")
    await raises("access_code_not_found", igloohome.delete_pin(FRONT_DOOR, BRIDGE, "1234"))


async def test_the_same_pin_twice_is_duplicate_code_on_device(
        igloohome: IgloohomeClient) -> None:
    await igloohome.create_pin(FRONT_DOOR, BRIDGE, "777111", "A")
    await raises("duplicate_code_on_device",
                 igloohome.create_pin(FRONT_DOOR, BRIDGE, "777111", "B"))


async def test_a_full_lock_is_no_space_for_access_code_on_device(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    lock = igloohome_cloud.world.locks[FRONT_DOOR]
    for n in range(w.MAX_PINS_PER_LOCK):
        igloohome_cloud.world.add_pin(lock, pin=f"{100000 + n}", name=str(n), kind="custom")
    await raises("no_space_for_access_code_on_device",
                 igloohome.create_pin(FRONT_DOOR, BRIDGE, "999999", "One too many"))
    await raises("no_space_for_access_code_on_device", igloohome.create_algopin(
        FRONT_DOOR, "onetime", starts_at=NEXT_HOUR, name="One too many"))


async def test_a_pin_igloohome_refuses_is_a_provider_error_not_retried(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    error = await raises("provider_error", igloohome.create_pin(FRONT_DOOR, BRIDGE, "12", "x"))
    assert "4 to 10 digits" in error.message and not error.retryable


# --- algoPINs --------------------------------------------------------------------------------

async def test_an_hourly_algopin_opens_the_lock_in_its_window_without_a_bridge(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud,
        igloohome_clock: ManualClock) -> None:
    code = await igloohome.create_algopin(KEYBOX, "hourly", starts_at=NEXT_HOUR,
                                          ends_at=NEXT_HOUR + 3 * HOUR, name="Guest")
    assert code.pin.isdigit() and len(code.pin) == 9 and code.pin_id
    world = igloohome_cloud.world
    assert not world.enter_pin(KEYBOX, code.pin)
    igloohome_clock.advance(3600)
    assert world.enter_pin(KEYBOX, code.pin)
    igloohome_clock.advance(3 * 3600)
    assert not world.enter_pin(KEYBOX, code.pin)
    assert igloohome_cloud.requests[-1][0] == "POST"  # one call, no job, no bridge


async def test_an_algopin_is_a_function_of_the_request(igloohome: IgloohomeClient) -> None:
    window = {"starts_at": NEXT_HOUR, "ends_at": NEXT_HOUR + 5 * HOUR, "name": "Guest"}
    first = await igloohome.create_algopin(KEYBOX, "hourly", **window)
    again = await igloohome.create_algopin(KEYBOX, "hourly", **window)
    other = await igloohome.create_algopin(KEYBOX, "hourly", variance=2, **window)
    assert first.pin == again.pin != other.pin


async def test_a_long_algopin_not_used_within_24_hours_never_works(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud,
        igloohome_clock: ManualClock) -> None:
    late = await igloohome.create_algopin(KEYBOX, "permanent", starts_at=NEXT_HOUR, name="Late")
    early = await igloohome.create_algopin(KEYBOX, "permanent", starts_at=NEXT_HOUR,
                                           variance=2, name="Early")
    igloohome_clock.advance(2 * 3600)
    assert igloohome_cloud.world.enter_pin(KEYBOX, early.pin)
    igloohome_clock.advance(30 * 3600)
    assert not igloohome_cloud.world.enter_pin(KEYBOX, late.pin)
    assert igloohome_cloud.world.enter_pin(KEYBOX, early.pin)


async def test_a_onetime_algopin_opens_once_within_24_hours(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud,
        igloohome_clock: ManualClock) -> None:
    once = await igloohome.create_algopin(KEYBOX, "onetime", starts_at=NEXT_HOUR, name="Once")
    unused = await igloohome.create_algopin(KEYBOX, "onetime", starts_at=NEXT_HOUR, variance=5,
                                            name="Unused")
    igloohome_clock.advance(3600)
    assert igloohome_cloud.world.enter_pin(KEYBOX, once.pin)
    assert not igloohome_cloud.world.enter_pin(KEYBOX, once.pin)
    igloohome_clock.advance(25 * 3600)
    assert not igloohome_cloud.world.enter_pin(KEYBOX, unused.pin)


async def test_a_daily_algopin_keeps_igloohomes_window_rules(
        igloohome: IgloohomeClient) -> None:
    start = datetime(2026, 6, 12, 15, tzinfo=LOCAL)
    code = await igloohome.create_algopin(KEYBOX, "daily", starts_at=start,
                                          ends_at=start + timedelta(days=30), name="Tenant")
    assert code.kind == "daily"
    error = await raises("provider_error", igloohome.create_algopin(
        KEYBOX, "daily", starts_at=start, ends_at=start + timedelta(days=400), name="Too long"))
    assert "Exceeded the limit of 367 days" in error.message
    await raises("provider_error", igloohome.create_algopin(
        KEYBOX, "daily", starts_at=start, ends_at=start + timedelta(days=10), name="Too short"))
    error = await raises("provider_error", igloohome.create_algopin(
        KEYBOX, "hourly", starts_at=start, ends_at=start + timedelta(hours=673), name="Long"))
    assert "672 hours" in error.message


async def test_an_algopin_starting_in_the_past_is_refused(igloohome: IgloohomeClient) -> None:
    error = await raises("provider_error", igloohome.create_algopin(
        KEYBOX, "onetime", starts_at=NEXT_HOUR - 3 * HOUR, name="Past"))
    assert "past" in error.message


async def test_algopin_dates_off_the_hour_never_leave_the_client(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    with pytest.raises(ValueError):
        await igloohome.create_algopin(KEYBOX, "onetime", starts_at=NEXT_HOUR.replace(minute=30),
                                       name="x")
    with pytest.raises(ValueError):
        await igloohome.create_algopin(KEYBOX, "hourly", starts_at=NEXT_HOUR, name="no end")
    assert not any("algopin" in p for _, p in igloohome_cloud.requests)


# --- activity logs ---------------------------------------------------------------------------

async def test_activity_logs_report_what_happened_at_the_lock(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud,
        igloohome_clock: ManualClock) -> None:
    await igloohome.create_pin(BACK_DOOR, BRIDGE, "246810", "Guest")
    key_id = igloohome_cloud.world.locks[BACK_DOOR].find_pin("246810").key_id
    igloohome_clock.advance(60)
    igloohome_cloud.world.enter_pin(BACK_DOOR, "246810")
    igloohome_clock.advance(60)
    igloohome_cloud.world.enter_pin(BACK_DOOR, "000000")
    igloohome_clock.advance(60)
    igloohome_cloud.world.turn_by_hand(BACK_DOOR, locked=True)
    logs = await igloohome.activity_logs(BACK_DOOR, BRIDGE)
    assert [(e.log_type, e.key_id) for e in logs] == [
        (w.LOG_UNLOCK_PIN, key_id), (w.LOG_PIN_REFUSED, 0), (w.LOG_LOCK_MANUAL, 0)]
    assert logs[0].occurred_at == START + timedelta(seconds=60)
    since = await igloohome.activity_logs(BACK_DOOR, BRIDGE, since=logs[1].occurred_at)
    assert [e.log_type for e in since] == [w.LOG_LOCK_MANUAL]


# --- rate limits, outages, slow answers ------------------------------------------------------

async def test_throttled_requests_are_retried(igloohome: IgloohomeClient,
                                              igloohome_cloud: IgloohomeCloud) -> None:
    await igloohome.sign_in()
    igloohome_cloud.throttle(2, retry_after="0")
    assert len(await igloohome.list_devices()) == 5
    igloohome_cloud.throttle(1)
    await igloohome.unlock(FRONT_DOOR, BRIDGE)  # a throttled POST never reached igloohome
    assert len(igloohome_cloud.jobs.jobs) == 1


async def test_throttling_that_lasts_is_rate_limit_exceeded(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    igloohome_cloud.throttle(10)
    error = await raises("rate_limit_exceeded", igloohome.list_devices())
    assert error.retryable


async def test_an_outage_retries_reads_but_never_repeats_a_job(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    await igloohome.sign_in()
    igloohome_cloud.outage()
    error = await raises("provider_error", igloohome.list_devices())
    assert error.retryable
    assert sum(p == "/igloohome/devices" for _, p in igloohome_cloud.requests) == 3
    await raises("provider_error", igloohome.unlock(FRONT_DOOR, BRIDGE))
    assert sum("/jobs/bridges/" in p for _, p in igloohome_cloud.requests) == 1
    igloohome_cloud.outage(False)
    assert await igloohome.list_devices()


async def test_a_cloud_slower_than_the_timeout_is_a_communication_timeout(
        igloohome_cloud: IgloohomeCloud, igloohome_clock: ManualClock) -> None:
    async with make_client(igloohome_cloud, igloohome_clock, timeout=0.2, retries=0) as client:
        await client.sign_in()
        igloohome_cloud.hold()
        try:
            error = await raises("device_communication_timeout", client.list_devices())
        finally:
            igloohome_cloud.release()
    assert error.retryable


async def test_an_unreachable_cloud_is_a_retryable_provider_error(
        igloohome_clock: ManualClock) -> None:
    cloud = IgloohomeCloud(igloohome_clock)  # never started: nothing listens on the port
    cloud.port = 9  # discard: refused on loopback
    async with make_client(cloud, igloohome_clock) as client:
        error = await raises("provider_error", client.sign_in())
    assert error.retryable


async def test_secrets_never_reach_the_logs(igloohome_cloud: IgloohomeCloud,
                                            igloohome_clock: ManualClock,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    igloohome_cloud.tokens.add_client("kept-quiet", "s3cr3t-Value-9f2")
    async with make_client(igloohome_cloud, igloohome_clock, client_id="kept-quiet",
                           secret="s3cr3t-Value-9f2") as client:
        await client.list_devices()
        igloohome_cloud.tokens.revoke_all()
        await client.unlock(FRONT_DOOR, BRIDGE)
    tokens = list(igloohome_cloud.tokens.grants)
    assert tokens
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/igloohome/devices" in text
    for secret in ["s3cr3t-Value-9f2", *tokens]:
        assert secret not in text
    assert "Basic " not in text and "Bearer " not in text


async def test_dates_sent_for_a_custom_pin_keep_the_locks_offset(
        igloohome: IgloohomeClient, igloohome_cloud: IgloohomeCloud) -> None:
    await igloohome.create_pin(FRONT_DOOR, BRIDGE, "135790", "Guest",
                               starts_at=NEXT_HOUR, ends_at=NEXT_HOUR + HOUR)
    job = next(iter(igloohome_cloud.jobs.jobs.values()))
    assert job.data == {"accessName": "Guest", "pin": "135790", "pinType": 4,
                        "startDate": "2026-06-11T11:00:00+01:00",
                        "endDate": "2026-06-11T12:00:00+01:00"}
