"""Many codes of one lock falling due at the same instant: each is set on the lock in its own
slot with its own events, exactly as if it had been the only one; a lock failure for one of
them holds back only that one, which retries and recovers.

The codes' windows open at one sandbox-clock instant (a just-in-time lock, so every PIN is
written when the window opens).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from seam import Seam

from tests.conformance.helpers import EPOCH, SANDBOX_KEY, raw, sandbox, seed_ids, wait_until
from tests.server import LockhubServer, start_server

CODES = 24
SETTLE_TIMEOUT = 20.0


@pytest.fixture(scope="module")
def lockhub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    srv = start_server(Path(tmp_path_factory.mktemp("due-together")),
                       env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0", "LOCKHUB_RATE_LIMITS": "off"})
    yield srv
    srv.stop()


def slots(server: LockhubServer, device_id: str) -> dict[int, str]:
    """The lock's PINs by slot, read from the virtual lock itself."""
    with raw(server) as client:
        response = client.get("/_lockhub/sandbox/devices/list_codes_on_lock",
                              params={"device_id": device_id})
    assert response.status_code == 200, response.text
    return {c["slot"]: c["code"] for c in response.json()["codes_on_lock"]}


def events_of(seam: Seam, access_code_id: str, event_type: str) -> list[Any]:
    return seam.events.list(access_code_id=access_code_id, since=EPOCH,
                            event_types=[event_type])


def set_together(server: LockhubServer, *, failures: int = 0) -> tuple[Seam, str, list[Any]]:
    """CODES codes whose windows open together on one lock (its next `set_code`s failing
    `failures` times), the clock moved to that instant, and the codes once all are `set`."""
    seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
    device_id = seed_ids(server)["smartthings_device_1"]
    seam.workspaces.reset_sandbox()
    now = datetime.fromisoformat(sandbox(server, "clock/freeze")["clock"]["now"])
    starts = now + timedelta(days=10)
    created = [seam.access_codes.create(device_id=device_id, name=f"guest {n}",
                                        code=f"{4000 + n}", starts_at=starts.isoformat(),
                                        ends_at=(starts + timedelta(days=2)).isoformat())
               for n in range(CODES)]
    wait_until(lambda: all(seam.access_codes.get(access_code_id=c.access_code_id).status
                           == "unset" for c in created),
               message="the codes to wait for their window")
    assert slots(server, device_id) == {}
    if failures:
        sandbox(server, "devices/inject_failure", device_id=device_id,
                error_type="device_offline", count=failures, operations=["set_code"])

    sandbox(server, "clock/set", now=created[0].starts_at, frozen=True)

    def all_set() -> list[Any] | None:
        codes = [seam.access_codes.get(access_code_id=c.access_code_id) for c in created]
        return codes if all(c.status == "set" and not c.errors and not c.warnings
                            for c in codes) else None

    return seam, device_id, wait_until(all_set, timeout=SETTLE_TIMEOUT,
                                       message="every code to be set")


def test_codes_due_together_are_each_set_in_their_own_slot_with_their_own_event(
    lockhub: LockhubServer
) -> None:
    seam, device_id, codes = set_together(lockhub)

    on_lock = slots(lockhub, device_id)
    assert sorted(on_lock.values()) == sorted(c.code for c in codes)
    assert len(on_lock) == CODES
    for code in codes:
        assert code.pending_mutations == []
        assert len(events_of(seam, code.access_code_id, "access_code.set_on_device")) == 1
        assert events_of(seam, code.access_code_id, "access_code.failed_to_set_on_device") == []


def test_a_failure_for_one_code_due_with_others_holds_back_only_that_code(
    lockhub: LockhubServer
) -> None:
    seam, device_id, codes = set_together(lockhub, failures=1)

    failed = [c for c in codes
              if events_of(seam, c.access_code_id, "access_code.failed_to_set_on_device")]
    assert len(failed) == 1
    assert sorted(slots(lockhub, device_id).values()) == sorted(c.code for c in codes)
    for code in codes:
        assert len(events_of(seam, code.access_code_id, "access_code.set_on_device")) == 1
