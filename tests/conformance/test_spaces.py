"""Spaces through the official SDK: create, read, list, change and delete; devices in a space
directly and through connected accounts; the events of each change; what a deleted account
does to the spaces holding it; and the access-control parts, which lockhub does not have."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from seam import Seam, SeamHttpApiError, SeamHttpInvalidInputError

from tests.conformance.helpers import EPOCH, OTHER_KEY, raw
from tests.server import LockhubServer

KEY = "seam_apikey1_token"  # seed_workspace_1, Seam's fake's seed
JOHN = "john_connected_account_id"  # two August locks, a thermostat, a noise sensor
JANE = "jane_connected_account_id"  # one Schlage lock
SPACE_EVENTS = ["space.created", "space.deleted", "space.device_membership_changed"]


@pytest.fixture(scope="module")
def seam(own_server: LockhubServer) -> Seam:
    return Seam(api_key=KEY, endpoint=own_server.url)


@pytest.fixture(scope="module")
def ids(seam: Seam) -> dict[str, str]:
    """The seeded locks: john's `front` and `back` doors, jane's `bathroom` door."""
    front, back = [d.device_id for d in seam.locks.list(connected_account_id=JOHN)]
    [bathroom] = [d.device_id for d in seam.locks.list(connected_account_id=JANE)]
    return {"front": front, "back": back, "bathroom": bathroom}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def space_events(seam: Seam, space_id: str) -> list[tuple[str, list[str]]]:
    """The space's events, oldest first: (type, sorted device_ids)."""
    found = seam.events.list(since=EPOCH, event_types=SPACE_EVENTS, limit=10_000)
    return [(e.event_type, sorted(e.device_ids)) for e in reversed(found)
            if e.space_id == space_id]


def call(server: LockhubServer, path: str, **body: Any) -> tuple[int, dict[str, Any]]:
    """A raw POST, for the parameters the SDK leaves out (parent spaces, filters, nulls)."""
    with raw(server, KEY) as http:
        response = http.post(path, json=body)
    return response.status_code, response.json()


def test_create_get_list_update_delete(seam: Seam, ids: dict[str, str]) -> None:
    key = unique("unit")
    created = seam.spaces.create(
        name="Unit 12B", space_key=key, customer_key="acme-rentals",
        device_ids=[ids["front"]],
        customer_data={"address": "12 Main St", "time_zone": "America/Los_Angeles",
                       "default_checkin_time": "15:00", "default_checkout_time": "11:00:00"})
    assert (created.name, created.display_name, created.space_key) == ("Unit 12B", "Unit 12B", key)
    assert created.customer_key == "acme-rentals"
    assert (created.device_count, created.acs_entrance_count) == (1, 0)
    assert created.workspace_id == seam.workspaces.get().workspace_id
    assert created.geolocation is None
    assert created.customer_data.time_zone == "America/Los_Angeles"
    assert created.customer_data.default_checkin_time == "15:00"
    assert seam.spaces.get(space_id=created.space_id) == created
    assert seam.spaces.get(space_key=key) == created
    assert created.space_id in {s.space_id for s in seam.spaces.list()}

    changed = seam.spaces.update(space_id=created.space_id, name="Unit 12B (renovated)",
                                 customer_data={"address": None, "default_checkin_time": "16:00"})
    assert changed.name == changed.display_name == "Unit 12B (renovated)"
    # Only the keys given change; null clears one.
    assert changed.customer_data.address is None
    assert changed.customer_data.default_checkin_time == "16:00"
    assert changed.customer_data.time_zone == "America/Los_Angeles"
    assert seam.spaces.update(space_key=key, name="By key").name == "By key"
    assert seam.spaces.get(space_id=created.space_id).name == "By key"

    seam.spaces.delete(space_id=created.space_id)
    for lookup in ({"space_id": created.space_id}, {"space_key": key}):
        with pytest.raises(SeamHttpApiError) as missing:
            seam.spaces.get(**lookup)
        assert (missing.value.status_code, missing.value.code) == (404, "space_not_found")
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.delete(space_id=created.space_id)
    assert missing.value.code == "space_not_found"
    # The device itself is untouched.
    assert seam.devices.get(device_id=ids["front"]).device_id == ids["front"]


def test_space_keys_are_unique_in_a_workspace(seam: Seam, own_server: LockhubServer) -> None:
    key = unique("dup")
    seam.spaces.create(name="First", space_key=key)
    with pytest.raises(SeamHttpApiError) as taken:
        seam.spaces.create(name="Second", space_key=key)
    assert (taken.value.status_code, taken.value.code) == (400, "space_key_already_in_use")
    assert [s.name for s in seam.spaces.list(space_key=key)] == ["First"]
    elsewhere = Seam(api_key=OTHER_KEY, endpoint=own_server.url)
    assert elsewhere.spaces.create(name="Theirs", space_key=key).space_key == key


