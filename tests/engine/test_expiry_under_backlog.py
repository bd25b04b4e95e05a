"""Against a real server: with many attempts queued on one slow lock (rate limits off), no
attempt is ever reported pending past LOCKHUB_ACTION_ATTEMPT_TIMEOUT_SECONDS, and the lock is not
operated for the attempts that expired before their command was sent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from seam import Seam

from lockhub.services.action_attempts import EXPIRED_QUEUED
from tests.conformance.helpers import EPOCH, FAKE_KEY, raw
from tests.server import LockhubServer, start_server

TIMEOUT = 2.0
LATENCY_MS = 500  # each lock/unlock takes this long at the virtual lock
QUEUED = 12  # about three times what the lock can carry out within the timeout
DEVICE = "august_device_1"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path, env={"LOCKHUB_ACTION_ATTEMPT_TIMEOUT_SECONDS": str(TIMEOUT),
                                      "LOCKHUB_RATE_LIMITS": "off",
                                      "LOCKHUB_SANDBOX_LATENCY_SCALE": "1"})
    yield srv
    srv.stop()


def test_no_attempt_is_pending_past_the_timeout_and_expired_ones_never_move_the_lock(
    server: LockhubServer,
) -> None:
    seam = Seam(api_key=FAKE_KEY, endpoint=server.url)
    with raw(server, FAKE_KEY) as client:
        response = client.post("/_lockhub/sandbox/devices/set_conditions",
                               json={"device_id": DEVICE, "latency_ms": LATENCY_MS})
    assert response.status_code == 200, response.text

    # The moment each request returned bounds its attempt's creation from above, so the time
    # from it to a later read bounds the attempt's age at that read from below.
    returned_at: dict[str, float] = {}
    for i in range(QUEUED):
        operate = seam.locks.unlock_door if i % 2 == 0 else seam.locks.lock_door
        attempt = operate(device_id=DEVICE, wait_for_action_attempt=False)
        returned_at[attempt.action_attempt_id] = time.monotonic()
    ids = list(returned_at)

    deadline = time.monotonic() + TIMEOUT + 10
    while True:
        asked_at = time.monotonic()
        attempts = seam.action_attempts.list(action_attempt_ids=ids)
        pending = [a.action_attempt_id for a in attempts if a.status == "pending"]
        for attempt_id in pending:
            assert asked_at - returned_at[attempt_id] <= TIMEOUT, (
                f"{attempt_id} still pending {asked_at - returned_at[attempt_id]:.2f}s "
                "after it was created")
        if not pending:
            break
        assert time.monotonic() < deadline, "attempts never settled"
        time.sleep(0.05)

    by_id = {a.action_attempt_id: a for a in attempts}
    never_sent = [i for i, a in by_id.items()
                  if a.status == "error" and a.error.message == EXPIRED_QUEUED]
    assert any(a.status == "success" for a in attempts)
    assert never_sent, "the backlog should have outlived the timeout"
    assert all(a.status == "success" or a.error.type == "action_attempt_expired"
               for a in attempts)
    operated = {e.action_attempt_id for e in seam.events.list(
        device_id=DEVICE, event_types=["lock.locked", "lock.unlocked"], since=EPOCH)}
    assert not operated & set(never_sent)
    assert all(i in operated for i, a in by_id.items() if a.status == "success")
