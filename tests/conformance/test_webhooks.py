"""Signed webhooks, delivered at least once: verified by the official SDK's SeamWebhook on a
real receiver, through receiver outages (sandbox clock) and lockhub crashes.

Each test starts its own server so deliveries and the clock are its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from seam import Seam
from seam.exceptions import SeamHttpApiError, SeamHttpInvalidInputError

from tests.conformance.helpers import FAKE_KEY, OTHER_KEY, wait_until
from tests.conformance.webhook_receiver import Receiver
from tests.server import LockhubServer, start_server


@pytest.fixture
def lockhub(tmp_path: Path) -> Iterator[LockhubServer]:
    server = start_server(tmp_path, env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0",
                                         "LOCKHUB_LEASE_SECONDS": "1"})
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _sandbox(server: LockhubServer) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/_lockhub",
                        headers={"Authorization": f"Bearer {FAKE_KEY}"})


def _deliveries(server: LockhubServer, **params: str) -> list[dict]:
    with _sandbox(server) as http:
        return http.get("/webhooks/deliveries/list", params=params).json()["deliveries"]


def test_lock_and_access_code_activity_arrives_signed_and_filtered(
    lockhub: LockhubServer, receiver: Receiver,
) -> None:
    seam = Seam(api_key=FAKE_KEY, endpoint=lockhub.url)
    webhook = seam.webhooks.create(url=receiver.url, event_types=[
        "lock.unlocked", "lock.locked", "access_code.created", "access_code.set_on_device"])
    assert webhook.secret.startswith("whsec_")
    receiver.secret = webhook.secret

    seam.locks.unlock_door(device_id="august_device_1")
    seam.locks.lock_door(device_id="august_device_1")
    code = seam.access_codes.create(device_id="august_device_2", code="4821", name="Guest")

    receiver.wait_for(lambda r: len(r.events) >= 4)
    types = sorted(e.event_type for e in receiver.events)
    assert types == ["access_code.created", "access_code.set_on_device", "lock.locked",
                     "lock.unlocked"]
    assert receiver.rejected == 0
    assert {e.access_code_id for e in receiver.events if e.event_type.startswith("access")} == {
        code.access_code_id}
    # Filtered: action_attempt.* and device.* events happened but were not sent.
    assert all(d["event_type"] in types for d in _deliveries(lockhub))
    # The message id is the event id, so receivers can dedupe retries.
    assert set(receiver.message_ids) == receiver.event_ids()


def test_receiver_outage_loses_nothing_once_the_retries_come(
    lockhub: LockhubServer, receiver: Receiver,
) -> None:
    seam = Seam(api_key=FAKE_KEY, endpoint=lockhub.url)
    receiver.secret = seam.webhooks.create(url=receiver.url,
                                           event_types=["lock.unlocked", "lock.locked"]).secret
    with _sandbox(lockhub) as sandbox:
        sandbox.post("/sandbox/clock/freeze").raise_for_status()
        receiver.mode = "fail"
        for device in ("august_device_1", "august_device_2", "schlage_device_id"):
            seam.locks.unlock_door(device_id=device)
        # Each delivery fails at once and is retried immediately (Svix's schedule), then waits
        # 5 s of sandbox time, which the frozen clock does not reach.
        wait_until(lambda: all(d["attempt_count"] >= 2 and d["next_attempt_at"]
                               for d in _deliveries(lockhub)) and len(_deliveries(lockhub)) == 3,
                   message="failed attempts recorded")
        pending = _deliveries(lockhub)
        assert {d["status"] for d in pending} == {"pending"}
        assert all(a["status_code"] == 503 for d in pending for a in d["attempts"])
        assert receiver.events == []

        receiver.mode = "ok"
        sandbox.post("/sandbox/clock/advance", json={"seconds": 10}).raise_for_status()
    receiver.wait_for(lambda r: len(r.event_ids()) == 3)
    expected = {d["event_id"] for d in pending}
    assert receiver.event_ids() == expected
    wait_until(lambda: {d["status"] for d in _deliveries(lockhub)} == {"delivered"},
               message="deliveries marked delivered")


def test_lockhub_killed_mid_delivery_delivers_after_restart(
    lockhub: LockhubServer, receiver: Receiver,
) -> None:
    seam = Seam(api_key=FAKE_KEY, endpoint=lockhub.url)
    receiver.secret = seam.webhooks.create(url=receiver.url, event_types=["lock.unlocked"]).secret
    receiver.mode = "hang"  # the first delivery is in flight when lockhub dies
    seam.locks.unlock_door(device_id="august_device_1")
    receiver.wait_for(lambda r: r.requests >= 1)
    lockhub.kill()

    receiver.mode = "ok"
    receiver.released.set()
    lockhub.start()
    receiver.wait_for(lambda r: len(r.event_ids()) == 1)
    event = next(iter(receiver.events))
    assert event.event_type == "lock.unlocked"
    wait_until(lambda: _deliveries(lockhub)[0]["status"] == "delivered",
               message="delivery marked delivered")


def test_webhook_crud_and_deleted_webhook_gets_nothing(
    lockhub: LockhubServer, receiver: Receiver,
) -> None:
    seam = Seam(api_key=FAKE_KEY, endpoint=lockhub.url)
    webhook = seam.webhooks.create(url=receiver.url)
    assert webhook.event_types == ["*"]
    assert seam.webhooks.get(webhook_id=webhook.webhook_id).secret == webhook.secret
    assert [w.webhook_id for w in seam.webhooks.list()] == [webhook.webhook_id]
    seam.webhooks.update(webhook_id=webhook.webhook_id, event_types=["lock.locked"])
    assert seam.webhooks.get(webhook_id=webhook.webhook_id).event_types == ["lock.locked"]
    other = Seam(api_key=OTHER_KEY, endpoint=lockhub.url)
    with pytest.raises(SeamHttpApiError) as missing:
        other.webhooks.get(webhook_id=webhook.webhook_id)
    assert missing.value.code == "webhook_not_found"
    assert other.webhooks.list() == []

    seam.webhooks.delete(webhook_id=webhook.webhook_id)
    seam.locks.lock_door(device_id="august_device_1")
    with pytest.raises(SeamHttpApiError):
        seam.webhooks.get(webhook_id=webhook.webhook_id)
    assert _deliveries(lockhub) == []
    assert receiver.requests == 0


def test_denied_target_is_never_called_and_the_delivery_fails(
    tmp_path: Path, receiver: Receiver,
) -> None:
    server = start_server(tmp_path, name="deny", env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0",
                                                      "LOCKHUB_WEBHOOK_DENY": "127.0.0.1"})
    try:
        seam = Seam(api_key=FAKE_KEY, endpoint=server.url)
        # The address itself is refused when the webhook is created ...
        with pytest.raises(SeamHttpInvalidInputError):
            seam.webhooks.create(url=receiver.url)
        # ... and a name that resolves to it when the delivery connects, at once, no retries.
        by_name = receiver.url.replace("127.0.0.1", "localhost")
        receiver.secret = seam.webhooks.create(url=by_name, event_types=["lock.locked"]).secret
        seam.locks.lock_door(device_id="august_device_1")
        failed = wait_until(lambda: [d for d in _deliveries(server) if d["status"] == "failed"],
                            message="refused delivery")
        assert failed[0]["attempt_count"] == 1
        attempt = failed[0]["attempts"][0]
        assert attempt["error"].startswith("target refused")
        assert attempt.get("status_code") is None and attempt["latency_ms"] == 0
        assert receiver.requests == 0
    finally:
        server.stop()


def test_failed_delivery_can_be_replayed(lockhub: LockhubServer, receiver: Receiver) -> None:
    seam = Seam(api_key=FAKE_KEY, endpoint=lockhub.url)
    receiver.secret = seam.webhooks.create(url=receiver.url, event_types=["lock.locked"]).secret
    receiver.mode = "fail"
    with _sandbox(lockhub) as sandbox:
        sandbox.post("/sandbox/clock/freeze").raise_for_status()
        seam.locks.lock_door(device_id="august_device_1")
        wait_until(lambda: _deliveries(lockhub) and _deliveries(lockhub)[0]["attempt_count"] >= 2,
                   message="failed attempts")
        receiver.mode = "ok"
        delivery = _deliveries(lockhub)[0]
        replayed = sandbox.post("/webhooks/deliveries/replay",
                                json={"delivery_id": delivery["delivery_id"]}).json()
        assert replayed["delivery"]["status"] == "pending"
    receiver.wait_for(lambda r: len(r.events) == 1)
    assert receiver.events[0].event_type == "lock.locked"
    wait_until(lambda: _deliveries(lockhub)[0]["status"] == "delivered", message="delivered")
