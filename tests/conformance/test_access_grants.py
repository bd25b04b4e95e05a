"""Access grants and access methods through the official SDK: a `code` method becomes one PIN on
every lock of the grant (devices named directly or through a space), follows the access-code
lifecycle on the sandbox clock, and goes with the grant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from seam import Seam, SeamHttpApiError

from tests.conformance.helpers import EPOCH, OTHER_KEY, SANDBOX_KEY, sandbox, seed_ids, wait_until
from tests.server import LockhubServer


@pytest.fixture(scope="module")
def seam(own_server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


@pytest.fixture(scope="module")
def ids(own_server: LockhubServer) -> dict[str, str]:
    return seed_ids(own_server)


def key(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def codes_of(seam: Seam, method_id: str) -> list[Any]:
    return [c for device in seam.devices.list() if device.can_program_online_access_codes
            for c in seam.access_codes.list(device_id=device.device_id)
            if c.common_code_key == f"access_method_{method_id}"]


def on_lock(server: LockhubServer, device_id: str) -> set[str]:
    return {c["code"] for c in sandbox(server, "devices/list_codes_on_lock",
                                       device_id=device_id)["codes_on_lock"]}


def test_a_code_method_puts_one_pin_on_every_lock_of_a_space(seam: Seam, ids: dict[str, str],
                                                             own_server: LockhubServer) -> None:
    front, back = ids["august_device_1"], ids["august_device_2"]
    unit = seam.spaces.create(name=key("Unit"), device_ids=[front, back])
    grant = seam.access_grants.create(
        user_identity={"full_name": "Guest One", "user_identity_key": key("guest")},
        space_ids=[unit.space_id], requested_access_methods=[{"mode": "code"}],
        name="Stay at the unit")
    assert grant.space_ids == [unit.space_id] and grant.display_name == "Stay at the unit"
    [method_id] = grant.access_method_ids
    assert grant.requested_access_methods[0].created_access_method_ids == [method_id]
    method = seam.access_methods.get(access_method_id=method_id)
    assert method.mode == "code" and method.code
    codes = codes_of(seam, method_id)
    assert {c.device_id for c in codes} == {front, back}
    assert {c.code for c in codes} == {method.code}
    assert {c.name for c in codes} == {"Stay at the unit"}
    issued = wait_until(lambda: (lambda m: m if m.is_issued else None)(
        seam.access_methods.get(access_method_id=method_id)), message="the method to be issued")
    assert issued.issued_at
    assert method.code in on_lock(own_server, front) and method.code in on_lock(own_server, back)
    types = [e.event_type for e in seam.events.list(since=EPOCH, event_types=[
        "access_grant.created", "access_method.created", "access_method.issued"])
        if getattr(e, "access_grant_id", None) == grant.access_grant_id
        or grant.access_grant_id in (getattr(e, "access_grant_ids", None) or [])]
    assert sorted(types) == ["access_grant.created", "access_method.created",
                             "access_method.issued"]
    person = seam.user_identities.get(user_identity_id=grant.user_identity_id)
    assert person.full_name == "Guest One"
    assert {d.device_id for d in seam.user_identities.list_accessible_devices(
        user_identity_id=person.user_identity_id)} == {front, back}


def test_a_time_bound_grant_follows_the_clock_and_its_updates(seam: Seam, ids: dict[str, str],
                                                              own_server: LockhubServer) -> None:
    device = ids["schlage_device_1"]
    person = seam.user_identities.create(user_identity_key=key("renter"))
    now = datetime.now(UTC).replace(microsecond=0)
    starts, ends = now + timedelta(days=3), now + timedelta(days=5)
    grant = seam.access_grants.create(
        user_identity_id=person.user_identity_id, device_ids=[device],
        requested_access_methods=[{"mode": "code", "code": "482916"}],
        starts_at=starts.isoformat(), ends_at=ends.isoformat(), access_grant_key=key("res"))
    [code] = codes_of(seam, grant.access_method_ids[0])
    assert code.code == "482916" and code.starts_at and code.ends_at
    assert code.status == "unset"
    later = ends + timedelta(days=2)
    seam.access_grants.update(access_grant_id=grant.access_grant_id, ends_at=later.isoformat())
    changed = seam.access_grants.get(access_grant_key=grant.access_grant_key)
    assert changed.ends_at.startswith(later.strftime("%Y-%m-%dT%H:%M"))
    assert seam.access_codes.get(access_code_id=code.access_code_id).ends_at.startswith(
        later.strftime("%Y-%m-%dT%H:%M"))
    assert [e.event_type for e in seam.events.list(
        since=EPOCH, event_types=["access_grant.access_times_changed"])
        if e.access_grant_id == grant.access_grant_id] == ["access_grant.access_times_changed"]
    assert [g.access_grant_id for g in seam.access_grants.list(device_id=device)
            if g.access_grant_id == grant.access_grant_id] == [grant.access_grant_id]
    method_id = grant.access_method_ids[0]
    assert not seam.access_methods.get(access_method_id=method_id).is_issued
    # On the workspace's clock: in the window the PIN is on the lock and the method issued,
    # after it the PIN is gone.
    try:
        sandbox(own_server, "clock/advance", seconds=4 * 86400)
        wait_until(lambda: seam.access_methods.get(access_method_id=method_id).is_issued,
                   message="the method to be issued once the window opened")
        assert "482916" in on_lock(own_server, device)
        sandbox(own_server, "clock/advance", seconds=4 * 86400)
        wait_until(lambda: "482916" not in on_lock(own_server, device),
                   message="the PIN to leave the lock at the end of the window")
    finally:
        sandbox(own_server, "clock/set", now=datetime.now(UTC).isoformat())


def test_deleting_the_grant_takes_its_pins_off_the_locks(seam: Seam, ids: dict[str, str],
                                                         own_server: LockhubServer) -> None:
    device = ids["yale_device_1"]
    grant = seam.access_grants.create(
        user_identity={"user_identity_key": key("leaver")}, device_ids=[device],
        requested_access_methods=[{"mode": "code"}])
    method_id = grant.access_method_ids[0]
    wait_until(lambda: seam.access_methods.get(access_method_id=method_id).is_issued,
               message="the method to be issued")
    pin = seam.access_methods.get(access_method_id=method_id).code
    assert pin in on_lock(own_server, device)
    seam.access_grants.delete(access_grant_id=grant.access_grant_id)
    with pytest.raises(SeamHttpApiError) as gone:
        seam.access_grants.get(access_grant_id=grant.access_grant_id)
    assert gone.value.code == "access_grant_not_found"
    with pytest.raises(SeamHttpApiError) as gone:
        seam.access_methods.get(access_method_id=method_id)
    assert gone.value.code == "access_method_not_found"
    wait_until(lambda: pin not in on_lock(own_server, device), message="the PIN to be removed")
    wait_until(lambda: not codes_of(seam, method_id), message="the codes to be deleted")


def test_modes_lockhubs_locks_cannot_take_are_reported(seam: Seam, ids: dict[str, str]) -> None:
    grant = seam.access_grants.create(
        user_identity={"user_identity_key": key("card")}, device_ids=[ids["august_device_1"]],
        requested_access_methods=[{"mode": "card"}, {"mode": "code"}])
    assert len(grant.access_method_ids) == 1
    assert [e.error_code for e in grant.errors] == ["cannot_create_requested_access_methods"]
    events = seam.events.list(since=EPOCH, event_types=[
        "access_grant.could_not_create_requested_access_methods"])
    assert grant.access_grant_id in {e.access_grant_id for e in events}


def test_a_lock_without_a_keypad_is_left_out_with_a_warning(seam: Seam,
                                                            ids: dict[str, str]) -> None:
    keyless = next(d for d in seam.devices.list() if not d.can_program_online_access_codes)
    grant = seam.access_grants.create(
        user_identity={"user_identity_key": key("mixed")},
        device_ids=[ids["august_device_1"], keyless.device_id],
        requested_access_methods=[{"mode": "code"}])
    assert [(w.warning_code, w.device_id) for w in grant.warnings] == [
        ("device_does_not_support_access_codes", keyless.device_id)]
    assert {c.device_id for c in codes_of(seam, grant.access_method_ids[0])} == {
        ids["august_device_1"]}


def test_bad_grants_write_nothing(seam: Seam, ids: dict[str, str],
                                  own_server: LockhubServer) -> None:
    before = len(seam.access_grants.list())
    elsewhere = Seam(api_key=OTHER_KEY, endpoint=own_server.url)
    stranger = elsewhere.user_identities.create(user_identity_key=key("stranger"))
    for args, error in (
        ({"user_identity_id": stranger.user_identity_id, "device_ids": [ids["august_device_1"]]},
         "user_identity_not_found"),
        ({"user_identity": {"user_identity_key": key("x")}, "device_ids": [str(uuid.uuid4())]},
         "device_not_found"),
        ({"user_identity": {"user_identity_key": key("x")}, "space_ids": [str(uuid.uuid4())]},
         "space_not_found"),
        ({"user_identity": {"user_identity_key": key("x")},
          "acs_entrance_ids": [str(uuid.uuid4())]}, "acs_entrance_not_found"),
    ):
        with pytest.raises(SeamHttpApiError) as refused:
            seam.access_grants.create(requested_access_methods=[{"mode": "code"}], **args)
        assert refused.value.code == error
    taken = key("taken")
    seam.access_grants.create(user_identity={"user_identity_key": key("y")},
                              device_ids=[ids["august_device_2"]], access_grant_key=taken,
                              requested_access_methods=[])
    with pytest.raises(SeamHttpApiError) as refused:
        seam.access_grants.create(user_identity={"user_identity_key": key("z")},
                                  device_ids=[ids["august_device_2"]], access_grant_key=taken,
                                  requested_access_methods=[])
    assert refused.value.code == "access_grant_key_already_in_use"
    assert len(seam.access_grants.list()) == before + 1
    assert not any(u.user_identity_key and u.user_identity_key.startswith("z-")
                   for u in seam.user_identities.list())


def test_deleting_a_user_identity_deletes_its_grants(seam: Seam, ids: dict[str, str]) -> None:
    grant = seam.access_grants.create(
        user_identity={"user_identity_key": key("gone")}, device_ids=[ids["august_device_2"]],
        requested_access_methods=[{"mode": "code"}])
    seam.user_identities.delete(user_identity_id=grant.user_identity_id)
    with pytest.raises(SeamHttpApiError) as gone:
        seam.access_grants.get(access_grant_id=grant.access_grant_id)
    assert gone.value.code == "access_grant_not_found"


def test_methods_list_delete_and_related(seam: Seam, ids: dict[str, str]) -> None:
    device = ids["august_device_1"]
    grant = seam.access_grants.create(
        user_identity={"user_identity_key": key("two")}, device_ids=[device],
        requested_access_methods=[{"mode": "code"}])
    grant = seam.access_grants.request_access_methods(
        access_grant_id=grant.access_grant_id, requested_access_methods=[{"mode": "code"}])
    first, second = grant.access_method_ids
    assert [m.access_method_id for m in seam.access_methods.list(
        access_grant_id=grant.access_grant_id)] == [first, second]
    [code] = codes_of(seam, second)
    assert [m.access_method_id for m in seam.access_methods.list(
        access_code_id=code.access_code_id)] == [second]
    # The SDK keeps a batch's items as plain dicts.
    related = seam.access_grants.get_related(access_grant_ids=[grant.access_grant_id])
    assert {m["access_method_id"] for m in related.access_methods} == {first, second}
    assert [d["device_id"] for d in related.devices] == [device]
    assert [u["user_identity_id"] for u in related.user_identities] == [grant.user_identity_id]
    seam.access_methods.delete(access_method_id=first)
    assert seam.access_grants.get(access_grant_id=grant.access_grant_id).access_method_ids == [
        second]
    by_method = seam.access_methods.get_related(access_method_ids=[second])
    assert [g["access_grant_id"] for g in by_method.access_grants] == [grant.access_grant_id]


def test_access_codes_list_by_grant_and_method(seam: Seam, ids: dict[str, str]) -> None:
    grant = seam.access_grants.create(
        user_identity={"user_identity_key": key("lister")},
        device_ids=[ids["august_device_1"], ids["august_device_2"]],
        requested_access_methods=[{"mode": "code"}], access_grant_key=key("listed"))
    method_id = grant.access_method_ids[0]
    made = {c.access_code_id for c in codes_of(seam, method_id)}
    assert len(made) == 2
    for device_id in (ids["august_device_1"], ids["august_device_2"]):
        by_grant = seam.access_codes.list(device_id=device_id,
                                          access_grant_id=grant.access_grant_id)
        by_method = seam.access_codes.list(device_id=device_id, access_method_id=method_id)
        by_key = seam.access_codes.list(device_id=device_id,
                                        access_grant_key=grant.access_grant_key)
        assert len(by_grant) == 1 and by_grant == by_method == by_key
        assert by_grant[0].access_code_id in made


def test_a_spaces_related_access_methods_are_those_of_its_grants(seam: Seam,
                                                                 ids: dict[str, str]) -> None:
    unit = seam.spaces.create(name=key("Flat"), device_ids=[ids["august_device_2"]])
    assert seam.spaces.get_related(space_ids=[unit.space_id]).access_methods == []
    grant = seam.access_grants.create(
        user_identity={"user_identity_key": key("flat")}, space_ids=[unit.space_id],
        requested_access_methods=[{"mode": "code"}])
    related = seam.spaces.get_related(space_ids=[unit.space_id])
    assert [m["access_method_id"] for m in related.access_methods] == grant.access_method_ids
