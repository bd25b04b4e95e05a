"""/locks/lock_door, /locks/unlock_door and /action_attempts/* through the official SDK.

The session server rate-limits lock and unlock per device, so each test acts on its own device
and no device gets more than a handful of actions in the whole session:
kwikset_device_1 (wait), kwikset_device_2 (no wait), nuki_device_2 (sync),
smartthings_device_1 (attempt listing), smartthings_device_2
(workspace isolation), august_device_3 (offline), yale_device_3 (hub down),
the Wyze Lock Bolt and the TTLock with remote unlock disabled (rejected before any attempt).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from seam import (
    Seam,
    SeamActionAttemptFailedError,
    SeamHttpApiError,
)

from tests.conformance.helpers import EPOCH, SANDBOX_KEY, raw, seed_ids, wait_until
from tests.server import LockhubServer, start_server


@pytest.fixture(scope="module")
def ids(server: LockhubServer) -> dict[str, str]:
    return seed_ids(server)


def _events(seam: Seam, device_id: str, attempt_id: str) -> dict[str, object]:
    """The events of one action attempt, by type."""
    return {e.event_type: e for e in seam.events.list(since=EPOCH, device_id=device_id)
            if getattr(e, "action_attempt_id", None) == attempt_id}


def test_unlock_and_lock_wait_for_success_and_move_the_bolt(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["kwikset_device_1"]
    assert seam.devices.get(device_id=device_id).properties.locked is True

    unlocked = seam.locks.unlock_door(device_id=device_id)
    assert unlocked.status == "success"
    assert unlocked.action_type == "UNLOCK_DOOR"
    assert unlocked.error is None
    assert seam.devices.get(device_id=device_id).properties.locked is False
    events = _events(seam, device_id, unlocked.action_attempt_id)
    assert events["lock.unlocked"].method == "remote"
    assert events["lock.unlocked"].device_id == device_id
    assert "action_attempt.unlock_door.succeeded" in events

    locked = seam.locks.lock_door(device_id=device_id)
    assert locked.status == "success"
    assert locked.action_type == "LOCK_DOOR"
    assert seam.devices.get(device_id=device_id).properties.locked is True
    events = _events(seam, device_id, locked.action_attempt_id)
    assert events["lock.locked"].method == "remote"
    assert "action_attempt.lock_door.succeeded" in events


def test_unlock_without_waiting_returns_pending_then_resolves(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["kwikset_device_2"]
    attempt = seam.locks.unlock_door(device_id=device_id, wait_for_action_attempt=False)
    assert attempt.status == "pending"
    assert attempt.result is None and attempt.error is None

    def settled() -> object:
        current = seam.action_attempts.get(action_attempt_id=attempt.action_attempt_id,
                                           wait_for_action_attempt=False)
        return current if current.status != "pending" else None

    final = wait_until(settled, message="the unlock to settle")
    assert final.status == "success"
    assert final.action_attempt_id == attempt.action_attempt_id
    assert final.result.was_confirmed_by_device is True
    assert seam.devices.get(device_id=device_id).properties.locked is False
    seam.locks.lock_door(device_id=device_id)


def test_sync_answers_with_the_settled_attempt(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    # The SDK does not expose `sync`; it is an undocumented body parameter of the spec.
    device_id = ids["nuki_device_2"]
    with raw(server) as http:
        response = http.post("/locks/unlock_door", json={"device_id": device_id, "sync": True})
        assert response.status_code == 200
        attempt = response.json()["action_attempt"]
        assert attempt["status"] == "success"
        assert attempt["action_type"] == "UNLOCK_DOOR"
        assert seam.devices.get(device_id=device_id).properties.locked is False

        response = http.post("/locks/lock_door", json={"device_id": device_id, "sync": True})
        assert response.json()["action_attempt"]["status"] == "success"
        assert seam.devices.get(device_id=device_id).properties.locked is True


def test_action_attempts_are_listed_by_device_and_by_ids_with_pagination(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["smartthings_device_1"]
    made = [
        seam.locks.unlock_door(device_id=device_id),
        seam.locks.lock_door(device_id=device_id),
        seam.locks.unlock_door(device_id=device_id),
    ]
    made_ids = [a.action_attempt_id for a in made]
    listed = seam.action_attempts.list(device_id=device_id)
    assert [a.action_attempt_id for a in listed] == made_ids
    assert [a.action_type for a in listed] == ["UNLOCK_DOOR", "LOCK_DOOR", "UNLOCK_DOOR"]
    assert {a.status for a in listed} == {"success"}

    first = seam.action_attempts.list(device_id=device_id, limit=2)
    assert [a.action_attempt_id for a in first] == made_ids[:2]
    assert first.pagination["has_next_page"] is True
    paginator = seam.create_paginator(seam.action_attempts.list,
                                      {"device_id": device_id, "limit": 2})
    assert [a.action_attempt_id for a in paginator.flatten()] == made_ids

    by_ids = seam.action_attempts.list(action_attempt_ids=[made_ids[0], made_ids[2]])
    assert [a.action_attempt_id for a in by_ids] == [made_ids[0], made_ids[2]]
    seam.locks.lock_door(device_id=device_id)


def test_other_workspace_cannot_see_action_attempts(
    seam: Seam, other_seam: Seam, ids: dict[str, str]
) -> None:
    attempt = seam.locks.unlock_door(device_id=ids["smartthings_device_2"])
    with pytest.raises(SeamHttpApiError) as exc:
        other_seam.action_attempts.get(action_attempt_id=attempt.action_attempt_id)
    assert exc.value.code == "action_attempt_not_found"
    assert exc.value.status_code == 404
    assert other_seam.action_attempts.list(action_attempt_ids=[attempt.action_attempt_id]) == []
    assert other_seam.action_attempts.list() == []
    seam.locks.lock_door(device_id=ids["smartthings_device_2"])


def test_unlocking_an_offline_lock_fails_with_device_offline(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["august_device_3"]
    before = seam.devices.get(device_id=device_id)
    assert before.properties.online is False
    with pytest.raises(SeamActionAttemptFailedError) as exc:
        seam.locks.unlock_door(device_id=device_id)
    assert exc.value.code == "device_offline"
    attempt = exc.value.action_attempt
    assert attempt.status == "error"
    stored = seam.action_attempts.get(action_attempt_id=attempt.action_attempt_id,
                                      wait_for_action_attempt=False)
    assert stored.status == "error"
    assert stored.error.type == "device_offline"
    assert stored.result is None
    assert seam.devices.get(device_id=device_id).properties.locked is before.properties.locked
    events = _events(seam, device_id, attempt.action_attempt_id)
    assert "lock.unlocked" not in events
    assert "action_attempt.unlock_door.failed" in events


def test_unlocking_behind_a_disconnected_hub_fails_with_hub_disconnected(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["yale_device_3"]
    before = seam.devices.get(device_id=device_id)
    with pytest.raises(SeamActionAttemptFailedError) as exc:
        seam.locks.unlock_door(device_id=device_id)
    assert exc.value.code == "hub_disconnected"
    assert seam.devices.get(device_id=device_id).properties.locked is before.properties.locked


def test_wyze_lock_bolt_rejects_remote_lock_and_unlock(seam: Seam) -> None:
    bolt = next(d for d in seam.devices.list(manufacturer="wyze")
                if d.properties.model.display_name == "Wyze Lock Bolt")
    for action in (seam.locks.unlock_door, seam.locks.lock_door):
        with pytest.raises(SeamHttpApiError) as exc:
            action(device_id=bolt.device_id)
        assert exc.value.status_code == 400
        assert exc.value.code == "device_cannot_perform_action"
    assert seam.action_attempts.list(device_id=bolt.device_id) == []


def test_ttlock_with_remote_unlock_disabled_rejects_unlock(seam: Seam) -> None:
    device = next(d for d in seam.devices.list(manufacturer="ttlock")
                  if d.can_remotely_unlock is False)
    with pytest.raises(SeamHttpApiError) as exc:
        seam.locks.unlock_door(device_id=device.device_id)
    assert exc.value.status_code == 400
    assert exc.value.code == "device_cannot_perform_action"
    assert seam.devices.get(device_id=device.device_id).properties.locked is True


def test_the_sixteenth_unlock_of_a_device_within_a_minute_gets_429(tmp_path: Path) -> None:
    # A server of its own: exhausting the limit must not starve the session server's devices.
    own = start_server(tmp_path, name="ratelimit")
    try:
        client = Seam(api_key=SANDBOX_KEY, endpoint=own.url,
                      wait_for_action_attempt=False)
        seeded = seed_ids(own)
        device_id = seeded["yale_device_1"]
        for _ in range(15):
            client.locks.unlock_door(device_id=device_id)
        with pytest.raises(SeamHttpApiError) as exc:
            client.locks.unlock_door(device_id=device_id)
        assert exc.value.status_code == 429
        assert exc.value.code == "rate_limit_exceeded"
        with raw(own) as http:
            response = http.post("/locks/unlock_door", json={"device_id": device_id})
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        # The limit is per device: another lock of the workspace still answers.
        other = client.locks.unlock_door(device_id=seeded["yale_device_2"])
        assert other.status == "pending"
    finally:
        own.stop()
