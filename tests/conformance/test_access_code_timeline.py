"""/access_codes/get_timeline: a code's life, oldest first, with who caused each step.

The pinned Python SDK (3.18.0) has no method for this route (Seam marks it unreleased), so the
codes are made through the SDK and the timeline is read raw.
"""

from __future__ import annotations

from typing import Any

import pytest
from seam import Seam

from tests.conformance.helpers import OTHER_KEY, SANDBOX_KEY, raw, seed_ids, wait_until
from tests.server import LockhubServer


@pytest.fixture(scope="module")
def seam(own_server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def timeline(server: LockhubServer, key: str = SANDBOX_KEY, **body: Any) -> Any:
    with raw(server, key) as http:
        return http.post("/access_codes/get_timeline", json=body)


def wait_for(server: LockhubServer, access_code_id: str, event_type: str,
             count: int = 1) -> dict[str, Any]:
    """The timeline once it holds `count` events of the type (the engine records some)."""
    def ready() -> dict[str, Any] | None:
        answer = timeline(server, access_code_id=access_code_id).json()
        found = [e for e in answer["timeline_events"] if e["event_type"] == event_type]
        return answer if len(found) >= count else None
    return wait_until(ready, message=f"{count} {event_type} in the timeline")


def test_a_codes_life_in_order_with_its_actors(seam: Seam, own_server: LockhubServer) -> None:
    device_id = seed_ids(own_server)["august_device_1"]
    code = seam.access_codes.create(device_id=device_id, code="3141", name="Cleaner")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set")
    seam.access_codes.update(access_code_id=code.access_code_id, name="Cleaning crew")
    wait_for(own_server, code.access_code_id, "access_code.name_changed")
    seam.access_codes.delete(access_code_id=code.access_code_id)
    answer = wait_for(own_server, code.access_code_id, "access_code.removed_from_device")
    steps = [(e["event_type"], e["actor"]["type"]) for e in answer["timeline_events"]]
    assert steps[0] == ("access_code.created", "api_key")
    assert ("access_code.set_on_device", "system") in steps
    assert ("access_code.mutations_requested", "api_key") in steps
    assert ("access_code.name_changed", "api_key") in steps
    assert ("access_code.removed_from_device", "system") in steps
    assert steps.index(("access_code.set_on_device", "system")) < steps.index(
        ("access_code.name_changed", "api_key"))
    occurred = [e["occurred_at"] for e in answer["timeline_events"]]
    assert occurred == sorted(occurred)
    first = answer["timeline_events"][0]
    assert first["related_resource_ids"]["device_id"] == device_id
    assert first["timeline_event_id"] == first["related_resource_ids"]["event_id"]
    assert answer["pagination"] == {"has_more": False, "next_cursor": None, "prev_cursor": None}


def test_pages_and_filters(seam: Seam, own_server: LockhubServer) -> None:
    device_id = seed_ids(own_server)["august_device_2"]
    code = seam.access_codes.create(device_id=device_id, code="2718")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set")
    for number, name in enumerate(("One", "Two", "Three"), start=1):
        seam.access_codes.update(access_code_id=code.access_code_id, name=name)
        wait_for(own_server, code.access_code_id, "access_code.name_changed", number)
    everything = timeline(own_server, access_code_id=code.access_code_id).json()[
        "timeline_events"]
    first = timeline(own_server, access_code_id=code.access_code_id, limit=2).json()
    assert first["timeline_events"] == everything[:2]
    assert first["pagination"]["has_more"] is True
    rest = timeline(own_server, access_code_id=code.access_code_id,
                    after=first["pagination"]["next_cursor"]).json()["timeline_events"]
    assert first["timeline_events"] + rest == everything
    renames = timeline(own_server, access_code_id=code.access_code_id,
                       event_types=["access_code.name_changed"]).json()["timeline_events"]
    assert [e["event_type"] for e in renames] == ["access_code.name_changed"] * 3


def test_another_workspaces_code_and_bad_input(seam: Seam, own_server: LockhubServer) -> None:
    device_id = seed_ids(own_server)["august_device_1"]
    code = seam.access_codes.create(device_id=device_id, code="1618")
    hidden = timeline(own_server, OTHER_KEY, access_code_id=code.access_code_id)
    assert (hidden.status_code, hidden.json()["error"]["type"]) == (404, "access_code_not_found")
    bad = timeline(own_server, access_code_id=code.access_code_id, limit=500)
    assert (bad.status_code, bad.json()["error"]["type"]) == (400, "invalid_input")
    unknown = timeline(own_server, access_code_id=code.access_code_id,
                       event_types=["lock.unlocked"])
    assert unknown.status_code == 400
