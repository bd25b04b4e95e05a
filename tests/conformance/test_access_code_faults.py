"""Access codes when the lock misbehaves: transient failures are shown and retried until they
clear, an offline lock holds the code back until it returns, permanent failures are not retried,
and a crash of lockhub in the middle of programming loses nothing.

Faults come from the lockhub-only sandbox controls (`/_lockhub/sandbox/devices/*`); everything
else goes through the official SDK. Each test uses its own devices of this module's server.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from seam import Seam, SeamHttpApiError

from tests.conformance.helpers import EPOCH, SANDBOX_KEY, raw, sandbox, seed_ids, wait_until
from tests.server import LockhubServer, start_server

# Retries back off (0.5 s + up to 2^n s of jitter); two failures take at most a few seconds.
RECOVERY_TIMEOUT = 20.0


@pytest.fixture(scope="module")
def ids(own_server: LockhubServer) -> dict[str, str]:
    return seed_ids(own_server)


@pytest.fixture
def seam(own_server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def lock_pins(server: LockhubServer, device_id: str) -> list[str]:
    with raw(server) as client:
        response = client.get("/_lockhub/sandbox/devices/list_codes_on_lock",
                              params={"device_id": device_id})
    assert response.status_code == 200, response.text
    return [c["code"] for c in response.json()["codes_on_lock"]]


def error_codes(code: Any) -> set[str]:
    return {e.error_code for e in code.errors}


def warning_codes(code: Any) -> set[str]:
    return {w.warning_code for w in code.warnings}


def wait_code(seam: Seam, access_code_id: str, predicate: Any, message: str,
              timeout: float = RECOVERY_TIMEOUT) -> Any:
    def check() -> Any:
        code = seam.access_codes.get(access_code_id=access_code_id)
        return code if predicate(code) else None

    return wait_until(check, timeout=timeout, message=message)


def healthy_and_set(code: Any) -> bool:
    return code.status == "set" and not code.errors and not code.warnings \
        and not code.pending_mutations


def is_gone(seam: Seam, access_code_id: str) -> bool:
    try:
        seam.access_codes.get(access_code_id=access_code_id)
    except SeamHttpApiError as exc:
        assert exc.code == "access_code_not_found", exc
        return True
    return False


def events_of(seam: Seam, access_code_id: str, event_type: str) -> list[Any]:
    return seam.events.list(access_code_id=access_code_id, since=EPOCH,
                            event_types=[event_type])


# --- transient failures ------------------------------------------------------------------------


def test_failed_programming_shows_errors_and_a_delay_warning_then_recovers_to_set(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["august_device_1"]
    sandbox(own_server, "devices/inject_failure", device_id=device_id,
            error_type="device_offline", count=2, operations=["set_code"])
    created = seam.access_codes.create(device_id=device_id, code="6060")

    failing = wait_code(seam, created.access_code_id, lambda c: c.errors,
                        "the failure to show on the code")
    assert failing.status == "setting"
    assert error_codes(failing) == {"failed_to_set_on_device", "device_offline"}
    by_code = {e.error_code: e for e in failing.errors}
    assert by_code["failed_to_set_on_device"].is_access_code_error is True
    assert by_code["device_offline"].is_device_error is True
    assert warning_codes(failing) == {"delay_in_setting_on_device"}
    assert "6060" not in lock_pins(own_server, device_id)
    [failed_event] = events_of(seam, created.access_code_id,
                               "access_code.failed_to_set_on_device")
    assert "failed_to_set_on_device" in {e.error_code for e in failed_event.access_code_errors}

    recovered = wait_code(seam, created.access_code_id, healthy_and_set,
                          "the code to recover once the lock answers")
    assert recovered.errors == [] and recovered.warnings == []
    assert "6060" in lock_pins(own_server, device_id)
    assert len(events_of(seam, created.access_code_id, "access_code.set_on_device")) == 1
    assert len(events_of(seam, created.access_code_id,
                         "access_code.failed_to_set_on_device")) == 1


def test_an_offline_lock_keeps_the_code_setting_with_errors_until_it_is_back_online(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["yale_device_1"]
    sandbox(own_server, "devices/set_conditions", device_id=device_id, online=False)
    try:
        created = seam.access_codes.create(device_id=device_id, code="7070")
        waiting = wait_code(seam, created.access_code_id,
                            lambda c: "device_offline" in error_codes(c),
                            "the offline lock to show on the code")
        assert waiting.status == "setting"
        assert "failed_to_set_on_device" in error_codes(waiting)
        assert "delay_in_setting_on_device" in warning_codes(waiting)
        assert "7070" not in lock_pins(own_server, device_id)
    finally:
        sandbox(own_server, "devices/set_conditions", device_id=device_id, online=True)
    wait_code(seam, created.access_code_id, healthy_and_set,
              "the code to be set once the lock is back")
    assert lock_pins(own_server, device_id) == ["7070"]


def test_a_lock_behind_a_disconnected_hub_gets_its_code_once_the_hub_returns(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["yale_device_3"]  # seeded with its hub down
    created = seam.access_codes.create(device_id=device_id, code="808080")
    waiting = wait_code(seam, created.access_code_id,
                        lambda c: "hub_disconnected" in error_codes(c),
                        "the hub outage to show on the code")
    assert waiting.status == "setting"
    sandbox(own_server, "devices/set_conditions", device_id=device_id, hub_connected=True,
            online=True)
    wait_code(seam, created.access_code_id, healthy_and_set, "the code to be set")
    assert "808080" in lock_pins(own_server, device_id)


def test_failed_removal_keeps_the_code_removing_with_errors_then_finishes_the_deletion(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["august_device_2"]
    created = seam.access_codes.create(device_id=device_id, code="9090")
    wait_code(seam, created.access_code_id, healthy_and_set, "the code to be set")
    sandbox(own_server, "devices/inject_failure", device_id=device_id,
            error_type="device_offline", count=2, operations=["remove_code"])
    seam.access_codes.delete(access_code_id=created.access_code_id)

    removing = wait_code(seam, created.access_code_id, lambda c: c.errors,
                         "the removal failure to show on the code")
    assert removing.status == "removing"
    assert [m.mutation_code for m in removing.pending_mutations] == ["deleting"]
    assert "failed_to_remove_from_device" in error_codes(removing)
    assert {"being_deleted", "delay_in_removing_from_device"} <= warning_codes(removing)
    assert "9090" in lock_pins(own_server, device_id), "still on the lock while failing"
    assert events_of(seam, created.access_code_id, "access_code.failed_to_remove_from_device")

    wait_until(lambda: is_gone(seam, created.access_code_id), timeout=RECOVERY_TIMEOUT,
               message="the deletion to finish")
    assert "9090" not in lock_pins(own_server, device_id)
    assert events_of(seam, created.access_code_id, "access_code.deleted")


# --- permanent failures ------------------------------------------------------------------------


@pytest.mark.parametrize(("device", "error_type"), [
    ("schlage_device_1", "duplicate_code_on_device"),
    ("schlage_device_2", "no_space_for_access_code_on_device"),
    ("ttlock_device_3", "code_constraints_violated"),
])
def test_a_permanent_failure_is_not_retried_until_the_code_changes(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str], device: str, error_type: str
) -> None:
    device_id = ids[device]
    # One failure only: any retry would succeed, so a code that stays unset was not retried.
    sandbox(own_server, "devices/inject_failure", device_id=device_id, error_type=error_type,
            count=1, operations=["set_code"])
    created = seam.access_codes.create(device_id=device_id, code="4040")
    failed = wait_code(seam, created.access_code_id, lambda c: c.errors,
                       "the permanent failure to show on the code")
    assert error_codes(failed) == {"failed_to_set_on_device", error_type}
    assert "delay_in_setting_on_device" not in warning_codes(failed), \
        "no 'still trying' warning for a failure retrying cannot fix"

    # Longer than the first retry would take (0.5 s + at most 1 s of backoff).
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        code = seam.access_codes.get(access_code_id=created.access_code_id)
        assert code.status != "set" and error_type in error_codes(code)
        time.sleep(0.1)
    assert "4040" not in lock_pins(own_server, device_id)

    # Changing the code is what lets lockhub try again.
    seam.access_codes.update(access_code_id=created.access_code_id, code="4141")
    wait_code(seam, created.access_code_id, healthy_and_set, "the changed code to be set")
    assert "4141" in lock_pins(own_server, device_id)


def test_a_pin_freed_by_a_deleted_code_is_set_for_its_new_code_once_the_old_one_is_removed(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["igloohome_device_1"]
    old = seam.access_codes.create(device_id=device_id, code="1590")
    wait_code(seam, old.access_code_id, healthy_and_set, "the old code to be set")
    # The old code's removal fails for a while, so the lock still holds its PIN when the PIN
    # is given to a new code (the API allows it: the old code is being deleted).
    sandbox(own_server, "devices/inject_failure", device_id=device_id,
            error_type="device_offline", count=2, operations=["remove_code"])
    seam.access_codes.delete(access_code_id=old.access_code_id)
    new = seam.access_codes.create(device_id=device_id, code="1590", name="Next guest")

    wait_until(lambda: is_gone(seam, old.access_code_id), timeout=RECOVERY_TIMEOUT,
               message="the old code to be removed")
    wait_code(seam, new.access_code_id, healthy_and_set,
              "the new code to be set once the old PIN left the lock")
    assert lock_pins(own_server, device_id) == ["1590"]


# --- races with a slow lock -------------------------------------------------------------------


def test_a_code_deleted_while_its_pin_is_being_written_does_not_stay_on_the_lock(
    tmp_path: Path,
) -> None:
    # Real latency (about 1.5 s per lock operation) so the delete arrives mid-write.
    server = start_server(tmp_path, name="slow", env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "1"})
    try:
        seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
        device_id = seed_ids(server)["kwikset_device_2"]
        sandbox(server, "devices/set_conditions", device_id=device_id, latency_ms=1500)
        created = seam.access_codes.create(device_id=device_id, code="2580")
        seam.access_codes.delete(access_code_id=created.access_code_id)
        wait_until(lambda: is_gone(seam, created.access_code_id), timeout=RECOVERY_TIMEOUT,
                   message="the deleted code to be gone")
        # Barrier: the engine runs one operation per device at a time, oldest first; once a
        # keypad action queued now has run, the write that was in flight has finished.
        assert seam.locks.simulate.manual_lock_via_keypad(device_id=device_id).status == \
            "success"
        assert "2580" not in lock_pins(server, device_id), "a deleted PIN still opens the door"
        assert events_of(seam, created.access_code_id, "access_code.deleted")
    finally:
        server.stop()


# --- crash recovery ----------------------------------------------------------------------------


def test_sigkill_while_codes_are_being_programmed_loses_nothing(tmp_path: Path) -> None:
    # Slow virtual locks keep the codes in flight when the process is killed; a short lease lets
    # the restarted process take the orphaned work over at once.
    server = start_server(tmp_path, name="crash", env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "20",
                                                       "LOCKHUB_LEASE_SECONDS": "1"})
    try:
        seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
        ids = seed_ids(server)
        wanted = {("august_device_1", "1122"), ("august_device_1", "3344"),
                  ("schlage_device_1", "5566"), ("ttlock_device_1", "7788"),
                  ("nuki_device_1", "345345"), ("smartthings_device_1", "9911"),
                  ("yale_device_1", "2233")}
        created = {}
        for device, pin in sorted(wanted):
            code = seam.access_codes.create(device_id=ids[device], code=pin)
            assert code.status == "setting"
            created[code.access_code_id] = (ids[device], pin)
        server.kill()

        server.env["LOCKHUB_SANDBOX_LATENCY_SCALE"] = "0"
        server.start()

        def all_set() -> bool:
            codes = {c.access_code_id: c for device_id in {d for d, _ in created.values()}
                     for c in seam.access_codes.list(device_id=device_id)}
            assert set(created) <= set(codes), "a code was lost in the crash"
            return all(healthy_and_set(codes[i]) for i in created)

        wait_until(all_set, timeout=30, interval=0.2, message="every code to be set after restart")
        for access_code_id, (device_id, pin) in created.items():
            assert seam.access_codes.get(access_code_id=access_code_id).code == pin
            assert lock_pins(server, device_id).count(pin) == 1, (device_id, pin)
        for device_id in {d for d, _ in created.values()}:
            expected = sorted(p for d, p in created.values() if d == device_id)
            assert sorted(lock_pins(server, device_id)) == expected
            assert seam.access_codes.unmanaged.list(device_id=device_id) == []
    finally:
        server.stop()
