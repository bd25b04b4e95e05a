"""Connected accounts through the official SDK: read, update, sync, simulated disconnection
(account, devices and codes show it; actions fail) and deletion (everything under the account
goes, with deleted events; PINs stay on the locks)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from seam import Seam
from seam.exceptions import SeamActionAttemptFailedError, SeamHttpApiError

from tests.conformance.helpers import EPOCH, FAKE_KEY, wait_until
from tests.databases import sql
from tests.server import LockhubServer, start_server

JOHN = "john_connected_account_id"


@pytest.fixture
def lockhub(tmp_path) -> Iterator[LockhubServer]:  # type: ignore[no-untyped-def]
    server = start_server(tmp_path, env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"})
    yield server
    server.stop()


@pytest.fixture
def seam(lockhub: LockhubServer) -> Seam:
    return Seam(api_key=FAKE_KEY, endpoint=lockhub.url)


def test_get_list_update_and_paginate(seam: Seam) -> None:
    john = seam.connected_accounts.get(connected_account_id=JOHN)
    assert john.account_type == "august" and john.account_type_display_name == "August"
    assert seam.connected_accounts.get(email="john@example.com").connected_account_id == JOHN
    everything = seam.connected_accounts.list()
    paged = seam.create_paginator(seam.connected_accounts.list, {"limit": 2}).flatten_to_list()
    assert [a.connected_account_id for a in paged] == [a.connected_account_id for a in everything]
    seam.connected_accounts.update(connected_account_id=JOHN, display_name="John's August",
                                   custom_metadata={"unit": "12B"})
    john = seam.connected_accounts.get(connected_account_id=JOHN)
    assert (john.display_name, john.custom_metadata) == ("John's August", {"unit": "12B"})
    assert [a.connected_account_id for a in seam.connected_accounts.list(
        custom_metadata_has={"unit": "12B"})] == [JOHN]
    with pytest.raises(SeamHttpApiError) as missing:
        seam.connected_accounts.get(connected_account_id="no-such-account")
    assert missing.value.code == "connected_account_not_found"


def test_disconnection_reaches_devices_codes_and_actions_until_reconnected(
    seam: Seam, lockhub: LockhubServer,
) -> None:
    code = seam.access_codes.create(device_id="august_device_1", code="5831", name="Guest")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set")
    seam.connected_accounts.simulate.disconnect(connected_account_id=JOHN)

    account = seam.connected_accounts.get(connected_account_id=JOHN)
    assert [e.error_code for e in account.errors] == ["account_disconnected"]
    device = seam.devices.get(device_id="august_device_1")
    assert "account_disconnected" in {e.error_code for e in device.errors}
    assert seam.access_codes.get(access_code_id=code.access_code_id).status == "unknown"
    assert seam.events.list(since=EPOCH, connected_account_id=JOHN,
                            event_types=["connected_account.disconnected"])
    with pytest.raises(SeamActionAttemptFailedError) as failed:
        seam.locks.unlock_door(device_id="august_device_1")
    assert failed.value.code == "account_disconnected"

    # Signing in again (what a new Connect Webview does) restores the same account.
    _sign_in_again(lockhub)
    assert seam.connected_accounts.get(connected_account_id=JOHN).errors == []
    assert seam.devices.get(device_id="august_device_1").errors == []
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set")


def _sign_in_again(lockhub: LockhubServer) -> None:
    """Reconnect john's August account the way a Connect Webview login would."""
    import asyncio

    from lockhub.config import Settings
    from lockhub.services.connected_accounts import connect_account
    from lockhub.services.runtime import build_runtime

    async def run() -> None:
        rt = build_runtime(Settings(database_url=lockhub.database_url))
        try:
            await connect_account(rt, "seed_workspace_1", "august", {
                "email": "john@example.com", "password": "1234", "two_factor_code": "123456"})
        finally:
            await rt.close()

    asyncio.run(run())


