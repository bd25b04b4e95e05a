"""/events/list and /events/get through the official SDK.

One unlock and one lock of yale_device_1 (only this module acts on it) give events at two
known instants; the filters are checked against them and against the seed's own events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from seam import Seam, SeamHttpApiError, SeamHttpInvalidInputError

from tests.conformance.helpers import EPOCH, SANDBOX_KEY, SANDBOX_WORKSPACE, raw, seed_ids
from tests.server import LockhubServer

FUTURE = "2999-01-01T00:00:00.000Z"


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _shift(timestamp: str, ms: int) -> str:
    return _format(_parse(timestamp) + timedelta(milliseconds=ms))


@dataclass
class Actions:
    device_id: str
    connected_account_id: str
    unlock_attempt_id: str
    lock_attempt_id: str
    unlocked: Any  # the lock.unlocked event
    locked: Any  # the lock.locked event


@pytest.fixture(scope="module")
def ids(server: LockhubServer) -> dict[str, str]:
    return seed_ids(server)


@pytest.fixture(scope="module")
def actions(server: LockhubServer, ids: dict[str, str]) -> Actions:
    seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
    device_id = ids["yale_device_1"]
    unlock = seam.locks.unlock_door(device_id=device_id)
    lock = seam.locks.lock_door(device_id=device_id)
    events = seam.events.list(since=EPOCH, device_id=device_id,
                              event_types=["lock.unlocked", "lock.locked"])
    unlocked = next(e for e in events if e.action_attempt_id == unlock.action_attempt_id)
    locked = next(e for e in events if e.action_attempt_id == lock.action_attempt_id)
    assert unlocked.created_at < locked.created_at
    return Actions(device_id=device_id,
                   connected_account_id=seam.devices.get(device_id=device_id).connected_account_id,
                   unlock_attempt_id=unlock.action_attempt_id,
                   lock_attempt_id=lock.action_attempt_id, unlocked=unlocked, locked=locked)


def _event_ids(events: list[Any]) -> list[str]:
    return [e.event_id for e in events]


# ------------------------------------------------------------------------ since / between


def test_list_without_since_or_between_is_invalid_input(server: LockhubServer) -> None:
    # The SDK refuses a call with no filter at all before sending it, so this goes by hand.
    with raw(server) as http:
        response = http.get("/events/list")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_input"


def test_list_with_a_filter_but_no_time_range_is_invalid_input(
    seam: Seam, actions: Actions
) -> None:
    with pytest.raises(SeamHttpInvalidInputError):
        seam.events.list(device_id=actions.device_id)


def test_list_returns_newest_first(seam: Seam) -> None:
    events = seam.events.list(since=EPOCH)
    created = [e.created_at for e in events]
    assert len(events) > 1
    assert created == sorted(created, reverse=True)


def test_since_includes_events_from_that_instant_on(seam: Seam, actions: Actions) -> None:
    events = seam.events.list(since=actions.unlocked.created_at, device_id=actions.device_id)
    ids = _event_ids(events)
    assert actions.unlocked.event_id in ids
    assert actions.locked.event_id in ids
    later = seam.events.list(since=_shift(actions.locked.created_at, 1),
                             device_id=actions.device_id)
    assert actions.locked.event_id not in _event_ids(later)
    assert seam.events.list(since=FUTURE) == []


def test_between_is_an_exclusive_interval(seam: Seam, actions: Actions) -> None:
    unlocked_at = actions.unlocked.created_at
    locked_at = actions.locked.created_at

    around_both = seam.events.list(between=[_shift(unlocked_at, -1), _shift(locked_at, 1)],
                                   device_id=actions.device_id)
    assert {actions.unlocked.event_id, actions.locked.event_id} <= set(_event_ids(around_both))

    up_to_lock = seam.events.list(between=[_shift(unlocked_at, -1), locked_at],
                                  device_id=actions.device_id)
    assert actions.unlocked.event_id in _event_ids(up_to_lock)
    assert actions.locked.event_id not in _event_ids(up_to_lock)

    from_unlock = seam.events.list(between=[unlocked_at, _shift(locked_at, 1)],
                                   device_id=actions.device_id)
    assert actions.unlocked.event_id not in _event_ids(from_unlock)
    assert actions.locked.event_id in _event_ids(from_unlock)


# ------------------------------------------------------------------------------------ filters


def test_list_filters_by_device_id(seam: Seam, actions: Actions) -> None:
    events = seam.events.list(since=EPOCH, device_id=actions.device_id)
    assert {e.device_id for e in events} == {actions.device_id}
    types = {e.event_type for e in events}
    assert {"device.added", "lock.unlocked", "lock.locked",
            "action_attempt.unlock_door.succeeded", "action_attempt.lock_door.succeeded"} <= types


def test_list_filters_by_device_ids(seam: Seam, actions: Actions, ids: dict[str, str]) -> None:
    wanted = {actions.device_id, ids["august_device_1"]}
    events = seam.events.list(since=EPOCH, device_ids=sorted(wanted))
    assert {e.device_id for e in events} == wanted


def test_list_filters_by_event_type(seam: Seam, actions: Actions) -> None:
    events = seam.events.list(since=EPOCH, event_type="lock.unlocked")
    assert {e.event_type for e in events} == {"lock.unlocked"}
    assert actions.unlocked.event_id in _event_ids(events)


def test_list_filters_by_event_types(seam: Seam, actions: Actions) -> None:
    events = seam.events.list(since=EPOCH, device_id=actions.device_id,
                              event_types=["lock.locked", "lock.unlocked"])
    assert _event_ids(events) == [actions.locked.event_id, actions.unlocked.event_id]


def test_list_filters_by_connected_account_id(seam: Seam, actions: Actions) -> None:
    events = seam.events.list(since=EPOCH, connected_account_id=actions.connected_account_id)
    assert {e.connected_account_id for e in events} == {actions.connected_account_id}
    ids = _event_ids(events)
    assert actions.unlocked.event_id in ids
    assert "connected_account.created" in {e.event_type for e in events}


def test_list_limit_returns_the_newest_events(seam: Seam, actions: Actions) -> None:
    everything = seam.events.list(since=EPOCH, device_id=actions.device_id)
    assert len(everything) > 2
    limited = seam.events.list(since=EPOCH, device_id=actions.device_id, limit=2)
    assert _event_ids(limited) == _event_ids(everything)[:2]


def test_other_workspace_sees_none_of_these_events(other_seam: Seam, actions: Actions) -> None:
    assert other_seam.events.list(since=EPOCH) == []
    assert other_seam.events.list(since=EPOCH, device_id=actions.device_id) == []


# ------------------------------------------------------------------------------------- get


def test_get_by_id_returns_the_listed_event(seam: Seam, actions: Actions) -> None:
    event = seam.events.get(event_id=actions.unlocked.event_id)
    assert event == actions.unlocked
    assert event.event_type == "lock.unlocked"
    assert event.method == "remote"
    assert event.action_attempt_id == actions.unlock_attempt_id
    assert event.device_id == actions.device_id
    assert event.workspace_id == SANDBOX_WORKSPACE
    assert event.occurred_at


def test_get_of_an_unknown_event_is_not_found(seam: Seam) -> None:
    with pytest.raises(SeamHttpApiError) as exc:
        seam.events.get(event_id="00000000-0000-4000-8000-000000000000")
    assert exc.value.status_code == 404
    assert exc.value.code == "event_not_found"


def test_get_of_another_workspaces_event_is_not_found(
    other_seam: Seam, actions: Actions
) -> None:
    with pytest.raises(SeamHttpApiError) as exc:
        other_seam.events.get(event_id=actions.unlocked.event_id)
    assert exc.value.status_code == 404
    assert exc.value.code == "event_not_found"


def test_filters_on_resources_lockhub_does_not_have_match_no_event(seam: Seam) -> None:
    assert seam.events.list(since=EPOCH)  # the session has events...
    assert seam.events.list(since=EPOCH, access_grant_id="a-grant") == []  # ...none of a grant
    assert seam.events.list(since=EPOCH, space_ids=["a-space"]) == []
