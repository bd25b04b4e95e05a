"""Managed access codes through the official SDK: create, schedule, update, delete, linked codes,
validation, and the PIN at the keypad.

The module runs its own seeded server (virtual locks answer at once) so that its many creates do
not eat into the per-device rate limits of the shared session server, and so that it may freeze
and move the sandbox workspace's clock: every time-bound scenario is driven by that clock, never
by real waiting. What the virtual lock physically holds is read with the lockhub-only
`/_lockhub/sandbox/devices/list_codes_on_lock`.

Devices used (creates per device stay well under 10 a minute): yale_device_1 (ongoing,
linked), august_device_1 (native schedule), smartthings_device_1 (just-in-time), august_device_2
(delete, window moved out of the preload), ttlock_device_1 (update PIN and name), yale_device_2
(update window and type), smartthings_device_2 (just-in-time window update), schlage_device_1
(linked), schlage_device_2 (listing), wyze_device_1 + nuki_device_1 (shareable PINs),
nuki_device_2 (keypad), ttlock_device_3 (duplicates), and two generated PINs on every device
that can hold PINs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest
from seam import NULL, Seam, SeamHttpApiError, SeamHttpInvalidInputError

from lockhub.catalogue import DeviceModel, brands
from lockhub.domain.access_codes import pin_violations
from tests.conformance.helpers import EPOCH, SANDBOX_KEY, raw, sandbox, seed_ids, wait_until
from tests.server import LockhubServer

# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ids(own_server: LockhubServer) -> dict[str, str]:
    # The sandbox clock stands still for the whole module; tests move it explicitly.
    sandbox(own_server, "clock/freeze")
    return seed_ids(own_server)


@pytest.fixture
def seam(own_server: LockhubServer, ids: dict[str, str]) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


@pytest.fixture
def server(own_server: LockhubServer) -> LockhubServer:
    """This module's server (shadows the shared session server)."""
    return own_server


def clock_now(server: LockhubServer) -> datetime:
    return parse(sandbox(server, "clock/get")["clock"]["now"])


def advance_to(server: LockhubServer, instant: datetime) -> None:
    """Move the frozen sandbox clock forward to `instant`."""
    seconds = (instant - clock_now(server)).total_seconds()
    assert seconds >= 0, "the sandbox clock only moves forward here"
    clock = sandbox(server, "clock/advance", seconds=seconds)["clock"]
    assert clock["is_frozen"] is True


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def lock_slots(server: LockhubServer, device_id: str) -> dict[str, dict[str, Any]]:
    """What the virtual lock physically stores, by PIN."""
    with raw(server) as client:
        response = client.get("/_lockhub/sandbox/devices/list_codes_on_lock",
                              params={"device_id": device_id})
    assert response.status_code == 200, response.text
    return {c["code"]: c for c in response.json()["codes_on_lock"]}


def wait_code(seam: Seam, access_code_id: str, predicate: Callable[[Any], bool],
              message: str, timeout: float = 10.0) -> Any:
    def check() -> Any:
        code = seam.access_codes.get(access_code_id=access_code_id)
        return code if predicate(code) else None

    return wait_until(check, timeout=timeout, message=message)


def wait_set(seam: Seam, access_code_id: str) -> Any:
    return wait_code(seam, access_code_id,
                     lambda c: c.status == "set" and not c.pending_mutations,
                     "the code to be set on the lock")


def is_gone(seam: Seam, access_code_id: str) -> bool:
    try:
        seam.access_codes.get(access_code_id=access_code_id)
    except SeamHttpApiError as exc:
        assert exc.status_code == 404 and exc.code == "access_code_not_found", exc
        return True
    return False


def events_of(seam: Seam, access_code_id: str) -> list[Any]:
    """The code's events, oldest first."""
    return list(reversed(seam.events.list(access_code_id=access_code_id, since=EPOCH)))


def event_types(seam: Seam, access_code_id: str) -> list[str]:
    return [e.event_type for e in events_of(seam, access_code_id)]


def engine_caught_up(seam: Seam, device_id: str) -> None:
    """Barrier: the engine runs one operation per device at a time, oldest first, so once a
    keypad action queued now has succeeded, every code job already due on the device has run."""
    attempt = seam.locks.simulate.manual_lock_via_keypad(device_id=device_id)
    assert attempt.status == "success"


