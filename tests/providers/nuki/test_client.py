"""The Nuki client against the fake Nuki cloud: every call, each mapped error, retries,
timeouts and outages, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lockhub.providers.base import ProviderError
from lockhub.providers.nuki.client import NukiClient, check_pin, error_for, verify_webhook
from tests.fakes.nuki import world as w
from tests.fakes.nuki.server import BACK_DOOR, FRONT_DOOR, TOKEN, NukiCloud, ThreadedServer


@pytest.fixture
async def client(nuki_cloud: NukiCloud) -> AsyncIterator[NukiClient]:
    async with NukiClient(TOKEN, base_url=nuki_cloud.url, timeout=2.0, retry_backoff=0) as c:
        yield c


async def expect_error(error_type: str, call: Any) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await call
    assert info.value.error_type == error_type, info.value.message
    assert TOKEN not in str(info.value)
    return info.value


# --- sign-in and tokens ------------------------------------------------------------------------

async def test_sign_in_names_the_account_and_a_wrong_token_is_invalid_credentials(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    account = await client.sign_in()
    assert (account.account_id, account.email) == (987654321, "jane@example.com")
    async with NukiClient("not-a-token", base_url=nuki_cloud.url) as wrong:
        await expect_error("invalid_credentials", wrong.sign_in())


async def test_a_token_destroyed_by_a_password_change_disconnects_the_account(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    await client.list_smartlocks()
    nuki_cloud.change_password()
    error = await expect_error("account_disconnected", client.list_smartlocks())
    assert not error.retryable
    assert len([r for r in nuki_cloud.requests if r.path == "/smartlock"]) == 2  # 401 not retried


async def test_the_base_url_comes_from_the_environment(
        nuki_cloud: NukiCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKHUB_NUKI_API_URL", nuki_cloud.url)
    async with NukiClient(TOKEN) as c:
        assert [lock.name for lock in await c.list_smartlocks()] == ["Front Door", "Back Door"]
    assert nuki_cloud.requests[-1].authorization == f"Bearer {TOKEN}"


async def test_the_token_never_shows_in_repr_errors_or_logs(
        nuki_cloud: NukiCloud, client: NukiClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    nuki_cloud.rate_limit(1, retry_after=0)
    await client.list_smartlocks()
    nuki_cloud.revoke_token()
    await expect_error("account_disconnected", client.get_smartlock(FRONT_DOOR))
    assert TOKEN not in repr(client)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


# --- smart locks -------------------------------------------------------------------------------

async def test_smartlocks_report_state_battery_door_keypad_and_reachability(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    nuki_cloud.set_battery(FRONT_DOOR, 15)
    nuki_cloud.set_door(FRONT_DOOR, open_=True)
    front, back = await client.list_smartlocks()
    assert (front.smartlock_id, front.locked, front.door_open) == (FRONT_DOOR, True, True)
    assert (front.battery_charge, front.battery_critical, front.keypad_paired) == (15, True, True)
    assert front.online and back.online and back.locked is False and not back.keypad_paired
    nuki_cloud.set_bridge_online(FRONT_DOOR, False)
    detail = await client.get_smartlock(FRONT_DOOR)
    assert (detail.server_state, detail.online) == (4, False)


async def test_a_lock_outside_the_account_is_device_removed(client: NukiClient) -> None:
    await expect_error("device_removed", client.get_smartlock(12345))


async def test_lock_and_unlock_are_accepted_before_the_lock_moves(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    await client.unlock(FRONT_DOOR)
    assert (await client.get_smartlock(FRONT_DOOR)).locked is True  # 204 is not "done"
    assert nuki_cloud.settle() == 1
    assert (await client.get_smartlock(FRONT_DOOR)).locked is False
    await client.lock(FRONT_DOOR)
    nuki_cloud.settle()
    assert (await client.get_smartlock(FRONT_DOOR)).locked is True
    actions = [(e.action, e.trigger, e.state) for e in await client.list_log(FRONT_DOOR)]
    assert actions == [(w.ACTION_LOCK, w.TRIGGER_WEB, 0), (w.ACTION_UNLOCK, w.TRIGGER_WEB, 0)]


async def test_an_offline_lock_applies_an_accepted_action_only_when_it_is_back(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    nuki_cloud.set_lock_online(BACK_DOOR, False)
    await client.lock(BACK_DOOR)
    assert nuki_cloud.settle() == 0
    assert (await client.get_smartlock(BACK_DOOR)).locked is False
    nuki_cloud.set_lock_online(BACK_DOOR, True)
    nuki_cloud.settle()
    assert (await client.get_smartlock(BACK_DOOR)).locked is True


async def test_a_lost_change_answers_204_and_never_happens(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    nuki_cloud.lose_next_change()
    await client.unlock(FRONT_DOOR)
    nuki_cloud.settle()
    assert (await client.get_smartlock(FRONT_DOOR)).locked is True


async def test_a_jammed_bolt_reads_as_motor_blocked(nuki_cloud: NukiCloud, client: NukiClient) -> None:
    nuki_cloud.jam_next(FRONT_DOOR)
    await client.unlock(FRONT_DOOR)
    nuki_cloud.settle()
    lock = await client.get_smartlock(FRONT_DOOR)
    assert lock.jammed and lock.locked is None
    assert (await client.list_log(FRONT_DOOR))[0].state == w.LOG_MOTOR_BLOCKED


# --- keypad codes ------------------------------------------------------------------------------

async def test_a_created_code_has_no_id_until_the_lock_applied_it_then_is_found_by_listing(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    assert await client.add_keypad_code(FRONT_DOOR, name="Guest 1", code="345678") is None
    nuki_cloud.settle()
    found = await client.find_keypad_code(FRONT_DOOR, name="Guest 1", code="345678")
    assert found is not None and found.id and found.allowed_from is None
    assert [c.id for c in await client.list_keypad_codes(FRONT_DOOR)] == [found.id]


async def test_a_time_bound_code_keeps_its_native_window_and_only_opens_inside_it(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    start = datetime(2026, 8, 3, 14, 0, tzinfo=UTC)  # a Monday
    end = start + timedelta(days=3)
    await client.create_keypad_code(FRONT_DOOR, name="Booking 42", code="457689",
                                    allowed_from=start, allowed_until=end,
                                    weekdays=64 | 32, from_time=8 * 60, until_time=22 * 60)
    nuki_cloud.settle()
    code = await client.find_keypad_code(FRONT_DOOR, name="Booking 42", code="457689")
    assert code is not None
    assert (code.allowed_from, code.allowed_until) == (start, end)
    assert (code.weekdays, code.from_time, code.until_time) == (96, 480, 1320)
    vienna_noon_tuesday = datetime(2026, 8, 4, 10, 0, tzinfo=UTC)
    assert not nuki_cloud.enter_pin(FRONT_DOOR, "457689", at=start - timedelta(hours=1))
    assert not nuki_cloud.enter_pin(FRONT_DOOR, "457689", at=end - timedelta(hours=1))  # Thursday
    assert nuki_cloud.enter_pin(FRONT_DOOR, "457689", at=vienna_noon_tuesday)
    newest, refused, refused_too = (await client.list_log(FRONT_DOOR))[:3]
    assert (newest.action, newest.trigger, newest.auth_id) == (w.ACTION_UNLOCK, w.TRIGGER_KEYPAD, code.id)
    assert (refused.state, refused.auth_id, refused_too.state) == (w.LOG_WRONG_CODE, None, w.LOG_WRONG_CODE)
    assert (await client.get_smartlock(FRONT_DOOR)).locked is False


async def test_update_disables_and_clears_the_window_and_delete_removes_the_code(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    until = datetime(2030, 1, 1, tzinfo=UTC)
    await client.create_keypad_code(FRONT_DOOR, name="Cleaner", code="987654", allowed_until=until)
    nuki_cloud.settle()
    code = await client.find_keypad_code(FRONT_DOOR, name="Cleaner", code="987654")
    assert code is not None and code.allowed_until == until
    await client.update_keypad_code(FRONT_DOOR, code.id, enabled=False, allowed_until=None)
    sent = nuki_cloud.requests[-1].body
    assert sent == {"enabled": False, "allowedUntilDate": None}
    nuki_cloud.settle()
    (updated,) = await client.list_keypad_codes(FRONT_DOOR)
    assert (updated.enabled, updated.allowed_until, updated.name) == (False, None, "Cleaner")
    assert not nuki_cloud.enter_pin(FRONT_DOOR, "987654")
    assert await client.delete_keypad_code(FRONT_DOOR, code.id)
    assert len(await client.list_keypad_codes(FRONT_DOOR)) == 1  # until the lock applies it
    nuki_cloud.settle()
    assert await client.list_keypad_codes(FRONT_DOOR) == []
    assert not await client.delete_keypad_code(FRONT_DOOR, code.id)  # already gone


@pytest.mark.parametrize("pin", ["123456", "345670", "34567", "3456789", "34a678"])
async def test_pins_breaking_nukis_rules_are_refused_before_any_request(
        nuki_cloud: NukiCloud, client: NukiClient, pin: str) -> None:
    await expect_error("code_constraints_violated",
                       client.create_keypad_code(FRONT_DOOR, name="x", code=pin))
    assert nuki_cloud.requests == []


async def test_nukis_own_code_refusals_map_to_typed_errors(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    await client.create_keypad_code(FRONT_DOOR, name="A", code="345678")
    await expect_error("duplicate_code_on_device",
                       client.create_keypad_code(FRONT_DOOR, name="B", code="345678"))
    await expect_error("accessory_keypad_setup_required",
                       client.create_keypad_code(BACK_DOOR, name="C", code="456789"))
    nuki_cloud.settle()
    (code,) = await client.list_keypad_codes(FRONT_DOOR)
    await expect_error("code_constraints_violated",
                       client.update_keypad_code(FRONT_DOOR, code.id, name="a name of 21 chars!!!"))
    nuki_cloud.lock(FRONT_DOOR).keypad_capacity = 1
    await expect_error("no_space_for_access_code_on_device",
                       client.create_keypad_code(FRONT_DOOR, name="D", code="567891"))


def test_the_error_table_covers_nukis_answers() -> None:
    assert error_for(402).error_type == "subscription_required"
    assert error_for(403).error_type == "provider_error"
    assert error_for(418).error_type == "provider_error"
    assert error_for(503).retryable and not error_for(401).retryable
    check_pin("987654")


# --- log ---------------------------------------------------------------------------------------

async def test_the_log_pages_back_newest_first(nuki_cloud: NukiCloud, client: NukiClient) -> None:
    for locked in (False, True, False, True, False):
        nuki_cloud.turn_by_hand(FRONT_DOOR, locked=locked)
    first = await client.list_log(FRONT_DOOR, limit=2)
    rest = await client.list_log(FRONT_DOOR, before_id=first[-1].id)
    assert [e.action for e in first + rest] == [1, 2, 1, 2, 1]
    assert all(e.trigger == w.TRIGGER_MANUAL for e in first + rest)
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await client.list_log(FRONT_DOOR, since=later) == []


# --- failure modes -----------------------------------------------------------------------------

async def test_a_rate_limited_read_is_retried_after_retry_after(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    nuki_cloud.rate_limit(2, retry_after=0)
    assert len(await client.list_smartlocks()) == 2
    assert [r.path for r in nuki_cloud.requests] == ["/smartlock"] * 3


async def test_rate_limits_on_writes_and_on_exhausted_reads_are_rate_limit_exceeded(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    nuki_cloud.rate_limit(1)
    error = await expect_error("rate_limit_exceeded", client.lock(FRONT_DOOR))
    assert error.retryable and len(nuki_cloud.requests) == 1  # a write is sent once
    nuki_cloud.rate_limit(3)
    await expect_error("rate_limit_exceeded", client.list_smartlocks())


async def test_an_outage_is_provider_service_unavailable_and_ends_with_the_outage(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    nuki_cloud.outage(503)
    error = await expect_error("provider_service_unavailable", client.list_smartlocks())
    assert error.retryable
    await expect_error("provider_service_unavailable", client.unlock(FRONT_DOOR))
    nuki_cloud.restore()
    assert len(await client.list_smartlocks()) == 2


async def test_an_unreachable_cloud_is_provider_service_unavailable(nuki_cloud: NukiCloud) -> None:
    nuki_cloud.stop()
    async with NukiClient(TOKEN, base_url=nuki_cloud.url, read_retries=0) as c:
        await expect_error("provider_service_unavailable", c.list_smartlocks())


async def test_a_slow_answer_times_out_and_a_slow_write_is_not_repeated(
        nuki_cloud: NukiCloud) -> None:
    async with NukiClient(TOKEN, base_url=nuki_cloud.url, timeout=0.3, retry_backoff=0) as c:
        with nuki_cloud.slow():
            await expect_error("provider_service_unavailable",
                               c.create_keypad_code(FRONT_DOOR, name="Slow", code="345678"))
        assert [r.method for r in nuki_cloud.requests] == ["PUT"]


async def test_a_slow_answer_within_the_timeout_arrives(nuki_cloud: NukiCloud) -> None:
    async with NukiClient(TOKEN, base_url=nuki_cloud.url, timeout=10) as c:
        with nuki_cloud.slow():
            task = asyncio.create_task(c.get_smartlock(FRONT_DOOR))
            await nuki_cloud.wait_held(1)
        assert (await task).name == "Front Door"


# --- webhooks ----------------------------------------------------------------------------------

class Receiver:
    """A webhook endpoint recording what arrives."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append((body, headers.get("x-nuki-signature-sha256", "")))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def test_decentral_webhooks_deliver_signed_status_log_and_auth_changes(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    receiver = Receiver()
    server = ThreadedServer(receiver).start()
    try:
        hook = await client.create_webhook(f"{server.url}/nuki", ("DEVICE_STATUS", "DEVICE_LOGS"))
        assert hook.secret and [h.id for h in await client.list_webhooks()] == [hook.id]
        await client.unlock(FRONT_DOOR)
        nuki_cloud.settle()
        assert all(d.status == 200 for d in nuki_cloud.deliveries())
        features = [json.loads(body)["feature"] for body, _ in receiver.received]
        assert sorted(features) == ["DEVICE_LOGS", "DEVICE_STATUS"]
        for body, signature in receiver.received:
            assert verify_webhook(body, signature, hook.secret)
            assert not verify_webhook(body, signature, "another secret")
        status = next(json.loads(b) for b, _ in receiver.received if b"DEVICE_STATUS" in b)
        assert (status["smartlockId"], status["state"]["state"]) == (FRONT_DOOR, w.UNLOCKED)
        await client.delete_webhook(hook.id)
        assert await client.list_webhooks() == []
    finally:
        server.stop()


async def test_webhooks_without_the_advanced_api_are_refused(
        nuki_cloud: NukiCloud, client: NukiClient) -> None:
    nuki_cloud.account.advanced_api = False
    await expect_error("provider_error", client.create_webhook("https://example.com/nuki"))
