"""What the Python SDK's own test suite does against Seam's fake server, done against lockhub.

Devices acted on here (and nowhere else): august_device_1 (pending vs waited unlock) and
august_device_2 (attempts rewritten through /_fake/update_action_attempt).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from seam import (
    Seam,
    SeamActionAttemptFailedError,
    SeamActionAttemptTimeoutError,
    SeamHttpApiError,
)

from tests.conformance.helpers import OTHER_KEY, OTHER_WORKSPACE, wait_until
from tests.server import LockhubServer


@pytest.fixture(scope="module")
def default_seed(server: LockhubServer) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/_fake/default_seed")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def fake_seam(server: LockhubServer, default_seed: dict[str, Any]) -> Seam:
    """The client exactly as the SDK's test fixture builds it: from the published seed."""
    return Seam(api_key=default_seed["seam_apikey1_token"], endpoint=server.url)


def _overwrite(server: LockhubServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}/_fake/update_action_attempt", json=body)


def test_health_answers_without_credentials(server: LockhubServer) -> None:
    for path in ("/health", "/health/get_health"):
        response = httpx.get(f"{server.url}{path}")
        assert response.status_code == 200
        body = response.json()
        assert body["ok"] is True
        assert isinstance(body["msg"], str) and body["msg"]


def test_default_seed_publishes_the_fakes_ids_and_tokens(default_seed: dict[str, Any]) -> None:
    assert default_seed["seam_apikey1_token"] == "seam_apikey1_token"
    assert default_seed["seam_apikey2_token"] == "seam_apikey2_token"
    assert default_seed["seed_workspace_1"] == "seed_workspace_1"
    assert default_seed["seed_workspace_2"] == "seed_workspace_2"
    assert default_seed["seam_at1_token"].startswith("seam_at1_")
    assert default_seed["john_user_id"] == "john_user_id"
    assert default_seed["august_device_1"] == "august_device_1"
    assert default_seed["august_device_2"] == "august_device_2"
    assert default_seed["john_connected_account_id"] == "john_connected_account_id"


def test_default_seed_ids_and_tokens_work(
    fake_seam: Seam, server: LockhubServer, default_seed: dict[str, Any]
) -> None:
    assert fake_seam.workspaces.get().workspace_id == default_seed["seed_workspace_1"]
    front = fake_seam.devices.get(device_id=default_seed["august_device_1"])
    assert front.display_name == "Front Door"
    assert front.connected_account_id == default_seed["john_connected_account_id"]
    assert front.can_remotely_unlock is True
    back = fake_seam.devices.get(device_id=default_seed["august_device_2"])
    assert back.display_name == "Back Door"
    other = Seam(api_key=default_seed["seam_apikey2_token"], endpoint=server.url)
    assert other.workspaces.get().workspace_id == default_seed["seed_workspace_2"]
    listed = {d.device_id for d in fake_seam.devices.list()}
    # The fake's locks, thermostat and noise sensor.
    assert listed == {default_seed[k] for k in ("august_device_1", "august_device_2",
                                                "schlage_device_1", "ecobee_device_1",
                                                "minut_device_1")}
    # Its locks alone, through /locks/list.
    assert {d.device_id for d in fake_seam.locks.list()} == {
        default_seed[k] for k in ("august_device_1", "august_device_2", "schlage_device_1")}


