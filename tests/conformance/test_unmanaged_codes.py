"""Unmanaged access codes (PINs added at the lock, outside lockhub) through the official SDK:
discovery, taking them over, giving them back, deleting them; PINs written to one lock at once.

Runs its own seeded server (virtual locks answer at once) so that the PINs it adds do not show
up on the shared session server's locks.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from seam import Seam, SeamHttpApiError, SeamHttpInvalidInputError

from tests.conformance.helpers import EPOCH, SANDBOX_KEY, raw, seed_ids, wait_until
from tests.server import LockhubServer


@pytest.fixture(scope="module")
def ids(own_server: LockhubServer) -> dict[str, str]:
    return seed_ids(own_server)


@pytest.fixture
def seam(own_server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def lock_pins(server: LockhubServer, device_id: str) -> list[str]:
    """The PINs the virtual lock physically stores (one entry per slot)."""
    with raw(server) as client:
        response = client.get("/_lockhub/sandbox/devices/list_codes_on_lock",
                              params={"device_id": device_id})
    assert response.status_code == 200, response.text
    return [c["code"] for c in response.json()["codes_on_lock"]]


def managed_ids(seam: Seam, device_id: str) -> set[str]:
    return {c.access_code_id for c in seam.access_codes.list(device_id=device_id)}


def unmanaged_ids(seam: Seam, device_id: str) -> set[str]:
    return {c.access_code_id for c in seam.access_codes.unmanaged.list(device_id=device_id)}


def event_types(seam: Seam, access_code_id: str) -> list[str]:
    return [e.event_type for e in reversed(seam.events.list(access_code_id=access_code_id,
                                                             since=EPOCH))]


def not_found(call: Any) -> bool:
    try:
        call()
    except SeamHttpApiError as exc:
        assert exc.status_code == 404 and exc.code == "access_code_not_found", exc
        return True
    return False


def test_a_pin_added_at_the_lock_is_listed_as_an_unmanaged_set_code(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["august_device_1"]
    added = seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=device_id, name="Added in the app", code="3141")
    assert added.is_managed is False and added.status == "set"
    assert added.code == "3141" and added.name == "Added in the app"
    assert added.type == "ongoing" and added.device_id == device_id

    listed = seam.access_codes.unmanaged.list(device_id=device_id)
    assert [c.access_code_id for c in listed] == [added.access_code_id]
    assert listed[0].status == "set"
    got = seam.access_codes.unmanaged.get(access_code_id=added.access_code_id)
    assert got.code == "3141" and got.status == "set" and got.is_managed is False
    by_pin = seam.access_codes.unmanaged.get(device_id=device_id, code="3141")
    assert by_pin.access_code_id == added.access_code_id
    # It is not one of the workspace's managed codes.
    assert added.access_code_id not in managed_ids(seam, device_id)
    assert not_found(lambda: seam.access_codes.get(access_code_id=added.access_code_id))
    assert lock_pins(own_server, device_id) == ["3141"]
    assert event_types(seam, added.access_code_id) == ["access_code.unmanaged.created"]


def test_a_managed_code_cannot_reuse_an_unmanaged_pin_on_the_same_device(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["august_device_2"]
    seam.access_codes.simulate.create_unmanaged_access_code(device_id=device_id, name="App",
                                                            code="2718")
    with pytest.raises(SeamHttpApiError) as caught:
        seam.access_codes.create(device_id=device_id, code="2718")
    assert caught.value.status_code == 409 and caught.value.code == "duplicate_access_code"
    managed = seam.access_codes.create(device_id=device_id, code="2719")
    with pytest.raises(SeamHttpApiError) as caught:
        seam.access_codes.simulate.create_unmanaged_access_code(device_id=device_id,
                                                                name="Clash", code="2719")
    assert caught.value.status_code == 409
    assert len(seam.access_codes.unmanaged.list(device_id=device_id)) == 1
    assert managed.access_code_id in managed_ids(seam, device_id)


def test_convert_to_managed_takes_the_code_over_without_touching_the_pin(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["yale_device_1"]
    added = seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=device_id, name="Handyman", code="1618")
    assert seam.access_codes.unmanaged.convert_to_managed(
        access_code_id=added.access_code_id) is None

    assert added.access_code_id in managed_ids(seam, device_id)
    assert added.access_code_id not in unmanaged_ids(seam, device_id)
    assert not_found(lambda: seam.access_codes.unmanaged.get(
        access_code_id=added.access_code_id))
    managed = seam.access_codes.get(access_code_id=added.access_code_id)
    assert managed.is_managed is True and managed.status == "set"
    assert managed.code == "1618" and managed.name == "Handyman"
    assert managed.errors == []

    def settled() -> Any:
        code = seam.access_codes.get(access_code_id=added.access_code_id)
        return code if code.status == "set" and not code.pending_mutations else None

    wait_until(settled, message="the converted code to settle")
    assert lock_pins(own_server, device_id) == ["1618"], "still one slot holding the PIN"
    assert "access_code.unmanaged.converted_to_managed" in event_types(seam,
                                                                        added.access_code_id)

    # Now it is the workspace's code: deleting it removes it from the lock.
    seam.access_codes.delete(access_code_id=added.access_code_id)
    wait_until(lambda: not_found(lambda: seam.access_codes.get(
        access_code_id=added.access_code_id)), message="the converted code to be deleted")
    assert lock_pins(own_server, device_id) == []
    assert "access_code.deleted" in event_types(seam, added.access_code_id)


def test_unmanaged_update_is_managed_true_converts_and_update_is_managed_false_gives_it_back(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["schlage_device_1"]
    added = seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=device_id, name="Owner", code="1414")
    seam.access_codes.unmanaged.update(access_code_id=added.access_code_id, is_managed=True)
    assert added.access_code_id in managed_ids(seam, device_id)
    assert seam.access_codes.get(access_code_id=added.access_code_id).status == "set"

    seam.access_codes.update(access_code_id=added.access_code_id, is_managed=False)
    assert added.access_code_id not in managed_ids(seam, device_id)
    back = seam.access_codes.unmanaged.get(access_code_id=added.access_code_id)
    assert back.is_managed is False and back.status == "set" and back.code == "1414"
    assert lock_pins(own_server, device_id) == ["1414"]

    with pytest.raises(SeamHttpInvalidInputError):
        seam.access_codes.unmanaged.update(access_code_id=added.access_code_id,
                                           is_managed=False)
    types = event_types(seam, added.access_code_id)
    assert types[0] == "access_code.unmanaged.created"
    assert "access_code.unmanaged.converted_to_managed" in types


def test_unmanaged_delete_removes_the_pin_from_the_lock(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    device_id = ids["ttlock_device_1"]
    added = seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=device_id, name="Old tenant", code="1732")
    kept = seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=device_id, name="Owner", code="1733")
    assert seam.access_codes.unmanaged.delete(access_code_id=added.access_code_id) is None

    wait_until(lambda: not_found(lambda: seam.access_codes.unmanaged.get(
        access_code_id=added.access_code_id)), message="the unmanaged code to be removed")
    assert lock_pins(own_server, device_id) == ["1733"]
    assert unmanaged_ids(seam, device_id) == {kept.access_code_id}
    assert "access_code.unmanaged.removed" in event_types(seam, added.access_code_id)
    # A managed code is not reachable through the unmanaged routes.
    managed = seam.access_codes.create(device_id=device_id, code="1734")
    assert not_found(lambda: seam.access_codes.unmanaged.delete(
        access_code_id=managed.access_code_id))


def test_keypad_entry_with_an_unmanaged_pin_is_attributed_to_the_unmanaged_code(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["nuki_device_1"]
    added = seam.access_codes.simulate.create_unmanaged_access_code(
        device_id=device_id, name="Neighbour", code="456789")
    seam.locks.simulate.keypad_code_entry(device_id=device_id, code="456789")
    [unlocked] = seam.events.list(device_id=device_id, since=EPOCH, event_types=["lock.unlocked"])
    assert unlocked.method == "keycode"
    assert unlocked.access_code_id == added.access_code_id
    assert unlocked.access_code_is_managed is False


@pytest.mark.parametrize("code", ["١٢٣٤", "12٣4", "１２３４", "߁߂߃߄"])
def test_a_pin_of_other_scripts_digits_is_invalid_input_and_never_reaches_the_lock(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str], code: str
) -> None:
    """Python's str.isdigit takes Arabic-Indic, fullwidth and N'Ko digits; a keypad has 0-9."""
    device_id = ids["august_device_2"]
    pins_before = lock_pins(own_server, device_id)
    unmanaged_before = unmanaged_ids(seam, device_id)
    with pytest.raises(SeamHttpInvalidInputError) as caught:
        seam.access_codes.simulate.create_unmanaged_access_code(
            device_id=device_id, name="Other digits", code=code)
    assert caught.value.status_code == 400 and caught.value.code == "invalid_input"
    assert caught.value.get_validation_error_messages("code")
    assert unmanaged_ids(seam, device_id) == unmanaged_before
    assert lock_pins(own_server, device_id) == pins_before
    assert not any(pin and not pin.isascii() for pin in lock_pins(own_server, device_id))


def test_pins_programmed_and_added_at_the_lock_at_once_each_take_their_own_slot(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    """The engine programming codes while PINs are added at the same lock: every PIN lands in
    a slot of its own and no request fails (on PostgreSQL the two writers run side by side)."""
    used = {ids[k] for k in ("august_device_1", "august_device_2", "nuki_device_1",
                             "schlage_device_1", "ttlock_device_1", "yale_device_1")}
    device_id = next(d.device_id for d in seam.devices.list()
                     if d.can_program_online_access_codes and d.properties.online
                     and not d.errors and d.device_id not in used)
    managed = [f"{5100 + i}" for i in range(6)]
    at_lock = [f"{5200 + i}" for i in range(6)]

    def add(pin: str) -> str:
        client = Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)
        if pin in managed:
            return client.access_codes.create(device_id=device_id, code=pin).access_code_id
        return client.access_codes.simulate.create_unmanaged_access_code(
            device_id=device_id, code=pin, name=f"At the lock {pin}").access_code_id

    with ThreadPoolExecutor(max_workers=6) as pool:
        created = list(pool.map(add, [p for pair in zip(managed, at_lock, strict=True)
                                      for p in pair]))
    assert len(set(created)) == 12
    wait_until(lambda: all(c.status == "set" for c in seam.access_codes.list(device_id=device_id)),
               timeout=30, message="the managed codes to be set")
    pins = lock_pins(own_server, device_id)
    assert sorted(pins) == sorted(managed + at_lock)


def test_the_same_pin_asked_for_one_lock_at_once_is_given_to_one_code(
    seam: Seam, own_server: LockhubServer, ids: dict[str, str]
) -> None:
    """Six clients ask for PIN 6262 on one lock at the same moment: one code gets it, the
    others are told it is taken (on PostgreSQL the requests' transactions run side by side)."""
    device_id = ids["yale_device_1"]

    def create(name: str) -> str:
        client = Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)
        try:
            return client.access_codes.create(device_id=device_id, code="6262",
                                              name=name).access_code_id
        except SeamHttpApiError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(create, [f"Race {i}" for i in range(6)]))
    assert sorted(o == "duplicate_access_code" for o in outcomes) == [False] + [True] * 5, outcomes
    assert [c.code for c in seam.access_codes.list(device_id=device_id)].count("6262") == 1
