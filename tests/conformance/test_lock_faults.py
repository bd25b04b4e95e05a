"""Lock and unlock when the virtual lock is told to fail: an injected failure fails that action
attempt with the injected type and message, the bolt stays where it was, and only what a real
provider would send again (a transient communication timeout, once) is retried, which the
settled attempt then says.

Faults come from the lockhub-only sandbox controls (`/_lockhub/sandbox/devices/*`); everything
else goes through the official SDK. Each test uses its own devices of this module's server.
"""

from __future__ import annotations

from typing import Any

import pytest
from seam import Seam, SeamActionAttemptFailedError

from tests.conformance.helpers import EPOCH, SANDBOX_KEY, raw, sandbox, seed_ids
from tests.server import LockhubServer

# Generous: a retried timeout waits out one backoff (at most 1 s) before its second try.
WAIT = {"timeout": 20}


@pytest.fixture(scope="module")
def ids(own_server: LockhubServer) -> dict[str, str]:
    return seed_ids(own_server)


@pytest.fixture
def seam(own_server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def inject(server: LockhubServer, device_id: str, error_type: str, count: int = 1,
           operations: list[str] | None = None, message: str | None = None) -> None:
    body: dict[str, Any] = {"device_id": device_id, "error_type": error_type, "count": count}
    if operations is not None:
        body["operations"] = operations
    if message is not None:
        body["message"] = message
    sandbox(server, "devices/inject_failure", **body)


def failed_unlock(seam: Seam, device_id: str) -> Any:
    with pytest.raises(SeamActionAttemptFailedError) as failed:
        seam.locks.unlock_door(device_id=device_id, wait_for_action_attempt=WAIT)
    return failed.value.action_attempt


def event_types(seam: Seam, device_id: str, attempt_id: str) -> set[str]:
    return {e.event_type for e in seam.events.list(since=EPOCH, device_id=device_id)
            if getattr(e, "action_attempt_id", None) == attempt_id}


def served_attempt(server: LockhubServer, attempt_id: str) -> dict[str, Any]:
    """The attempt's JSON as served (the SDK's typed result has no room for `tries`)."""
    with raw(server) as client:
        response = client.get("/action_attempts/get", params={"action_attempt_id": attempt_id})
    assert response.status_code == 200, response.text
    return response.json()["action_attempt"]


# (device, injected type, count): a retried type needs a failure for each of its tries.
NOT_RETRIED = [
    ("august_device_1", "device_offline"),
    ("august_device_2", "lock_operation_failed"),
    ("yale_device_1", "hub_disconnected"),
    ("yale_device_2", "lock_jammed"),
]


@pytest.mark.parametrize(("device", "error_type"), NOT_RETRIED)
def test_an_injected_unlock_failure_fails_the_attempt_with_its_type_and_the_lock_stays_locked(
        seam: Seam, own_server: LockhubServer, ids: dict[str, str], device: str,
        error_type: str) -> None:
    device_id = ids[device]
    assert seam.devices.get(device_id=device_id).properties.locked is True
    inject(own_server, device_id, error_type, message=f"Injected {error_type}.")

    attempt = failed_unlock(seam, device_id)
    assert attempt.status == "error"
    assert attempt.action_type == "UNLOCK_DOOR"
    assert attempt.error.type == error_type
    assert attempt.error.message == f"Injected {error_type}."  # one try: nothing added
    assert seam.devices.get(device_id=device_id).properties.locked is True
    assert event_types(seam, device_id, attempt.action_attempt_id) == {
        "action_attempt.unlock_door.failed"}, "no lock.unlocked for an unlock that failed"
    assert "tries" not in (served_attempt(own_server, attempt.action_attempt_id)["result"] or {})

    # The one injected failure is used up: the next unlock does what it says.
    assert seam.locks.unlock_door(device_id=device_id,
                                  wait_for_action_attempt=WAIT).status == "success"
    assert seam.devices.get(device_id=device_id).properties.locked is False


def test_an_injected_lock_failure_fails_the_lock_and_leaves_unlock_alone(
        seam: Seam, own_server: LockhubServer, ids: dict[str, str]) -> None:
    device_id = ids["schlage_device_1"]
    assert seam.devices.get(device_id=device_id).properties.locked is False
    inject(own_server, device_id, "lock_operation_failed", operations=["lock"])

    with pytest.raises(SeamActionAttemptFailedError) as failed:
        seam.locks.lock_door(device_id=device_id, wait_for_action_attempt=WAIT)
    attempt = failed.value.action_attempt
    assert (attempt.action_type, attempt.error.type) == ("LOCK_DOOR", "lock_operation_failed")
    assert attempt.error.message == "Injected failure (sandbox)."
    assert seam.devices.get(device_id=device_id).properties.locked is False
    assert event_types(seam, device_id, attempt.action_attempt_id) == {
        "action_attempt.lock_door.failed"}

    assert seam.locks.lock_door(device_id=device_id,
                                wait_for_action_attempt=WAIT).status == "success"
    assert seam.devices.get(device_id=device_id).properties.locked is True


def test_count_fails_that_many_unlocks_then_they_succeed(
        seam: Seam, own_server: LockhubServer, ids: dict[str, str]) -> None:
    device_id = ids["kwikset_device_1"]
    inject(own_server, device_id, "device_offline", count=2, operations=["unlock"])

    for _ in range(2):
        assert failed_unlock(seam, device_id).error.type == "device_offline"
        assert seam.devices.get(device_id=device_id).properties.locked is True
    assert seam.locks.unlock_door(device_id=device_id,
                                  wait_for_action_attempt=WAIT).status == "success"
    assert seam.devices.get(device_id=device_id).properties.locked is False


def test_clearing_faults_makes_the_next_unlock_succeed(
        seam: Seam, own_server: LockhubServer, ids: dict[str, str]) -> None:
    device_id = ids["kwikset_device_2"]
    inject(own_server, device_id, "lock_operation_failed", count=10)
    assert failed_unlock(seam, device_id).error.type == "lock_operation_failed"

    sandbox(own_server, "devices/clear_faults", device_id=device_id)
    unlocked = seam.locks.unlock_door(device_id=device_id, wait_for_action_attempt=WAIT)
    assert unlocked.status == "success"
    assert unlocked.result.was_confirmed_by_device is True
    assert seam.devices.get(device_id=device_id).properties.locked is False
    assert event_types(seam, device_id, unlocked.action_attempt_id) == {
        "action_attempt.unlock_door.succeeded", "lock.unlocked"}


def test_a_communication_timeout_failing_every_try_fails_the_attempt_after_two_tries(
        seam: Seam, own_server: LockhubServer, ids: dict[str, str]) -> None:
    device_id = ids["ttlock_device_1"]
    inject(own_server, device_id, "device_communication_timeout", count=2,
           message="The lock did not answer.")

    attempt = failed_unlock(seam, device_id)
    assert attempt.error.type == "device_communication_timeout"
    assert attempt.error.message == "The lock did not answer. (after 2 tries)"
    assert seam.devices.get(device_id=device_id).properties.locked is True
    assert event_types(seam, device_id, attempt.action_attempt_id) == {
        "action_attempt.unlock_door.failed"}
    # Both injected failures went to that one attempt: the next unlock works at once.
    unlocked = seam.locks.unlock_door(device_id=device_id, wait_for_action_attempt=WAIT)
    assert unlocked.status == "success"
    assert "tries" not in served_attempt(own_server, unlocked.action_attempt_id)["result"]


def test_a_communication_timeout_is_tried_again_once_and_the_attempt_counts_the_tries(
        seam: Seam, own_server: LockhubServer, ids: dict[str, str]) -> None:
    device_id = ids["igloohome_device_1"]
    inject(own_server, device_id, "device_communication_timeout", count=1)

    unlocked = seam.locks.unlock_door(device_id=device_id, wait_for_action_attempt=WAIT)
    assert unlocked.status == "success"
    assert seam.devices.get(device_id=device_id).properties.locked is False
    assert served_attempt(own_server, unlocked.action_attempt_id)["result"] == {
        "was_confirmed_by_device": True, "tries": 2}
    assert event_types(seam, device_id, unlocked.action_attempt_id) == {
        "action_attempt.unlock_door.succeeded", "lock.unlocked"}