@pytest.mark.parametrize(("params", "field"), [
    ({"customer_data": {"default_checkin_time": "25:00"}}, "customer_data"),
    ({"customer_data": {"time_zone": "Mars/Olympus_Mons"}}, "customer_data"),
    ({"space_key": ""}, "space_key"),
])
def test_malformed_parameters_are_invalid_input(seam: Seam, params: dict[str, Any],
                                                field: str) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as bad:
        seam.spaces.create(name="Bad", **params)
    assert field in {e.parameter_name.split(".")[0] for e in bad.value.validation_errors}


def test_get_and_update_need_an_id_or_a_key(own_server: LockhubServer) -> None:
    for path in ("/spaces/get", "/spaces/update"):
        status, body = call(own_server, path, name="x")
        assert (status, body["error"]["type"]) == (400, "invalid_input"), path


def test_unknown_devices_and_accounts_are_not_found_and_nothing_is_written(
    seam: Seam, ids: dict[str, str], own_server: LockhubServer,
) -> None:
    key = unique("nothing")
    unknown = str(uuid.uuid4())
    for params, error in (({"device_ids": [ids["front"], unknown]}, "device_not_found"),
                          ({"connected_account_ids": [JANE, unknown]},
                           "connected_account_not_found")):
        with pytest.raises(SeamHttpApiError) as missing:
            seam.spaces.create(name="Never", space_key=key, **params)
        assert (missing.value.status_code, missing.value.code) == (404, error)
    assert seam.spaces.list(space_key=key) == []
    # Another workspace's devices are unknown there.
    elsewhere = Seam(api_key=OTHER_KEY, endpoint=own_server.url)
    with pytest.raises(SeamHttpApiError) as missing:
        elsewhere.spaces.create(name="Theirs", space_key=key, device_ids=[ids["front"]])
    assert missing.value.code == "device_not_found"
    assert elsewhere.spaces.list(space_key=key) == []

    space = seam.spaces.create(name="Partial", device_ids=[ids["front"]])
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.add_devices(space_id=space.space_id,
                                device_ids=[ids["back"], unknown])
    assert missing.value.code == "device_not_found"
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.update(space_id=space.space_id, device_ids=[unknown])
    assert missing.value.code == "device_not_found"
    assert seam.spaces.get(space_id=space.space_id).device_count == 1
    assert [t for t, _ in space_events(seam, space.space_id)] == ["space.created"]


def test_devices_added_removed_and_replaced(seam: Seam, ids: dict[str, str],
                                           own_server: LockhubServer) -> None:
    one, two, three = ids["front"], ids["back"], ids["bathroom"]
    space = seam.spaces.create(name="Lobby")
    assert space.device_count == 0
    seam.spaces.add_devices(space_id=space.space_id, device_ids=[one, two])
    seam.spaces.add_devices(space_id=space.space_id, device_ids=[two])  # already there
    assert seam.spaces.get(space_id=space.space_id).device_count == 2
    seam.spaces.remove_devices(space_id=space.space_id, device_ids=[one])
    assert seam.spaces.get(space_id=space.space_id).device_count == 1
    # device_ids replaces the set.
    assert seam.spaces.update(space_id=space.space_id,
                              device_ids=[one, three]).device_count == 2
    batch = seam.spaces.get_related(space_ids=[space.space_id])
    assert sorted(d["device_id"] for d in batch.devices) == sorted([one, three])
    for account in (JOHN, JANE):  # each has a device in the space
        status, found = call(own_server, "/spaces/list", connected_account_id=account)
        assert space.space_id in {s["space_id"] for s in found["spaces"]}
    # The devices of a space, listed.
    assert sorted(d.device_id for d in seam.devices.list(space_id=space.space_id)) == sorted(
        [one, three])
    assert seam.devices.list(space_id=str(uuid.uuid4())) == []
    assert seam.spaces.update(space_id=space.space_id, device_ids=[]).device_count == 0
    assert space_events(seam, space.space_id) == [
        ("space.created", []),
        ("space.device_membership_changed", sorted([one, two])),
        ("space.device_membership_changed", [two]),
        ("space.device_membership_changed", sorted([one, three])),
        ("space.device_membership_changed", []),
    ]