def test_deleting_an_account_removes_its_devices_and_codes_but_not_the_pins(
    seam: Seam, lockhub: LockhubServer,
) -> None:
    code = seam.access_codes.create(device_id="august_device_2", code="6042", name="Guest")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set")
    seam.connected_accounts.delete(connected_account_id=JOHN)
    with pytest.raises(SeamHttpApiError):
        seam.connected_accounts.get(connected_account_id=JOHN)
    with pytest.raises(SeamHttpApiError) as gone:
        seam.devices.get(device_id="august_device_2")
    assert gone.value.code == "device_not_found"
    with pytest.raises(SeamHttpApiError):
        seam.access_codes.get(access_code_id=code.access_code_id)
    types = {e.event_type for e in seam.events.list(since=EPOCH, event_types=[
        "connected_account.deleted", "device.deleted", "access_code.deleted"])}
    assert types == {"connected_account.deleted", "device.deleted", "access_code.deleted"}
    # Nothing was taken off the hardware: signing in again imports the locks anew, and the
    # back door still holds the PIN.
    _sign_in_again(lockhub)
    back_door = next(d for d in seam.devices.list(manufacturer="august")
                     if d.properties.appearance.name == "BACK DOOR")
    assert back_door.connected_account_id != JOHN  # a new account: the old one was deleted
    with httpx.Client(base_url=lockhub.url,
                      headers={"Authorization": f"Bearer {FAKE_KEY}"}) as http:
        on_lock = http.get("/_lockhub/sandbox/devices/list_codes_on_lock",
                           params={"device_id": back_door.device_id}).json()["codes_on_lock"]
    assert "6042" in {c["code"] for c in on_lock}


def test_deleting_a_device_removes_it_and_its_codes_until_a_sign_in_finds_it(
    seam: Seam, lockhub: LockhubServer,
) -> None:
    """Seam's deprecated /devices/delete (not in the pinned SDK, so sent raw)."""
    code = seam.access_codes.create(device_id="august_device_2", code="7053", name="Guest")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set")
    with httpx.Client(base_url=lockhub.url,
                      headers={"Authorization": f"Bearer {FAKE_KEY}"}) as http:
        assert http.post("/devices/delete", json={"device_id": "august_device_2"}).json() == {
            "ok": True}
        again = http.post("/devices/delete", json={"device_id": "august_device_2"})
        assert (again.status_code, again.json()["error"]["type"]) == (404, "device_not_found")
    with pytest.raises(SeamHttpApiError) as gone:
        seam.devices.get(device_id="august_device_2")
    assert gone.value.code == "device_not_found"
    with pytest.raises(SeamHttpApiError):
        seam.access_codes.get(access_code_id=code.access_code_id)
    deleted = seam.events.list(since=EPOCH, event_types=["device.deleted", "access_code.deleted"])
    assert {(e.event_type, e.device_id) for e in deleted} == {
        ("device.deleted", "august_device_2"), ("access_code.deleted", "august_device_2")}
    assert seam.connected_accounts.get(connected_account_id=JOHN).errors == []
    # The lock itself is still there, PIN included: signing in again finds it.
    _sign_in_again(lockhub)
    back_door = next(d for d in seam.devices.list(connected_account_id=JOHN)
                     if d.properties.appearance.name == "BACK DOOR")
    assert back_door.device_id != "august_device_2"
    with httpx.Client(base_url=lockhub.url,
                      headers={"Authorization": f"Bearer {FAKE_KEY}"}) as http:
        on_lock = http.get("/_lockhub/sandbox/devices/list_codes_on_lock",
                           params={"device_id": back_door.device_id}).json()["codes_on_lock"]
    assert "7053" in {c["code"] for c in on_lock}


def test_sync_reads_device_state_back(seam: Seam, lockhub: LockhubServer) -> None:
    # The lock's battery drains on the hardware side, which lockhub has not read yet.
    database = lockhub.database_url
    provider_id = _provider_device_id(database, "august_device_1")
    sql(database, "UPDATE sandbox_devices SET battery_level = 0.12 "
        "WHERE sandbox_device_id = :id", {"id": provider_id})
    assert seam.devices.get(device_id="august_device_1").properties.battery_level != 0.12

    seam.connected_accounts.sync(connected_account_id=JOHN)
    assert seam.devices.get(device_id="august_device_1").properties.battery_level == 0.12
    assert seam.events.list(since=EPOCH, device_id="august_device_1",
                            event_types=["device.low_battery"])


def _provider_device_id(database: str, device_id: str) -> str:
    [(provider_id,)] = sql(database, "SELECT provider_device_id FROM devices "
                           "WHERE device_id = :id", {"id": device_id})
    return provider_id
