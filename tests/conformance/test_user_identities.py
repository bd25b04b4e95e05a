"""User identities through the official SDK: create, read, change, delete; the devices granted
to an identity; the uniqueness of keys, emails and phone numbers in a workspace; and the
access-control parts, which are empty in lockhub."""

from __future__ import annotations

import uuid

import pytest
from seam import Seam, SeamHttpApiError, SeamHttpInvalidInputError

from tests.conformance.helpers import OTHER_KEY, SANDBOX_KEY, raw, seed_ids
from tests.server import LockhubServer


@pytest.fixture(scope="module")
def seam(own_server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_create_get_list_update_delete(seam: Seam, own_server: LockhubServer) -> None:
    key = unique("guest")
    created = seam.user_identities.create(user_identity_key=key, email_address=f"{key}@ex.com",
                                          full_name="Ada Guest", phone_number="+15555550123")
    assert created.user_identity_key == key
    assert created.display_name == "Ada Guest"
    assert created.acs_user_ids == [] and created.errors == []
    assert seam.user_identities.get(user_identity_id=created.user_identity_id) == created
    assert seam.user_identities.get(user_identity_key=key) == created
    assert created.user_identity_id in {
        u.user_identity_id for u in seam.user_identities.list(search="ada guest")}

    seam.user_identities.update(user_identity_id=created.user_identity_id,
                                full_name="Ada Lovelace", phone_number="+15555550999")
    changed = seam.user_identities.get(user_identity_id=created.user_identity_id)
    assert (changed.full_name, changed.phone_number) == ("Ada Lovelace", "+15555550999")
    assert changed.display_name == "Ada Lovelace"
    # null clears a field (the SDK leaves nulls out, so this one is sent as is).
    with raw(own_server) as http:
        cleared = http.post("/user_identities/update", json={
            "user_identity_id": created.user_identity_id, "full_name": None})
    assert cleared.status_code == 200, cleared.text
    changed = seam.user_identities.get(user_identity_id=created.user_identity_id)
    assert changed.full_name is None
    assert changed.display_name == f"{key}@ex.com"  # the email once there is no name

    seam.user_identities.delete(user_identity_id=created.user_identity_id)
    with pytest.raises(SeamHttpApiError) as missing:
        seam.user_identities.get(user_identity_id=created.user_identity_id)
    assert missing.value.code == "user_identity_not_found"


def test_keys_emails_and_phone_numbers_are_unique_in_a_workspace(seam: Seam,
                                                                 own_server: LockhubServer,
                                                                 ) -> None:
    key = unique("dup")
    first = seam.user_identities.create(user_identity_key=key, email_address=f"{key}@ex.com")
    for field, value in (("user_identity_key", key), ("email_address", f"{key}@ex.com")):
        with pytest.raises(SeamHttpApiError) as taken:
            seam.user_identities.create(**{field: value})
        assert taken.value.code == f"{field}_already_in_use"
    other = seam.user_identities.create(user_identity_key=unique("other"))
    with pytest.raises(SeamHttpApiError) as taken:
        seam.user_identities.update(user_identity_id=other.user_identity_id,
                                    email_address=f"{key}@ex.com")
    assert taken.value.code == "email_address_already_in_use"
    assert seam.user_identities.get(user_identity_id=other.user_identity_id).email_address is None
    # Another workspace may use the same key.
    elsewhere = Seam(api_key=OTHER_KEY, endpoint=own_server.url)
    assert elsewhere.user_identities.create(user_identity_key=key).user_identity_key == key
    assert seam.user_identities.get(user_identity_key=key) == first


@pytest.mark.parametrize(("field", "value"), [("email_address", "not-an-email"),
                                              ("phone_number", "5555550123")])
def test_malformed_contacts_are_invalid_input(seam: Seam, field: str, value: str) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as bad:
        seam.user_identities.create(**{field: value})
    assert [e.parameter_name for e in bad.value.validation_errors] == [field]


def test_devices_granted_and_revoked(seam: Seam, own_server: LockhubServer) -> None:
    ids = seed_ids(own_server)
    person = seam.user_identities.create(user_identity_key=unique("tenant"))
    assert seam.user_identities.list_accessible_devices(
        user_identity_id=person.user_identity_id) == []
    for device_id in (ids["august_device_1"], ids["august_device_2"], ids["august_device_1"]):
        seam.user_identities.grant_access_to_device(user_identity_id=person.user_identity_id,
                                                    device_id=device_id)
    granted = seam.user_identities.list_accessible_devices(
        user_identity_id=person.user_identity_id)
    assert [d.device_id for d in granted] == [ids["august_device_1"], ids["august_device_2"]]
    seam.user_identities.revoke_access_to_device(user_identity_id=person.user_identity_id,
                                                 device_id=ids["august_device_1"])
    assert [d.device_id for d in seam.user_identities.list_accessible_devices(
        user_identity_id=person.user_identity_id)] == [ids["august_device_2"]]


def test_granting_a_device_of_another_workspace_is_not_found(seam: Seam,
                                                             own_server: LockhubServer) -> None:
    person = seam.user_identities.create(user_identity_key=unique("nosy"))
    elsewhere = Seam(api_key=OTHER_KEY, endpoint=own_server.url)
    theirs = elsewhere.user_identities.create(user_identity_key=unique("theirs"))
    with pytest.raises(SeamHttpApiError) as missing:
        seam.user_identities.grant_access_to_device(user_identity_id=person.user_identity_id,
                                                    device_id=str(uuid.uuid4()))
    assert missing.value.code == "device_not_found"
    with pytest.raises(SeamHttpApiError) as missing:
        seam.user_identities.grant_access_to_device(
            user_identity_id=theirs.user_identity_id,
            device_id=seed_ids(own_server)["august_device_1"])
    assert missing.value.code == "user_identity_not_found"


def test_access_control_parts_are_empty(seam: Seam) -> None:
    person = seam.user_identities.create(user_identity_key=unique("acs"))
    assert seam.user_identities.list_acs_systems(user_identity_id=person.user_identity_id) == []
    assert seam.user_identities.list_acs_users(user_identity_id=person.user_identity_id) == []
    assert seam.user_identities.list_accessible_entrances(
        user_identity_id=person.user_identity_id) == []
    with pytest.raises(SeamHttpApiError) as missing:
        seam.user_identities.add_acs_user(user_identity_id=person.user_identity_id,
                                          acs_user_id=str(uuid.uuid4()))
    assert missing.value.code == "acs_user_not_found"


def test_deleting_an_identity_takes_its_devices_from_its_sessions(seam: Seam,
                                                                   own_server: LockhubServer,
                                                                   ) -> None:
    ids = seed_ids(own_server)
    person = seam.user_identities.create(user_identity_key=unique("leaver"))
    seam.user_identities.grant_access_to_device(user_identity_id=person.user_identity_id,
                                                device_id=ids["august_device_1"])
    session = seam.client_sessions.create(user_identity_ids=[person.user_identity_id])
    assert session.device_count == 1
    seam.user_identities.delete(user_identity_id=person.user_identity_id)
    assert seam.client_sessions.get(
        client_session_id=session.client_session_id).device_count == 0
