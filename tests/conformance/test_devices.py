"""/devices/*, /devices/unmanaged/* and /locks/list|get through the official SDK.

Devices this module changes (and no other module touches): igloohome_device_1 (custom metadata),
igloohome_device_2 (name), nuki_device_1 (managed/unmanaged). Every change is undone at the end.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from seam import NULL, Seam, SeamHttpApiError

from tests.conformance.helpers import SANDBOX_WORKSPACE, raw, seed_ids
from tests.server import LockhubServer
from tests.spec import SPEC_PATH


@pytest.fixture(scope="module")
def ids(server: LockhubServer) -> dict[str, str]:
    return seed_ids(server)


def _ids(devices: list[Any]) -> list[str]:
    return [d.device_id for d in devices]


# ------------------------------------------------------------------------------ list filters


def test_list_returns_every_managed_device_of_the_workspace_in_creation_order(
    seam: Seam, ids: dict[str, str]
) -> None:
    devices = seam.devices.list()
    seeded = {v for k, v in ids.items() if "_device_" in k}
    assert set(_ids(devices)) == seeded
    assert all(d.workspace_id == SANDBOX_WORKSPACE for d in devices)
    created = [d.created_at for d in devices]
    assert created == sorted(created)


def test_other_workspace_sees_none_of_these_devices(other_seam: Seam) -> None:
    assert other_seam.devices.list() == []


def test_list_filters_by_device_ids(seam: Seam, ids: dict[str, str]) -> None:
    wanted = [ids["nuki_device_2"], ids["august_device_1"]]
    devices = seam.devices.list(device_ids=wanted)
    assert sorted(_ids(devices)) == sorted(wanted)


def test_list_filters_by_device_type(seam: Seam) -> None:
    devices = seam.devices.list(device_type="ttlock_lock")
    assert len(devices) == 3
    assert {d.device_type for d in devices} == {"ttlock_lock"}


def test_list_filters_by_device_types(seam: Seam) -> None:
    devices = seam.devices.list(device_types=["august_lock", "yale_lock"])
    everything = seam.devices.list()
    expected = [d.device_id for d in everything if d.device_type in ("august_lock", "yale_lock")]
    assert _ids(devices) == expected
    assert {d.device_type for d in devices} == {"august_lock", "yale_lock"}


def test_list_filters_by_manufacturer(seam: Seam) -> None:
    devices = seam.devices.list(manufacturer="schlage")
    assert len(devices) == 2
    assert {d.properties.manufacturer for d in devices} == {"schlage"}


def test_list_filters_by_connected_account_id(seam: Seam, ids: dict[str, str]) -> None:
    devices = seam.devices.list(connected_account_id=ids["john_connected_account_id"])
    assert _ids(devices) == [ids["august_device_1"], ids["august_device_2"]]


def test_list_filters_by_connected_account_ids(seam: Seam, ids: dict[str, str]) -> None:
    accounts = [ids["john_connected_account_id"], ids["jane_connected_account_id"]]
    devices = seam.devices.list(connected_account_ids=accounts)
    assert set(_ids(devices)) == {ids["august_device_1"], ids["august_device_2"],
                                  ids["schlage_device_1"], ids["schlage_device_2"]}
    assert {d.connected_account_id for d in devices} == set(accounts)


def test_list_filters_by_created_before(seam: Seam) -> None:
    everything = seam.devices.list()
    bound = everything[5].created_at
    devices = seam.devices.list(created_before=bound)
    assert devices, "devices created before the sixth one"
    assert _ids(devices) == [d.device_id for d in everything if d.created_at < bound]
    assert everything[5].device_id not in _ids(devices)


def test_list_filters_by_custom_metadata_has(seam: Seam, ids: dict[str, str]) -> None:
    device_id = ids["igloohome_device_1"]
    seam.devices.update(device_id=device_id,
                        custom_metadata={"conformance_room": "101", "conformance_vip": True})
    try:
        by_string = seam.devices.list(custom_metadata_has={"conformance_room": "101"})
        assert _ids(by_string) == [device_id]
        by_bool = seam.devices.list(custom_metadata_has={"conformance_vip": True})
        assert _ids(by_bool) == [device_id]
        both = seam.devices.list(
            custom_metadata_has={"conformance_room": "101", "conformance_vip": True})
        assert _ids(both) == [device_id]
        assert seam.devices.list(custom_metadata_has={"conformance_room": "102"}) == []
        assert seam.devices.list(custom_metadata_has={"conformance_vip": False}) == []
    finally:
        seam.devices.update(device_id=device_id,
                            custom_metadata={"conformance_room": NULL, "conformance_vip": NULL})


def test_list_search_matches_display_name(seam: Seam, ids: dict[str, str]) -> None:
    devices = seam.devices.list(search="bathroom")
    assert _ids(devices) == [ids["schlage_device_1"]]
    assert seam.devices.list(search="no device is called this") == []


def test_list_limit_caps_the_page_and_reports_more(seam: Seam) -> None:
    page = seam.devices.list(limit=3)
    assert _ids(page) == _ids(seam.devices.list())[:3]
    assert page.pagination["has_next_page"] is True
    assert page.pagination["next_page_cursor"]


# -------------------------------------------------------------------------------- pagination


def test_paginator_walks_every_device_once_in_list_order(seam: Seam) -> None:
    everything = _ids(seam.devices.list())
    assert len(everything) > 6, "enough devices for several pages"
    paginator = seam.create_paginator(seam.devices.list, {"limit": 3})
    walked = [d.device_id for d in paginator.flatten()]
    assert walked == everything
    assert len(set(walked)) == len(walked)


def test_last_page_has_no_cursor(seam: Seam) -> None:
    paginator = seam.create_paginator(seam.devices.list, {"limit": 3})
    _, pagination = paginator.first_page()
    while pagination.has_next_page:
        _, pagination = paginator.next_page(pagination.next_page_cursor)
    assert pagination.next_page_cursor is None
    assert pagination.next_page_url is None


def test_next_page_url_fetches_the_next_page(seam: Seam, server: LockhubServer) -> None:
    paginator = seam.create_paginator(seam.devices.list, {"limit": 3})
    _, pagination = paginator.first_page()
    second, _ = paginator.next_page(pagination.next_page_cursor)
    assert pagination.next_page_url.startswith(server.url + "/devices/list?")
    with raw(server) as http:
        response = http.get(pagination.next_page_url)
    assert response.status_code == 200
    assert [d["device_id"] for d in response.json()["devices"]] == _ids(second)


def test_cursor_reused_with_other_parameters_is_rejected(seam: Seam) -> None:
    cursor = seam.devices.list(limit=3).pagination["next_page_cursor"]
    with pytest.raises(SeamHttpApiError) as exc:
        seam.devices.list(limit=3, manufacturer="august", page_cursor=cursor)
    assert exc.value.code == "mismatched_page_parameters"
    assert exc.value.status_code == 400


# ------------------------------------------------------------------------------------- get


def test_get_by_id_returns_the_listed_device(seam: Seam, ids: dict[str, str]) -> None:
    device = seam.devices.get(device_id=ids["august_device_2"])
    assert device.device_id == ids["august_device_2"]
    listed = seam.devices.list(device_ids=[ids["august_device_2"]])[0]
    assert device == listed


def test_get_by_name(seam: Seam, ids: dict[str, str]) -> None:
    device = seam.devices.get(name="Bathroom Door")
    assert device.device_id == ids["schlage_device_1"]
    assert device.display_name == "Bathroom Door"


def test_get_of_another_workspaces_device_is_not_found(
    other_seam: Seam, ids: dict[str, str]
) -> None:
    with pytest.raises(SeamHttpApiError) as exc:
        other_seam.devices.get(device_id=ids["august_device_1"])
    assert exc.value.code == "device_not_found"
    assert exc.value.status_code == 404


# ----------------------------------------------------------------------------------- update


def test_update_name_renames_and_null_restores_the_provider_name(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["igloohome_device_2"]
    before = seam.devices.get(device_id=device_id)
    appearance = before.properties.appearance.name
    seam.devices.update(device_id=device_id, name="Conformance Key Box")
    try:
        renamed = seam.devices.get(device_id=device_id)
        assert renamed.display_name == "Conformance Key Box"
        assert renamed.nickname == "Conformance Key Box"
        assert renamed.properties.name == "Conformance Key Box"
        assert renamed.properties.appearance.name == appearance
        assert seam.devices.list(search="Conformance Key Box")[0].device_id == device_id
    finally:
        seam.devices.update(device_id=device_id, name=NULL)
    restored = seam.devices.get(device_id=device_id)
    assert restored.display_name == appearance
    assert restored.nickname is None


def test_update_custom_metadata_merges_and_null_removes_a_key(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["igloohome_device_1"]
    seam.devices.update(device_id=device_id,
                        custom_metadata={"conformance_a": "1", "conformance_b": "2"})
    try:
        assert dict(seam.devices.get(device_id=device_id).custom_metadata) == {
            "conformance_a": "1", "conformance_b": "2"}
        seam.devices.update(device_id=device_id, custom_metadata={"conformance_a": NULL})
        assert dict(seam.devices.get(device_id=device_id).custom_metadata) == {
            "conformance_b": "2"}
        seam.devices.update(device_id=device_id, custom_metadata={"conformance_c": True})
        assert dict(seam.devices.get(device_id=device_id).custom_metadata) == {
            "conformance_b": "2", "conformance_c": True}
        seam.devices.update(device_id=device_id, custom_metadata={"conformance_b": ""})
        assert dict(seam.devices.get(device_id=device_id).custom_metadata) == {
            "conformance_c": True}
    finally:
        seam.devices.update(device_id=device_id, custom_metadata={
            "conformance_a": NULL, "conformance_b": NULL, "conformance_c": NULL})
    assert dict(seam.devices.get(device_id=device_id).custom_metadata) == {}


def test_unmanaged_device_moves_to_unmanaged_routes_and_back(
    seam: Seam, ids: dict[str, str]
) -> None:
    device_id = ids["nuki_device_1"]
    seam.devices.update(device_id=device_id, is_managed=False)
    try:
        assert device_id not in _ids(seam.devices.list())
        assert device_id not in _ids(seam.locks.list())
        with pytest.raises(SeamHttpApiError) as exc:
            seam.devices.get(device_id=device_id)
        assert exc.value.code == "device_not_found"

        unmanaged = seam.devices.unmanaged.list()
        assert device_id in _ids(unmanaged)
        device = seam.devices.unmanaged.get(device_id=device_id)
        assert device.device_id == device_id
        assert device.is_managed is False
        assert device.device_type == "nuki_lock"
        assert seam.devices.unmanaged.list(manufacturer="nuki")[0].device_id == device_id
    finally:
        seam.devices.unmanaged.update(device_id=device_id, is_managed=True)
    assert seam.devices.get(device_id=device_id).is_managed is True
    assert device_id not in _ids(seam.devices.unmanaged.list())
    with pytest.raises(SeamHttpApiError) as exc:
        seam.devices.unmanaged.get(device_id=device_id)
    assert exc.value.code == "device_not_found"


# ------------------------------------------------------------------------------------ locks


def test_locks_list_returns_the_managed_locks(seam: Seam) -> None:
    locks = seam.locks.list()
    devices = seam.devices.list()
    # Every lock, and only locks: thermostats and noise sensors have their own lists.
    assert _ids(locks) == _ids([d for d in devices if "lock" in d.capabilities_supported])
    assert {"thermostat", "noise_detection"} <= {c for d in devices
                                                 for c in d.capabilities_supported}
    ttlocks = seam.locks.list(manufacturer="ttlock")
    assert len(ttlocks) == 3
    assert {d.device_type for d in ttlocks} == {"ttlock_lock"}
    assert _ids(seam.locks.list(device_type="wyze_lock")) == _ids(
        seam.devices.list(device_type="wyze_lock"))


def test_locks_get_matches_devices_get(seam: Seam, ids: dict[str, str]) -> None:
    by_id = seam.locks.get(device_id=ids["yale_device_1"])
    assert by_id == seam.devices.get(device_id=ids["yale_device_1"])
    assert seam.locks.get(name="Bathroom Door").device_id == ids["schlage_device_1"]


def test_locks_get_answers_under_device_and_lock(server: LockhubServer,
                                                 ids: dict[str, str]) -> None:
    # Seam's spec requires both keys; the Python SDK reads one, other clients the other.
    with raw(server) as http:
        body = http.post("/locks/get", json={"device_id": ids["yale_device_1"]}).json()
    assert body["lock"] == body["device"]
    assert body["device"]["device_id"] == ids["yale_device_1"]


# ------------------------------------------------------------------------- device providers


def test_list_device_providers_covers_the_seeded_brands(seam: Seam) -> None:
    providers = seam.devices.list_device_providers()
    names = {p.device_provider_name for p in providers}
    assert {"august", "schlage", "ttlock", "wyze", "yale", "kwikset", "igloohome", "nuki",
            "smartthings"} <= names
    for provider in providers:
        assert provider.display_name
        assert provider.provider_categories


def test_thermostat_providers_say_what_their_thermostats_can_do(seam: Seam) -> None:
    thermostats = seam.devices.list_device_providers(provider_category="thermostats")
    assert {p.device_provider_name for p in thermostats} == {
        "ecobee", "nest", "honeywell_resideo", "sensi"}
    for provider in thermostats:
        assert (provider.can_hvac_heat, provider.can_turn_off_hvac) == (True, True)
        assert provider.can_run_thermostat_programs is False
    sensors = seam.devices.list_device_providers(provider_category="noise_sensors")
    assert {p.device_provider_name for p in sensors} == {"minut", "noiseaware"}
    assert all(p.can_hvac_heat is None for p in sensors)


def test_list_device_providers_filters_by_category(seam: Seam) -> None:
    everything = seam.devices.list_device_providers()
    acs = seam.devices.list_device_providers(provider_category="access_control_systems")
    assert acs, "some access control systems"
    assert all("access_control_systems" in p.provider_categories for p in acs)
    expected = {p.device_provider_name for p in everything
                if "access_control_systems" in p.provider_categories}
    assert {p.device_provider_name for p in acs} == expected
    assert len(acs) < len(everything)


# ------------------------------------------------------------------------------ object shape


def _required(schema: dict[str, Any]) -> set[str]:
    required = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        required |= _required(part)
    return required


def _property(schema: dict[str, Any], name: str) -> dict[str, Any]:
    if name in schema.get("properties", {}):
        return schema["properties"][name]
    for part in schema.get("allOf", []):
        if name in part.get("properties", {}) or "allOf" in part:
            try:
                return _property(part, name)
            except KeyError:
                continue
    raise KeyError(name)


def test_devices_carry_every_field_the_spec_requires(server: LockhubServer) -> None:
    spec = json.loads(SPEC_PATH.read_text())
    device_schema = spec["components"]["schemas"]["device"]
    properties_schema = _property(device_schema, "properties")
    with raw(server) as http:
        devices = http.get("/devices/list").json()["devices"]
    assert devices
    for device in devices:
        missing = _required(device_schema) - set(device)
        assert not missing, (device["device_id"], missing)
        props = device["properties"]
        missing = _required(properties_schema) - set(props)
        assert not missing, (device["device_id"], missing)
        for nested in ("appearance", "model"):
            missing = _required(_property(properties_schema, nested)) - set(props[nested])
            assert not missing, (device["device_id"], nested, missing)
        for error in device["errors"]:
            assert {"error_code", "message", "created_at"} <= set(error)
        for warning in device["warnings"]:
            assert {"warning_code", "message", "created_at"} <= set(warning)


# ---------------------------------------------------------------- capabilities from the model


def test_wyze_lock_bolt_cannot_lock_or_unlock_remotely(seam: Seam) -> None:
    bolt = next(d for d in seam.devices.list(manufacturer="wyze")
                if d.properties.model.display_name == "Wyze Lock Bolt")
    assert bolt.can_remotely_lock is False
    assert bolt.can_remotely_unlock is False
    gateway_lock = next(d for d in seam.devices.list(manufacturer="wyze")
                        if d.properties.model.display_name == "Wyze Lock")
    assert gateway_lock.can_remotely_lock is True
    assert gateway_lock.can_remotely_unlock is True


def test_ttlock_with_remote_unlock_disabled_warns_and_cannot_unlock(seam: Seam) -> None:
    ttlocks = seam.devices.list(manufacturer="ttlock")
    disabled = [d for d in ttlocks if d.can_remotely_unlock is False]
    assert len(disabled) == 1
    device = disabled[0]
    assert device.can_remotely_lock is True
    assert "ttlock_lock_gateway_unlocking_not_enabled" in {
        w.warning_code for w in device.warnings}
    for other in ttlocks:
        if other.device_id != device.device_id:
            assert other.can_remotely_unlock is True
            assert not [w for w in other.warnings
                        if w.warning_code == "ttlock_lock_gateway_unlocking_not_enabled"]


def test_offline_device_reports_online_false_and_device_offline(
    seam: Seam, ids: dict[str, str]
) -> None:
    device = seam.devices.get(device_id=ids["august_device_3"])
    assert device.properties.online is False
    assert [e.error_code for e in device.errors] == ["device_offline"]
    assert device.errors[0].is_device_error is True
    online = seam.devices.get(device_id=ids["august_device_1"])
    assert online.properties.online is True
    assert online.errors == []


def test_device_behind_a_disconnected_hub_reports_hub_disconnected(
    seam: Seam, ids: dict[str, str]
) -> None:
    device = seam.devices.get(device_id=ids["yale_device_3"])
    assert device.properties.online is False
    assert [e.error_code for e in device.errors] == ["hub_disconnected"]


def test_filters_on_resources_lockhub_does_not_have_match_no_device(seam: Seam) -> None:
    assert seam.devices.list()
    assert seam.devices.list(space_id="a-space") == []
    assert seam.devices.list(customer_key="a-customer") == []
    assert seam.locks.list(customer_key="a-customer") == []