def test_a_connected_accounts_devices_are_in_the_space(seam: Seam, ids: dict[str, str],
                                                       own_server: LockhubServer) -> None:
    schlage = ids["bathroom"]
    space = seam.spaces.create(name="Building A", connected_account_ids=[JANE])
    assert space.device_count == 1
    # A device both added directly and through its account counts once.
    seam.spaces.add_devices(space_id=space.space_id, device_ids=[schlage])
    assert seam.spaces.get(space_id=space.space_id).device_count == 1
    seam.spaces.remove_devices(space_id=space.space_id, device_ids=[schlage])
    assert seam.spaces.get(space_id=space.space_id).device_count == 1  # still, by its account
    status, found = call(own_server, "/spaces/list", connected_account_id=JANE)
    assert status == 200 and space.space_id in {s["space_id"] for s in found["spaces"]}
    status, found = call(own_server, "/spaces/list", connected_account_id=JOHN)
    assert space.space_id not in {s["space_id"] for s in found["spaces"]}

    batch = seam.spaces.get_related(space_ids=[space.space_id])
    assert [s["space_id"] for s in batch.spaces] == [space.space_id]
    assert [d["device_id"] for d in batch.devices] == [schlage]
    assert [d.device_id for d in seam.devices.list(space_id=space.space_id)] == [schlage]
    assert [a["connected_account_id"] for a in batch.connected_accounts] == [JANE]
    assert (batch.acs_entrances, batch.acs_systems, batch.access_methods) == ([], [], [])

    seam.spaces.remove_connected_account(space_id=space.space_id, connected_account_id=JANE)
    assert seam.spaces.get(space_id=space.space_id).device_count == 0
    seam.spaces.add_connected_account(space_id=space.space_id, connected_account_id=JANE)
    seam.spaces.add_connected_account(space_id=space.space_id, connected_account_id=JANE)
    assert seam.spaces.get(space_id=space.space_id).device_count == 1
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.add_connected_account(space_id=space.space_id,
                                          connected_account_id=str(uuid.uuid4()))
    assert missing.value.code == "connected_account_not_found"
    assert space_events(seam, space.space_id) == [
        ("space.created", [schlage]),
        ("space.device_membership_changed", []),
        ("space.device_membership_changed", [schlage]),
    ]


def test_get_related_takes_ids_and_keys_and_narrows_the_kinds(seam: Seam,
                                                              ids: dict[str, str]) -> None:
    key = unique("rel")
    first = seam.spaces.create(name="Rel 1", space_key=key, device_ids=[ids["front"]])
    second = seam.spaces.create(name="Rel 2", device_ids=[ids["front"],
                                                          ids["back"]])
    batch = seam.spaces.get_related(space_ids=[second.space_id], space_keys=[key])
    assert [s["space_id"] for s in batch.spaces] == [first.space_id, second.space_id]
    assert [d["device_id"] for d in batch.devices] == [ids["front"],
                                                        ids["back"]]
    only = seam.spaces.get_related(space_ids=[first.space_id], include=["spaces", "devices"],
                                   exclude=["devices"])
    assert [s["space_id"] for s in only.spaces] == [first.space_id]
    assert only.devices is None and only.connected_accounts is None
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.get_related(space_ids=[first.space_id, str(uuid.uuid4())])
    assert missing.value.code == "space_not_found"


def test_list_pages_searches_and_filters(seam: Seam, own_server: LockhubServer) -> None:
    customer = unique("customer")
    made = [seam.spaces.create(name=f"Suite {n}", customer_key=customer,
                               space_key=unique(f"suite{n}")) for n in range(5)]
    paginator = seam.create_paginator(seam.spaces.list, {"customer_key": customer, "limit": 2})
    first, pagination = paginator.first_page()
    assert len(first) == 2 and pagination is not None and pagination.has_next_page
    walked = [s.space_id for s in paginator.flatten_to_list()]
    assert walked == [s.space_id for s in made]
    # Search: a part of the name, the key or the customer key, any case.
    assert {s.space_id for s in seam.spaces.list(search="SUITE 3")} == {made[3].space_id}
    assert {s.space_id for s in seam.spaces.list(search=made[1].space_key[3:])} == {
        made[1].space_id}
    assert len(seam.spaces.list(search=customer.upper())) == 5
    assert seam.spaces.list(search="%") == []  # no wildcards
    assert [s.space_id for s in seam.spaces.list(space_key=made[2].space_key)] == [
        made[2].space_id]
    # A cursor reused with other parameters.
    with pytest.raises(SeamHttpApiError) as mismatched:
        seam.spaces.list(customer_key=unique("other"), page_cursor=pagination.next_page_cursor)
    assert mismatched.value.code == "mismatched_page_parameters"