def device_model(seam: Seam, device_id: str) -> DeviceModel:
    """A model with exactly the rules the device publishes (for checking PINs the API chose)."""
    props = seam.devices.get(device_id=device_id).properties
    base = next(iter(brands()["august"].models.values()))
    constraints = [{k: v for k, v in vars(c).items() if v is not None}
                   for c in props.code_constraints or []]
    return msgspec.structs.replace(base, supported_code_lengths=list(props.supported_code_lengths),
                                   code_constraints=constraints)


# --- ongoing codes -----------------------------------------------------------------------------


def test_ongoing_code_is_setting_then_set_and_its_pin_is_on_the_lock(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["yale_device_1"]
    created = seam.access_codes.create(device_id=device_id, name="Dog walker", code="2580")
    assert created.status == "setting"
    assert created.type == "ongoing" and created.is_managed is True
    assert created.code == "2580" and created.name == "Dog walker"
    assert [m.mutation_code for m in created.pending_mutations] == ["creating"]
    assert created.errors == [] and created.warnings == []

    code = wait_set(seam, created.access_code_id)
    assert code.errors == [] and code.warnings == []
    slot = lock_slots(server, device_id)["2580"]
    assert slot["name"] == "Dog walker"
    assert "starts_at" not in slot and "ends_at" not in slot
    assert sorted(event_types(seam, created.access_code_id)) == [
        "access_code.created", "access_code.set_on_device"]
    set_event = next(e for e in events_of(seam, created.access_code_id)
                     if e.event_type == "access_code.set_on_device")
    assert set_event.code == "2580" and set_event.device_id == device_id


def test_delete_of_a_set_code_removes_the_pin_from_the_lock_then_the_code(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["august_device_2"]
    created = seam.access_codes.create(device_id=device_id, code="7412")
    wait_set(seam, created.access_code_id)
    assert "7412" in lock_slots(server, device_id)

    assert seam.access_codes.delete(access_code_id=created.access_code_id) is None
    wait_until(lambda: is_gone(seam, created.access_code_id), message="the code to be gone")
    assert "7412" not in lock_slots(server, device_id)
    assert created.access_code_id not in {
        c.access_code_id for c in seam.access_codes.list(device_id=device_id)}
    types = event_types(seam, created.access_code_id)
    assert types.count("access_code.removed_from_device") == 1
    assert types.count("access_code.deleted") == 1
    deleted = next(e for e in events_of(seam, created.access_code_id)
                   if e.event_type == "access_code.deleted")
    assert deleted.code == "7412"


# --- time-bound codes on the sandbox clock ----------------------------------------------------


def test_native_time_bound_code_is_preloaded_72_hours_ahead_set_at_starts_at_removed_at_ends_at(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["august_device_1"]
    now = clock_now(server)
    starts = (now + timedelta(days=5)).replace(microsecond=0)
    ends = starts + timedelta(days=2)
    created = seam.access_codes.create(device_id=device_id, name="Guest 4711", code="4711",
                                       starts_at=starts.isoformat(), ends_at=ends.isoformat())
    assert created.type == "time_bound" and created.status == "unset"
    assert parse(created.starts_at) == starts and parse(created.ends_at) == ends
    [deferring] = created.pending_mutations
    assert deferring.mutation_code == "deferring_creation"
    assert parse(deferring.scheduled_at) == starts - timedelta(hours=72)

    # Just before the preload the engine leaves it alone.
    advance_to(server, starts - timedelta(hours=72, minutes=1))
    engine_caught_up(seam, device_id)
    waiting = seam.access_codes.get(access_code_id=created.access_code_id)
    assert waiting.status == "unset" and not waiting.is_scheduled_on_device
    assert "4711" not in lock_slots(server, device_id)

    # Preloaded with its window stored on the lock; still unset until starts_at.
    advance_to(server, starts - timedelta(hours=72) + timedelta(minutes=1))
    preloaded = wait_code(seam, created.access_code_id,
                          lambda c: c.is_scheduled_on_device is True,
                          "the code to be scheduled on the device")
    assert preloaded.status == "unset" and preloaded.pending_mutations == []
    slot = lock_slots(server, device_id)["4711"]
    assert parse(slot["starts_at"]) == starts and parse(slot["ends_at"]) == ends
    seam.locks.simulate.keypad_code_entry(device_id=device_id, code="4711")
    assert "lock.access_denied" in [e.event_type for e in seam.events.list(
        device_id=device_id, since=EPOCH, event_types=["lock.access_denied"])]

    advance_to(server, starts + timedelta(minutes=1))
    active = wait_set(seam, created.access_code_id)
    assert active.is_scheduled_on_device is False
    assert "4711" in lock_slots(server, device_id)

    advance_to(server, ends + timedelta(minutes=1))
    wait_until(lambda: is_gone(seam, created.access_code_id), message="the ended code to go")
    assert "4711" not in lock_slots(server, device_id)
    types = event_types(seam, created.access_code_id)
    for expected in ("access_code.created", "access_code.scheduled_on_device",
                     "access_code.set_on_device", "access_code.removed_from_device",
                     "access_code.deleted"):
        assert types.count(expected) == 1, (expected, types)
    assert types.index("access_code.scheduled_on_device") < types.index(
        "access_code.set_on_device") < types.index("access_code.removed_from_device")
    for event in events_of(seam, created.access_code_id):
        assert event.access_code_id == created.access_code_id
        assert event.device_id == device_id


def test_just_in_time_code_is_programmed_60_minutes_before_starts_at_and_removed_at_ends_at(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["smartthings_device_1"]
    model = next(m for m in brands()["smartthings"].models.values())
    assert model.native_scheduling is False
    now = clock_now(server)
    starts = (now + timedelta(days=1)).replace(microsecond=0)
    ends = starts + timedelta(hours=5)
    created = seam.access_codes.create(device_id=device_id, code="86420",
                                       starts_at=starts.isoformat(), ends_at=ends.isoformat())
    assert created.status == "unset"
    [deferring] = created.pending_mutations
    assert deferring.mutation_code == "deferring_creation"
    assert parse(deferring.scheduled_at) == starts - timedelta(minutes=60)

    advance_to(server, starts - timedelta(minutes=61))
    engine_caught_up(seam, device_id)
    assert seam.access_codes.get(access_code_id=created.access_code_id).status == "unset"
    assert "86420" not in lock_slots(server, device_id)

    advance_to(server, starts - timedelta(minutes=59))
    programmed = wait_set(seam, created.access_code_id)
    assert not programmed.is_scheduled_on_device
    slot = lock_slots(server, device_id)["86420"]
    assert "starts_at" not in slot, "a just-in-time lock holds no window of its own"

    advance_to(server, starts + timedelta(hours=1))
    engine_caught_up(seam, device_id)
    assert seam.access_codes.get(access_code_id=created.access_code_id).status == "set"

    advance_to(server, ends)
    wait_until(lambda: is_gone(seam, created.access_code_id), message="the ended code to go")
    assert "86420" not in lock_slots(server, device_id)
    types = event_types(seam, created.access_code_id)
    assert "access_code.scheduled_on_device" not in types
    for expected in ("access_code.created", "access_code.set_on_device",
                     "access_code.removed_from_device", "access_code.deleted"):
        assert types.count(expected) == 1, (expected, types)


# --- validation --------------------------------------------------------------------------------


def _in(now: datetime, **delta: float) -> str:
    return (now + timedelta(**delta)).isoformat()


CREATE_RULES: list[tuple[str, str, Callable[[datetime], dict[str, Any]], str, str | None]] = [
    ("wrong_length", "august_device_1", lambda now: {"code": "1234567"}, "invalid_code_length",
     None),
    ("too_short", "nuki_device_1", lambda now: {"code": "3456"}, "invalid_code_length", None),
    ("nuki_no_zeros", "nuki_device_1", lambda now: {"code": "345609"},
     "code_constraints_violated", "no_zeros"),
    ("nuki_cannot_start_with_12", "nuki_device_1", lambda now: {"code": "123456"},
     "code_constraints_violated", "cannot_start_with_12"),
    ("ttlock_cannot_contain_089", "ttlock_device_2", lambda now: {"code": "1238"},
     "code_constraints_violated", "cannot_contain_089"),
    ("schlage_name_too_long", "schlage_device_1", lambda now: {"code": "1357",
                                                               "name": "Ten chars!"},
     "code_constraints_violated", "name_length"),
    ("nuki_name_too_long", "nuki_device_1", lambda now: {"name": "x" * 21},
     "code_constraints_violated", "name_length"),
    ("kwikset_start_in_past", "kwikset_device_2",
     lambda now: {"starts_at": _in(now, hours=-1), "ends_at": _in(now, hours=5)},
     "code_constraints_violated", "start_date_in_future"),
    ("device_without_pins", "wyze_device_2", lambda now: {"code": "1357"},
     "device_cannot_perform_action", None),
]
TIME_RULES: list[tuple[str, Callable[[datetime], dict[str, Any]], str]] = [
    ("only_starts_at", lambda now: {"starts_at": _in(now, hours=1)}, "ends_at"),
    ("only_ends_at", lambda now: {"ends_at": _in(now, hours=1)}, "starts_at"),
    ("ends_before_starts", lambda now: {"starts_at": _in(now, hours=5),
                                        "ends_at": _in(now, hours=4)}, "ends_at"),
    ("ends_in_the_past", lambda now: {"starts_at": _in(now, hours=-5),
                                      "ends_at": _in(now, hours=-1)}, "ends_at"),
]


def _codes_on(seam: Seam, device_id: str) -> set[str]:
    return {c.access_code_id for c in seam.access_codes.list(device_id=device_id)}


@pytest.mark.parametrize(("device", "params", "error_type", "constraint"),
                         [c[1:] for c in CREATE_RULES], ids=[c[0] for c in CREATE_RULES])
def test_create_breaking_a_device_rule_is_a_400_with_a_specific_error_and_creates_nothing(
    seam: Seam, server: LockhubServer, ids: dict[str, str], device: str,
    params: Callable[[datetime], dict[str, Any]], error_type: str, constraint: str | None
) -> None:
    device_id = ids[device]
    before = _codes_on(seam, device_id)
    with pytest.raises(SeamHttpApiError) as caught:
        seam.access_codes.create(device_id=device_id, **params(clock_now(server)))
    assert caught.value.status_code == 400
    assert caught.value.code == error_type
    if constraint is not None:
        assert caught.value.data["constraint_type"] == constraint
    assert _codes_on(seam, device_id) == before


def test_non_digit_pin_is_invalid_input_naming_code(seam: Seam, ids: dict[str, str]) -> None:
    for pin in ("12a4", "12 4", "+123"):
        with pytest.raises(SeamHttpInvalidInputError) as caught:
            seam.access_codes.create(device_id=ids["august_device_1"], code=pin)
        assert caught.value.status_code == 400 and caught.value.code == "invalid_input"
        assert caught.value.get_validation_error_messages("code"), pin


@pytest.mark.parametrize(("params", "field"), [c[1:] for c in TIME_RULES],
                         ids=[c[0] for c in TIME_RULES])
def test_an_incomplete_or_impossible_time_frame_is_invalid_input(
    seam: Seam, server: LockhubServer, ids: dict[str, str],
    params: Callable[[datetime], dict[str, Any]], field: str
) -> None:
    device_id = ids["yale_device_1"]
    before = _codes_on(seam, device_id)
    with pytest.raises(SeamHttpInvalidInputError) as caught:
        seam.access_codes.create(device_id=device_id, code="9630", **params(clock_now(server)))
    assert caught.value.status_code == 400
    assert caught.value.get_validation_error_messages(field)
    assert _codes_on(seam, device_id) == before


def test_a_pin_already_used_on_the_device_is_409_duplicate_access_code(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["ttlock_device_3"]
    first = seam.access_codes.create(device_id=device_id, code="5566")
    with pytest.raises(SeamHttpApiError) as caught:
        seam.access_codes.create(device_id=device_id, code="5566", name="again")
    assert caught.value.status_code == 409 and caught.value.code == "duplicate_access_code"
    assert caught.value.data["access_code_id"] == first.access_code_id
    # The same PIN on another device is fine.
    other = seam.access_codes.create(device_id=ids["ttlock_device_1"], code="5566")
    # An update to a PIN in use is refused the same way, and so are the device's rules.
    second = seam.access_codes.create(device_id=device_id, code="5577")
    with pytest.raises(SeamHttpApiError) as caught:
        seam.access_codes.update(access_code_id=second.access_code_id, code="5566")
    assert caught.value.status_code == 409 and caught.value.code == "duplicate_access_code"
    with pytest.raises(SeamHttpApiError) as caught:
        seam.access_codes.update(access_code_id=second.access_code_id, code="55")
    assert caught.value.status_code == 400 and caught.value.code == "invalid_code_length"
    assert seam.access_codes.get(access_code_id=second.access_code_id).code == "5577"
    for code in (first, other, second):
        wait_set(seam, code.access_code_id)


# --- PINs chosen by lockhub -----------------------------------------------------------------


def test_without_a_code_the_generated_pin_satisfies_every_rule_of_the_device(
    seam: Seam, ids: dict[str, str]
) -> None:
    devices = [d for d in seam.devices.list()
               if d.can_program_online_access_codes and d.properties.online and not d.errors]
    assert len(devices) >= 12
    for device in devices:
        model = device_model(seam, device.device_id)
        lengths = model.supported_code_lengths
        shortest = seam.access_codes.create(device_id=device.device_id)
        assert len(shortest.code) == min(lengths), device.device_id
        assert pin_violations(model, shortest.code) == [], (device.device_id, shortest.code)
        longest = seam.access_codes.create(device_id=device.device_id,
                                           preferred_code_length=max(lengths))
        assert len(longest.code) == max(lengths), device.device_id
        assert pin_violations(model, longest.code) == [], (device.device_id, longest.code)
        assert longest.code != shortest.code
        generated = seam.access_codes.generate_code(device_id=device.device_id)
        assert generated.device_id == device.device_id
        assert len(generated.code) in lengths
        assert pin_violations(model, generated.code) == [], (device.device_id,
                                                             generated.code)
        assert generated.code not in (shortest.code, longest.code)


def test_generate_code_on_a_device_without_pins_is_refused(seam: Seam,
                                                           ids: dict[str, str]) -> None:
    with pytest.raises(SeamHttpApiError) as caught:
        seam.access_codes.generate_code(device_id=ids["wyze_device_2"])
    assert caught.value.code == "device_cannot_perform_action"


# --- listing -----------------------------------------------------------------------------------


def test_list_by_device_and_by_ids_pages_through_every_code(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["schlage_device_2"]
    created = [seam.access_codes.create(device_id=device_id, name=f"Page {n}", code=f"3{n}79")
               for n in range(3)]
    created_ids = [c.access_code_id for c in created]
    listed = [c.access_code_id for c in seam.access_codes.list(device_id=device_id)]
    assert set(created_ids) <= set(listed)
    assert all(c.device_id == device_id for c in seam.access_codes.list(device_id=device_id))

    pages = seam.create_paginator(seam.access_codes.list, {"device_id": device_id, "limit": 2})
    first, pagination = pages.first_page()
    assert len(first) == 2 and pagination.has_next_page
    paged = [c.access_code_id for c in pages.flatten_to_list()]
    assert paged == listed and len(set(paged)) == len(paged)

    by_ids = seam.create_paginator(seam.access_codes.list,
                                   {"access_code_ids": created_ids[:2], "limit": 1})
    assert sorted(c.access_code_id for c in by_ids.flatten_to_list()) == sorted(created_ids[:2])
    assert seam.access_codes.list(access_code_ids=[created_ids[2]])[0].name == "Page 2"


# --- updates ------------------------------------------------------------------------------------


def test_update_of_pin_and_name_is_pending_until_the_lock_holds_the_new_pin(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["ttlock_device_1"]
    created = seam.access_codes.create(device_id=device_id, name="Cleaner", code="2468")
    wait_set(seam, created.access_code_id)
    # While the lock is unreachable the change stays pending (and visible as such).
    sandbox(server, "devices/set_conditions", device_id=device_id, online=False)
    try:
        seam.access_codes.update(access_code_id=created.access_code_id, name="Cleaner 2",
                                 code="1357")
        pending = seam.access_codes.get(access_code_id=created.access_code_id)
        assert pending.code == "1357" and pending.name == "Cleaner 2"
        assert pending.type == "ongoing"
        mutations = {m.mutation_code: m for m in pending.pending_mutations}
        assert set(mutations) == {"updating_code", "updating_name"}
        assert mutations["updating_code"].from_.code == "2468"
        assert mutations["updating_code"].to.code == "1357"
        assert mutations["updating_name"].from_.name == "Cleaner"
        assert mutations["updating_name"].to.name == "Cleaner 2"
        requested = [e for e in events_of(seam, created.access_code_id)
                     if e.event_type == "access_code.mutations_requested"]
        assert len(requested) == 1
        assert {m.mutation_code for m in requested[0].requested_mutations} == {
            "updating_code", "updating_name"}
        assert "2468" in lock_slots(server, device_id)
    finally:
        sandbox(server, "devices/set_conditions", device_id=device_id, online=True)

    applied = wait_code(seam, created.access_code_id,
                        lambda c: not c.pending_mutations and not c.errors,
                        "the update to reach the lock")
    assert applied.status == "set" and applied.warnings == []
    slots = lock_slots(server, device_id)
    assert "2468" not in slots and slots["1357"]["name"] == "Cleaner 2"
    events = events_of(seam, created.access_code_id)
    by_type = {e.event_type: e for e in events}
    assert by_type["access_code.code_changed"].from_.code == "2468"
    assert by_type["access_code.code_changed"].to.code == "1357"
    assert by_type["access_code.name_changed"].to.name == "Cleaner 2"
    changed = {p.property: (p.from_, p.to) for p in by_type["access_code.changed"]
               .changed_properties}
    assert changed == {"code": ("2468", "1357"), "name": ("Cleaner", "Cleaner 2")}

    # An explicit null clears the name (an absent field would leave it alone).
    seam.access_codes.update(access_code_id=created.access_code_id, name=NULL)
    cleared = wait_code(seam, created.access_code_id, lambda c: not c.pending_mutations,
                        "the cleared name to reach the lock")
    assert cleared.name is None and cleared.code == "1357"
    assert lock_slots(server, device_id)["1357"].get("name") is None
    seam.access_codes.update(access_code_id=created.access_code_id)
    assert seam.access_codes.get(access_code_id=created.access_code_id).code == "1357"


def test_update_moves_a_code_between_ongoing_and_time_bound(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["yale_device_2"]
    created = seam.access_codes.create(device_id=device_id, code="864209")
    wait_set(seam, created.access_code_id)
    now = clock_now(server)
    starts = (now + timedelta(hours=10)).replace(microsecond=0)
    ends = starts + timedelta(days=1)

    sandbox(server, "devices/set_conditions", device_id=device_id, online=False)
    try:
        seam.access_codes.update(access_code_id=created.access_code_id, type="time_bound",
                                 starts_at=starts.isoformat(), ends_at=ends.isoformat())
        pending = seam.access_codes.get(access_code_id=created.access_code_id)
        assert pending.type == "time_bound"
        assert parse(pending.starts_at) == starts and parse(pending.ends_at) == ends
        [mutation] = pending.pending_mutations
        assert mutation.mutation_code == "updating_time_frame"
        assert mutation.from_.starts_at is None and parse(mutation.to.ends_at) == ends
        [requested] = [e for e in events_of(seam, created.access_code_id)
                       if e.event_type == "access_code.mutations_requested"]
        assert [m.mutation_code for m in requested.requested_mutations] == [
            "updating_time_frame"]
    finally:
        sandbox(server, "devices/set_conditions", device_id=device_id, online=True)

    # Inside the native preload period: rewritten on the lock with its window, unset until
    # starts_at.
    scheduled = wait_code(seam, created.access_code_id,
                          lambda c: not c.pending_mutations and c.is_scheduled_on_device,
                          "the window to reach the lock")
    assert scheduled.status == "unset" and scheduled.errors == []
    slot = lock_slots(server, device_id)["864209"]
    assert parse(slot["starts_at"]) == starts and parse(slot["ends_at"]) == ends
    assert "access_code.time_frame_changed" in event_types(seam, created.access_code_id)

    seam.access_codes.update(access_code_id=created.access_code_id, type="ongoing")
    ongoing = wait_code(seam, created.access_code_id,
                        lambda c: c.type == "ongoing" and c.status == "set"
                        and not c.pending_mutations, "the code to be ongoing again")
    assert ongoing.starts_at is None and ongoing.ends_at is None
    assert "starts_at" not in lock_slots(server, device_id)["864209"]

    # Explicit nulls clear the window too.
    seam.access_codes.update(access_code_id=created.access_code_id,
                             starts_at=starts.isoformat(), ends_at=ends.isoformat())
    wait_code(seam, created.access_code_id,
              lambda c: c.type == "time_bound" and c.is_scheduled_on_device
              and not c.pending_mutations, "the code to be time-bound again")
    seam.access_codes.update(access_code_id=created.access_code_id, starts_at=NULL,
                             ends_at=NULL)
    cleared = wait_code(seam, created.access_code_id,
                        lambda c: c.type == "ongoing" and c.status == "set"
                        and not c.pending_mutations, "the window to be cleared")
    assert cleared.starts_at is None
    assert "starts_at" not in lock_slots(server, device_id)["864209"]
    changes = [e for e in events_of(seam, created.access_code_id)
               if e.event_type == "access_code.time_frame_changed"]
    assert len(changes) == 4


def test_window_update_a_just_in_time_lock_needs_no_write_for_is_applied_too(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["smartthings_device_2"]
    created = seam.access_codes.create(device_id=device_id, code="70707")
    wait_set(seam, created.access_code_id)
    now = clock_now(server)
    # Starts within the 60-minute lead: the PIN stays on the lock exactly as it is.
    starts, ends = now + timedelta(minutes=30), now + timedelta(hours=3)
    seam.access_codes.update(access_code_id=created.access_code_id,
                             starts_at=starts.isoformat(), ends_at=ends.isoformat())
    applied = wait_code(seam, created.access_code_id, lambda c: not c.pending_mutations,
                        "the window change to be applied")
    assert applied.type == "time_bound" and applied.status == "set"
    assert "70707" in lock_slots(server, device_id)
    assert "access_code.time_frame_changed" in event_types(seam, created.access_code_id)


def test_moving_a_window_out_of_the_preload_period_takes_the_pin_off_until_then(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["august_device_2"]
    now = clock_now(server)
    created = seam.access_codes.create(device_id=device_id, code="60606",
                                       starts_at=(now + timedelta(hours=1)).isoformat(),
                                       ends_at=(now + timedelta(hours=5)).isoformat())
    wait_code(seam, created.access_code_id, lambda c: c.is_scheduled_on_device,
              "the code to be preloaded")
    starts = (now + timedelta(days=10)).replace(microsecond=0)
    seam.access_codes.update(access_code_id=created.access_code_id,
                             starts_at=starts.isoformat(),
                             ends_at=(starts + timedelta(days=1)).isoformat())
    waiting = wait_code(seam, created.access_code_id,
                        lambda c: [m.mutation_code for m in c.pending_mutations]
                        == ["deferring_creation"], "the code to wait for its new window")
    assert waiting.status == "unset" and not waiting.is_scheduled_on_device
    assert parse(waiting.pending_mutations[0].scheduled_at) == starts - timedelta(hours=72)
    assert "60606" not in lock_slots(server, device_id)
    assert "access_code.time_frame_changed" in event_types(seam, created.access_code_id)


def test_name_only_update_keeps_a_time_bound_code_time_bound(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["yale_device_2"]
    now = clock_now(server)
    starts, ends = now + timedelta(days=10), now + timedelta(days=11)
    created = seam.access_codes.create(device_id=device_id, code="975310",
                                       starts_at=starts.isoformat(), ends_at=ends.isoformat())
    seam.access_codes.update(access_code_id=created.access_code_id, name="Renamed")
    code = seam.access_codes.get(access_code_id=created.access_code_id)
    assert code.type == "time_bound" and code.name == "Renamed"
    assert parse(code.starts_at) == parse(created.starts_at)
    assert code.status == "unset"
    assert [m.mutation_code for m in code.pending_mutations] == ["deferring_creation"]


# --- linked codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [4, 6])
def test_create_multiple_shares_one_pin_and_key_of_the_preferred_length(
    seam: Seam, server: LockhubServer, ids: dict[str, str], length: int
) -> None:
    device_ids = [ids["yale_device_1"], ids["schlage_device_1"]]
    codes = seam.access_codes.create_multiple(device_ids=device_ids, name="Family",
                                              preferred_code_length=length)
    assert sorted(c.device_id for c in codes) == sorted(device_ids)
    assert len({c.code for c in codes}) == 1 and len(codes[0].code) == length
    key = codes[0].common_code_key
    assert key and key.startswith("auto_set_by_create_multiple_")
    assert all(c.common_code_key == key for c in codes)
    for code in codes:
        wait_set(seam, code.access_code_id)
        assert code.code in lock_slots(server, code.device_id)


def test_update_multiple_changes_every_linked_code(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    device_ids = [ids["yale_device_1"], ids["schlage_device_1"]]
    codes = seam.access_codes.create_multiple(device_ids=device_ids, name="Before")
    for code in codes:
        wait_set(seam, code.access_code_id)
    now = clock_now(server)
    starts = (now + timedelta(hours=6)).replace(microsecond=0)
    ends = starts + timedelta(days=1)
    seam.access_codes.update_multiple(common_code_key=codes[0].common_code_key, name="After",
                                      starts_at=starts.isoformat(), ends_at=ends.isoformat())
    for code in codes:
        updated = wait_code(seam, code.access_code_id,
                            lambda c: not c.pending_mutations and c.is_scheduled_on_device,
                            "the linked code's update to reach its lock")
        assert updated.name == "After" and updated.type == "time_bound"
        assert parse(updated.starts_at) == starts and parse(updated.ends_at) == ends
        assert updated.code == codes[0].code
        slot = lock_slots(server, code.device_id)[code.code]
        assert slot["name"] == "After" and parse(slot["starts_at"]) == starts
        assert "access_code.name_changed" in event_types(seam, code.access_code_id)


def test_create_multiple_that_cannot_share_the_pin_throws_and_creates_nothing(
    seam: Seam, ids: dict[str, str]
) -> None:
    wyze, nuki = ids["wyze_device_1"], ids["nuki_device_1"]
    before = {d: _codes_on(seam, d) for d in (wyze, nuki)}
    for behavior in ("throw", None):
        with pytest.raises(SeamHttpApiError) as caught:
            seam.access_codes.create_multiple(device_ids=[wyze, nuki], code="1234",
                                              behavior_when_code_cannot_be_shared=behavior)
        assert caught.value.status_code == 400
        assert caught.value.code in ("invalid_code_length", "code_constraints_violated")
    assert {d: _codes_on(seam, d) for d in (wyze, nuki)} == before


def test_create_multiple_with_create_random_code_gives_the_odd_device_its_own_pin(
    seam: Seam, server: LockhubServer, ids: dict[str, str]
) -> None:
    wyze, nuki = ids["wyze_device_1"], ids["nuki_device_1"]
    codes = seam.access_codes.create_multiple(
        device_ids=[wyze, nuki], code="1234", behavior_when_code_cannot_be_shared=
        "create_random_code")
    by_device = {c.device_id: c for c in codes}
    assert set(by_device) == {wyze, nuki}
    assert by_device[wyze].code == "1234"
    nuki_pin = by_device[nuki].code
    assert nuki_pin != "1234"
    assert pin_violations(device_model(seam, nuki), nuki_pin) == []
    # A caller-chosen PIN does not link the codes.
    assert all(c.common_code_key is None for c in codes)
    for code in codes:
        wait_set(seam, code.access_code_id)
        assert code.code in lock_slots(server, code.device_id)


# --- at the keypad -----------------------------------------------------------------------------


def test_keypad_entry_of_a_set_code_unlocks_and_names_the_code_and_a_wrong_pin_is_denied(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["nuki_device_2"]
    created = seam.access_codes.create(device_id=device_id, name="Nanny", code="468135")
    wait_set(seam, created.access_code_id)
    seam.locks.simulate.manual_lock_via_keypad(device_id=device_id)
    assert seam.devices.get(device_id=device_id).properties.locked is True

    entry = seam.locks.simulate.keypad_code_entry(device_id=device_id, code="468135")
    assert entry.status == "success"
    assert seam.devices.get(device_id=device_id).properties.locked is False
    unlocked = seam.events.list(device_id=device_id, since=EPOCH, event_types=["lock.unlocked"])
    assert len(unlocked) == 1
    assert unlocked[0].method == "keycode"
    assert unlocked[0].access_code_id == created.access_code_id

    seam.locks.simulate.manual_lock_via_keypad(device_id=device_id)
    wrong = seam.locks.simulate.keypad_code_entry(device_id=device_id, code="999999")
    assert wrong.status == "success"
    denied = seam.events.list(device_id=device_id, since=EPOCH,
                              event_types=["lock.access_denied"])
    assert len(denied) == 1 and denied[0].access_code_id is None
    assert seam.devices.get(device_id=device_id).properties.locked is True
    assert len(seam.events.list(device_id=device_id, since=EPOCH,
                                event_types=["lock.unlocked"])) == 1