def test_seed_workspace_1_holds_exactly_the_fakes_seed(fake_seam: Seam,
                                                       default_seed: dict[str, Any]) -> None:
    """Suites count what the fake seeds: three accounts (two a page), three locks, a
    thermostat and a noise sensor, one authorized webview, one event, one user identity, one
    client session."""
    paged = fake_seam.create_paginator(fake_seam.connected_accounts.list,
                                       {"limit": 2}).flatten_to_list()
    assert [a.connected_account_id for a in paged] == [
        default_seed["john_connected_account_id"], default_seed["jane_connected_account_id"],
        default_seed["john_assa_cs_connected_account_id"]]
    assert [a.account_type for a in paged] == ["august", "schlage",
                                               "assa_abloy_credential_service"]
    assert {d.display_name for d in fake_seam.devices.list()} == {
        "Front Door", "Back Door", "Bathroom Door", "Thermostat 1", "Minut Sensor 1"}
    webviews = fake_seam.connect_webviews.list()
    assert [(w.status, w.connected_account_id, w.accepted_providers) for w in webviews] == [
        ("authorized", default_seed["john_connected_account_id"], ["august"])]
    first = fake_seam.events.list(since="2000-01-01T00:00:00Z", event_type="device.connected")
    assert (first[-1].device_id, first[-1].connected_account_id) == (
        default_seed["august_device_1"], default_seed["john_connected_account_id"])
    identity = fake_seam.user_identities.get(user_identity_id=default_seed["john_user_identity_id"])
    assert identity.user_identity_key == default_seed["john_user_identifier_key"]
    sessions = fake_seam.client_sessions.list(
        user_identifier_key=default_seed["john_user_identifier_key"])
    assert [s.token for s in sessions] == [default_seed["seam_cst1_token"]]
    assert sessions[0].connect_webview_ids == [webviews[0].connect_webview_id]


def test_unlock_is_pending_without_waiting_and_success_with_waiting(
    fake_seam: Seam, default_seed: dict[str, Any]
) -> None:
    device_id = default_seed["august_device_1"]
    pending = fake_seam.locks.unlock_door(device_id=device_id, wait_for_action_attempt=False)
    assert pending.status == "pending"
    wait_until(lambda: fake_seam.action_attempts.get(
        action_attempt_id=pending.action_attempt_id, wait_for_action_attempt=False,
    ).status == "success", message="the unlock to succeed")

    waited = fake_seam.locks.unlock_door(device_id=device_id)
    assert waited.status == "success"
    assert waited.action_attempt_id != pending.action_attempt_id
    fake_seam.locks.lock_door(device_id=device_id)
    assert fake_seam.devices.get(device_id=device_id).properties.locked is True


def test_hook_forcing_an_error_makes_the_sdk_raise_the_failure(
    fake_seam: Seam, server: LockhubServer, default_seed: dict[str, Any]
) -> None:
    attempt = fake_seam.locks.unlock_door(device_id=default_seed["august_device_2"])
    assert attempt.status == "success"

    response = _overwrite(server, {
        "action_attempt_id": attempt.action_attempt_id, "status": "error",
        "error": {"type": "uncategorized_error", "message": "Something went wrong"}})
    assert response.status_code == 200
    assert response.json()["action_attempt"]["status"] == "error"

    with pytest.raises(SeamActionAttemptFailedError) as exc:
        fake_seam.action_attempts.get(action_attempt_id=attempt.action_attempt_id)
    assert exc.value.code == "uncategorized_error"
    assert str(exc.value) == "Something went wrong"
    assert exc.value.action_attempt.action_attempt_id == attempt.action_attempt_id


def test_hook_holding_an_attempt_pending_makes_the_sdk_time_out(
    fake_seam: Seam, server: LockhubServer, default_seed: dict[str, Any]
) -> None:
    # Take an attempt that has already settled, so no engine work can race the overwrite.
    attempt = fake_seam.locks.lock_door(device_id=default_seed["august_device_2"])
    assert attempt.status == "success"
    response = _overwrite(server, {"action_attempt_id": attempt.action_attempt_id,
                                   "status": "pending"})
    assert response.json()["action_attempt"]["status"] == "pending"

    with pytest.raises(SeamActionAttemptTimeoutError) as exc:
        fake_seam.action_attempts.get(
            action_attempt_id=attempt.action_attempt_id,
            wait_for_action_attempt={"timeout": 0.5, "polling_interval": 0.1})
    assert exc.value.action_attempt.status == "pending"

    _overwrite(server, {"action_attempt_id": attempt.action_attempt_id, "status": "success",
                        "result": {"was_confirmed_by_device": False}})
    settled = fake_seam.action_attempts.get(action_attempt_id=attempt.action_attempt_id)
    assert settled.status == "success"
    assert settled.result.was_confirmed_by_device is False