def test_parent_spaces(seam: Seam, own_server: LockhubServer) -> None:
    site_key = unique("site")
    site = seam.spaces.create(name="Site", space_key=site_key)
    unit = seam.spaces.create(name="Unit")
    status, body = call(own_server, "/spaces/update", space_id=unit.space_id,
                        parent_space_key=site_key)
    assert status == 200, body
    assert (body["space"]["parent_space_id"], body["space"]["parent_space_key"]) == (
        site.space_id, site_key)
    for filters in ({"parent_space_id": site.space_id}, {"parent_space_key": site_key}):
        status, found = call(own_server, "/spaces/list", **filters)
        assert [s["space_id"] for s in found["spaces"]] == [unit.space_id], filters
    # No cycles: the site cannot go under its own unit, nor a space under itself.
    for space_id, parent_id in ((site.space_id, unit.space_id), (unit.space_id, unit.space_id)):
        status, body = call(own_server, "/spaces/update", space_id=space_id,
                            parent_space_id=parent_id)
        assert (status, body["error"]["type"]) == (400, "invalid_input")
    status, body = call(own_server, "/spaces/update", space_id=unit.space_id,
                        parent_space_id=str(uuid.uuid4()))
    assert (status, body["error"]["type"]) == (404, "space_not_found")
    # A deleted parent leaves its spaces without one.
    seam.spaces.delete(space_id=site.space_id)
    status, body = call(own_server, "/spaces/get", space_id=unit.space_id)
    assert "parent_space_id" not in body["space"]


def test_spaces_hold_no_entrances(seam: Seam) -> None:
    space = seam.spaces.create(name="Gate")
    entrance = str(uuid.uuid4())
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.add_acs_entrances(space_id=space.space_id, acs_entrance_ids=[entrance])
    assert (missing.value.status_code, missing.value.code) == (404, "acs_entrance_not_found")
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.remove_acs_entrances(space_id=space.space_id, acs_entrance_ids=[entrance])
    assert missing.value.code == "acs_entrance_not_found"
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.create(name="Gate 2", acs_entrance_ids=[entrance])
    assert missing.value.code == "acs_entrance_not_found"
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.update(space_id=space.space_id, acs_entrance_ids=[entrance])
    assert missing.value.code == "acs_entrance_not_found"
    # The space is looked up first.
    with pytest.raises(SeamHttpApiError) as missing:
        seam.spaces.add_acs_entrances(space_id=str(uuid.uuid4()), acs_entrance_ids=[entrance])
    assert missing.value.code == "space_not_found"
    assert seam.spaces.get(space_id=space.space_id).acs_entrance_count == 0


def test_deleting_a_space_records_its_devices(seam: Seam, ids: dict[str, str]) -> None:
    space = seam.spaces.create(name="Short-lived", device_ids=[ids["back"]],
                               connected_account_ids=[JANE])
    seam.spaces.delete(space_id=space.space_id)
    assert space_events(seam, space.space_id) == [
        ("space.created", sorted([ids["back"], ids["bathroom"]])),
        ("space.deleted", sorted([ids["back"], ids["bathroom"]])),
    ]


def test_a_deleted_account_and_its_devices_leave_every_space(seam: Seam,
                                                            ids: dict[str, str]) -> None:
    """Runs last in this module: it deletes john's account and so his two locks (and the
    fake's thermostat and noise sensor, on the same account)."""
    john = [ids["front"], ids["back"]]
    direct = seam.spaces.create(name="Holds the devices", device_ids=john)
    through = seam.spaces.create(name="Holds the account", connected_account_ids=[JOHN])
    both = seam.spaces.create(name="Holds both accounts", connected_account_ids=[JOHN, JANE])
    assert (direct.device_count, through.device_count, both.device_count) == (2, 4, 5)

    seam.connected_accounts.delete(connected_account_id=JOHN)
    for space in (direct, through):
        assert seam.spaces.get(space_id=space.space_id).device_count == 0
        batch = seam.spaces.get_related(space_ids=[space.space_id])
        assert (batch.devices, batch.connected_accounts) == ([], [])
    assert seam.spaces.get(space_id=both.space_id).device_count == 1
    batch = seam.spaces.get_related(space_ids=[both.space_id])
    assert [a["connected_account_id"] for a in batch.connected_accounts] == [JANE]
    # The spaces go on working.
    seam.spaces.add_devices(space_id=direct.space_id, device_ids=[ids["bathroom"]])
    assert seam.spaces.get(space_id=direct.space_id).device_count == 1
