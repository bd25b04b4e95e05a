"""Seam's /devices/simulate/* routes on sandbox devices: the documented errors, events and
flags, through the official SDK. Each test uses its own server (they change device state)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from seam import Seam
from seam.exceptions import SeamHttpApiError

from tests.conformance.helpers import EPOCH, OTHER_KEY, SANDBOX_KEY, seed_ids, wait_until
from tests.server import LockhubServer, start_server


@pytest.fixture(scope="module")
def lockhub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    server = start_server(tmp_path_factory.mktemp("simulate"),
                          env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"})
    yield server
    server.stop()


@pytest.fixture
def seam(lockhub: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=lockhub.url)


def _events(seam: Seam, device_id: str, event_type: str) -> list:
    return seam.events.list(since=EPOCH, device_id=device_id, event_types=[event_type])


def test_disconnect_then_connect_shows_the_error_events_and_code_status(
        seam: Seam, lockhub: LockhubServer) -> None:
    device = seam.devices.get(device_id=seed_ids(lockhub)["august_device_1"])
    assert device.can_simulate_disconnection and device.can_simulate_connection
    code = seam.access_codes.create(device_id=device.device_id, code="7391", name="Guest")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set")

    seam.devices.simulate.disconnect(device_id=device.device_id)
    offline = seam.devices.get(device_id=device.device_id)
    assert offline.properties.online is False
    assert "device_offline" in {e.error_code for e in offline.errors}
    assert _events(seam, device.device_id, "device.disconnected")
    assert seam.access_codes.get(access_code_id=code.access_code_id).status == "unknown"
    attempt = seam.locks.unlock_door(device_id=device.device_id, wait_for_action_attempt=False)
    settled = wait_until(lambda: (a := seam.action_attempts.get(
        action_attempt_id=attempt.action_attempt_id, wait_for_action_attempt=False)).status
        != "pending" and a)
    assert (settled.status, settled.error.type) == ("error", "device_offline")

    seam.devices.simulate.connect(device_id=device.device_id)
    online = seam.devices.get(device_id=device.device_id)
    assert online.properties.online is True and online.errors == []
    assert _events(seam, device.device_id, "device.connected")
    wait_until(lambda: seam.access_codes.get(access_code_id=code.access_code_id).status == "set")


def test_hub_disconnection_and_removal(seam: Seam, lockhub: LockhubServer) -> None:
    device = seam.devices.get(device_id=seed_ids(lockhub)["august_device_2"])
    assert device.can_simulate_hub_disconnection
    seam.devices.simulate.disconnect_from_hub(device_id=device.device_id)
    assert "hub_disconnected" in {e.error_code for e in
                                  seam.devices.get(device_id=device.device_id).errors}
    seam.devices.simulate.connect_to_hub(device_id=device.device_id)
    assert seam.devices.get(device_id=device.device_id).errors == []

    seam.devices.simulate.remove(device_id=device.device_id)
    removed = seam.devices.get(device_id=device.device_id)
    assert "device_removed" in {e.error_code for e in removed.errors}
    assert _events(seam, device.device_id, "device.removed")


def test_simulations_a_device_cannot_do_are_refused(seam: Seam, lockhub: LockhubServer) -> None:
    ids = seed_ids(lockhub)
    nuki = seam.devices.get(device_id=ids["nuki_device_1"])
    if nuki.can_simulate_paid_subscription:
        seam.devices.simulate.paid_subscription(device_id=nuki.device_id, is_expired=True)
        assert "subscription_required" in {
            e.error_code for e in seam.devices.get(device_id=nuki.device_id).errors}
        assert _events(seam, nuki.device_id, "device.error.subscription_required")
        seam.devices.simulate.paid_subscription(device_id=nuki.device_id, is_expired=False)
        assert seam.devices.get(device_id=nuki.device_id).errors == []
    august = seam.devices.get(device_id=ids["august_device_1"])
    assert not august.can_simulate_paid_subscription
    with pytest.raises(SeamHttpApiError) as refused:
        seam.devices.simulate.paid_subscription(device_id=august.device_id, is_expired=True)
    assert refused.value.code == "device_cannot_perform_action"


def test_simulations_are_sandbox_only(lockhub: LockhubServer) -> None:
    production = Seam(api_key=OTHER_KEY, endpoint=lockhub.url)
    with pytest.raises(SeamHttpApiError) as refused:
        production.devices.simulate.disconnect(device_id="august_device_1")
    assert refused.value.code == "workspace_not_sandbox"