def test_hook_on_an_unknown_attempt_is_not_found(server: LockhubServer) -> None:
    response = _overwrite(server, {"action_attempt_id": "00000000-0000-4000-8000-000000000000",
                                   "status": "success"})
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "action_attempt_not_found"


def _outage(server: LockhubServer, workspace_id: str, routes: list[str]) -> httpx.Response:
    return httpx.post(f"{server.url}/_fake/simulate_workspace_outage",
                      json={"workspace_id": workspace_id, "routes": routes})


def test_a_simulated_outage_fails_those_routes_of_that_workspace_until_it_ends(
    server: LockhubServer, fake_seam: Seam, default_seed: dict[str, Any],
) -> None:
    workspace_id = default_seed["seed_workspace_1"]
    device_id = fake_seam.devices.list()[0].device_id
    assert _outage(server, workspace_id, ["/devices/list", "/locks/list"]).status_code == 200
    try:
        for call in (fake_seam.devices.list, fake_seam.locks.list):
            with pytest.raises(SeamHttpApiError) as failed:
                call()
            assert failed.value.status_code == 503
            assert failed.value.code == "service_unavailable"
            assert "simulated outage" in str(failed.value)
        # Other routes of the workspace, and the same route of another workspace, still answer.
        assert fake_seam.devices.get(device_id=device_id).device_id == device_id
        Seam(api_key=OTHER_KEY, endpoint=server.url).devices.list()
    finally:
        ended = httpx.post(f"{server.url}/_fake/simulate_workspace_outage_recovery",
                           json={"workspace_id": workspace_id})
    assert ended.status_code == 200
    assert any(d.device_id == device_id for d in fake_seam.devices.list())


def test_an_outage_with_no_routes_ends_it(server: LockhubServer, fake_seam: Seam,
                                          default_seed: dict[str, Any]) -> None:
    workspace_id = default_seed["seed_workspace_1"]
    assert _outage(server, workspace_id, ["/devices/list"]).status_code == 200
    assert _outage(server, workspace_id, []).status_code == 200
    assert fake_seam.devices.list()


def test_an_outage_of_a_workspace_that_is_not_a_sandbox_is_not_found(
    server: LockhubServer,
) -> None:
    for workspace_id in (OTHER_WORKSPACE, "no_such_workspace"):
        response = _outage(server, workspace_id, ["/devices/list"])
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "workspace_not_found"
    Seam(api_key=OTHER_KEY, endpoint=server.url).devices.list()


def test_the_seeded_client_session_sees_johns_account(server: LockhubServer,
                                                      default_seed: dict[str, Any],
                                                      fake_seam: Seam) -> None:
    """The fake seeds `seam_cst1_token` for john's user identity and connected account; suites
    use it as a browser would."""
    token = default_seed["seam_cst1_token"]
    with httpx.Client(base_url=server.url,
                      headers={"authorization": f"Bearer {token}"}) as browser:
        session = browser.post("/client_sessions/get", json={}).json()["client_session"]
        devices = browser.post("/devices/list", json={}).json()["devices"]
    assert session["user_identifier_key"] == default_seed["john_user_identifier_key"]
    assert session["user_identity_ids"] == [default_seed["john_user_identity_id"]]
    assert session["connected_account_ids"] == [default_seed["john_connected_account_id"]]
    johns = {d.device_id for d in fake_seam.devices.list(
        connected_account_id=default_seed["john_connected_account_id"])}
    assert {d["device_id"] for d in devices} == johns
    assert session["device_count"] == len(johns)


