"""/locks/configure_auto_lock through the official SDK: the setting reaches the lock and the
device reports it; a lock without auto-lock is refused. On a server of its own, with its sandbox
clock frozen, so the relock after the delay happens when the test moves the clock."""

from __future__ import annotations

import pytest
from seam import Seam, SeamHttpApiError, SeamHttpInvalidInputError

from tests.conformance.helpers import SANDBOX_KEY, sandbox, seed_ids
from tests.server import LockhubServer

AUTO_LOCKING = "schlage_device_1"  # Schlage Encode: has auto-lock
WITHOUT = "august_device_1"  # August lock: has none


@pytest.fixture(scope="module")
def ids(own_server: LockhubServer) -> dict[str, str]:
    sandbox(own_server, "clock/freeze")
    return seed_ids(own_server)


@pytest.fixture
def seam(own_server: LockhubServer, ids: dict[str, str]) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def test_configuring_auto_lock_reaches_the_lock_and_the_device_reports_it(
    seam: Seam, ids: dict[str, str],
) -> None:
    device_id = ids[AUTO_LOCKING]
    before = seam.devices.get(device_id=device_id)
    assert before.can_configure_auto_lock is True
    assert before.properties.auto_lock_enabled is False

    attempt = seam.locks.configure_auto_lock(device_id=device_id, auto_lock_enabled=True,
                                             auto_lock_delay_seconds=45)
    assert (attempt.action_type, attempt.status) == ("CONFIGURE_AUTO_LOCK", "success")
    on = seam.devices.get(device_id=device_id).properties
    assert (on.auto_lock_enabled, on.auto_lock_delay_seconds) == (True, 45)

    seam.locks.configure_auto_lock(device_id=device_id, auto_lock_enabled=False)
    off = seam.devices.get(device_id=device_id).properties
    assert (off.auto_lock_enabled, off.auto_lock_delay_seconds) == (False, 45)


def test_a_lock_without_auto_lock_is_refused(seam: Seam, ids: dict[str, str]) -> None:
    device = seam.devices.get(device_id=ids[WITHOUT])
    assert device.can_configure_auto_lock is False
    with pytest.raises(SeamHttpApiError) as refused:
        seam.locks.configure_auto_lock(device_id=ids[WITHOUT], auto_lock_enabled=True)
    assert (refused.value.status_code, refused.value.code) == (
        400, "device_cannot_perform_action")


@pytest.mark.parametrize("delay", [0, -5, 86_401])
def test_a_delay_out_of_range_is_invalid_input(seam: Seam, ids: dict[str, str],
                                               delay: float) -> None:
    with pytest.raises(SeamHttpInvalidInputError):
        seam.locks.configure_auto_lock(device_id=ids[AUTO_LOCKING], auto_lock_enabled=True,
                                       auto_lock_delay_seconds=delay)


def _engine_done_with(seam: Seam, device_id: str) -> None:
    """Wait until the engine has run every job of the lock due so far: a wrong PIN typed at the
    keypad is a job on the same lock, claimed after the ones due before it."""
    denied = seam.locks.simulate.keypad_code_entry(device_id=device_id, code="000000")
    assert denied.status == "success"


def _automatic_locks(seam: Seam, device_id: str) -> int:
    return sum(1 for e in seam.events.list(device_id=device_id, event_type="lock.locked",
                                           since="2000-01-01T00:00:00Z")
               if e.method == "automatic")


def test_the_lock_relocks_by_itself_its_delay_after_an_unlock(
    own_server: LockhubServer, seam: Seam, ids: dict[str, str],
) -> None:
    device_id = ids[AUTO_LOCKING]
    seam.locks.configure_auto_lock(device_id=device_id, auto_lock_enabled=True,
                                   auto_lock_delay_seconds=45)
    before = _automatic_locks(seam, device_id)
    assert seam.locks.unlock_door(device_id=device_id).status == "success"
    assert seam.devices.get(device_id=device_id).properties.locked is False

    sandbox(own_server, "clock/advance", seconds=44)
    _engine_done_with(seam, device_id)
    assert seam.devices.get(device_id=device_id).properties.locked is False, "not yet"

    sandbox(own_server, "clock/advance", seconds=2)
    _engine_done_with(seam, device_id)
    assert seam.devices.get(device_id=device_id).properties.locked is True
    assert _automatic_locks(seam, device_id) == before + 1


def test_switched_off_the_lock_stays_unlocked(
    own_server: LockhubServer, seam: Seam, ids: dict[str, str],
) -> None:
    device_id = ids[AUTO_LOCKING]
    seam.locks.configure_auto_lock(device_id=device_id, auto_lock_enabled=True,
                                   auto_lock_delay_seconds=30)
    assert seam.locks.unlock_door(device_id=device_id).status == "success"
    seam.locks.configure_auto_lock(device_id=device_id, auto_lock_enabled=False)
    before = _automatic_locks(seam, device_id)
    sandbox(own_server, "clock/advance", seconds=60)
    _engine_done_with(seam, device_id)
    assert seam.devices.get(device_id=device_id).properties.locked is False
    assert _automatic_locks(seam, device_id) == before