def test_a_completed_webview_grants_its_account_to_the_first_client_session(
        server: LockhubServer, default_seed: dict[str, Any], fake_seam: Seam) -> None:
    """The fake's /_fake/complete_connect_webview adds the new account to the workspace's first
    client session (the seeded `seam_cst1_token`), so the browser sees the new lock."""
    webview = fake_seam.connect_webviews.create(accepted_providers=["august"])
    completed = httpx.post(f"{server.url}/_fake/complete_connect_webview",
                           json={"connect_webview_id": webview.connect_webview_id})
    assert completed.status_code == 200, completed.text
    account_id = completed.json()["connect_webview"]["connected_account_id"]
    new_locks = {d.device_id for d in fake_seam.devices.list(connected_account_id=account_id)}
    token = default_seed["seam_cst1_token"]
    with httpx.Client(base_url=server.url,
                      headers={"authorization": f"Bearer {token}"}) as browser:
        session = browser.post("/client_sessions/get", json={}).json()["client_session"]
        seen = {d["device_id"] for d in browser.post("/devices/list", json={}).json()["devices"]}
    assert account_id in session["connected_account_ids"]
    assert new_locks and new_locks <= seen


def test_the_sdks_thermostat_test_runs_on_the_fakes_ecobee(
        fake_seam: Seam, default_seed: dict[str, Any]) -> None:
    """The SDK suite's thermostat test (seamapi/python d0e7822,
    test/thermostats/test_thermostats.py), as far as SDK 3.18.0 has its methods."""
    thermostat = fake_seam.thermostats.list()[0]
    assert thermostat.device_id == default_seed["ecobee_device_1"]
    assert thermostat.device_type == "ecobee_thermostat"
    assert thermostat.display_name == "Thermostat 1"
    device_id = thermostat.device_id

    def setting() -> Any:
        return fake_seam.devices.get(device_id=device_id).properties.current_climate_setting

    fake_seam.thermostats.cool(device_id=device_id, cooling_set_point_celsius=27)
    assert setting().hvac_mode_setting == "cool"
    assert round(setting().cooling_set_point_celsius) == 27
    fake_seam.thermostats.heat(device_id=device_id, heating_set_point_celsius=18)
    assert round(setting().heating_set_point_celsius) == 18
    fake_seam.thermostats.heat_cool(device_id=device_id, heating_set_point_celsius=19,
                                    cooling_set_point_celsius=28)
    assert setting().hvac_mode_setting == "heat_cool"
    assert (round(setting().heating_set_point_celsius),
            round(setting().cooling_set_point_celsius)) == (19, 28)
    fake_seam.thermostats.off(device_id=device_id)
    assert setting().hvac_mode_setting == "off"
    fake_seam.thermostats.set_fan_mode(device_id=device_id, fan_mode="on",
                                       fan_mode_setting="auto")
    assert fake_seam.devices.get(device_id=device_id).properties.is_fan_running is True


def test_the_sdks_noise_threshold_test_runs_on_the_fakes_minut(
        fake_seam: Seam, default_seed: dict[str, Any]) -> None:
    """The SDK suite's noise-threshold test (seamapi/python 0838f68,
    test/noise_sensors/noise_thresholds/test_noise_thresholds.py)."""
    device_id = default_seed["minut_device_1"]
    device = fake_seam.devices.get(device_id=device_id)
    assert device.properties.noise_level_decibels == 70
    # The fake's threshold is all day, 60 dB: the sensor's 70 dB triggers it.
    assert device.properties.currently_triggering_noise_threshold_ids == ["noise_threshold1"]

    thresholds = fake_seam.noise_sensors.noise_thresholds.list(device_id=device_id)
    assert thresholds[0].name == "builtin_normal_hours"
    assert thresholds[0].noise_threshold_id == "noise_threshold1"
    fake_seam.noise_sensors.noise_thresholds.delete(
        device_id=device_id, noise_threshold_id=thresholds[0].noise_threshold_id)
    created = fake_seam.noise_sensors.noise_thresholds.create(
        device_id=device_id, starts_daily_at="20:00:00[America/Los_Angeles]",
        ends_daily_at="08:00:00[America/Los_Angeles]", noise_threshold_decibels=75)
    assert len(fake_seam.noise_sensors.noise_thresholds.list(device_id=device_id)) == 1
    fake_seam.noise_sensors.noise_thresholds.update(
        device_id=device_id, noise_threshold_id=created.noise_threshold_id,
        noise_threshold_decibels=80)
    assert fake_seam.noise_sensors.noise_thresholds.get(
        noise_threshold_id=created.noise_threshold_id).noise_threshold_decibels == 80
