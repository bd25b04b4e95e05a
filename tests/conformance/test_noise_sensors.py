"""/noise_sensors/* through the official SDK, against the demo workspace's virtual Minut and
NoiseAware sensors, on a server of the module's own with its sandbox clock frozen (at noon in
Los Angeles, where the sensors are): the noise only rises and falls when a test moves the clock."""

from __future__ import annotations

from typing import Any

import pytest
from seam import Seam, SeamHttpApiError, SeamHttpInvalidInputError

from tests.conformance.helpers import EPOCH, SANDBOX_KEY, raw, sandbox, seed_ids, wait_until
from tests.server import LockhubServer

SENSORS = ("minut_device_1", "minut_device_2", "noiseaware_device_1", "noiseaware_device_2")
NOON_IN_LOS_ANGELES = "2026-07-01T19:00:00Z"


@pytest.fixture(scope="module")
def ids(own_server: LockhubServer) -> dict[str, str]:
    sandbox(own_server, "clock/set", now=NOON_IN_LOS_ANGELES, frozen=True)
    return seed_ids(own_server)


@pytest.fixture
def seam(own_server: LockhubServer, ids: dict[str, str]) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def _triggered(seam: Seam, device_id: str) -> list[Any]:
    return seam.events.list(since=EPOCH, device_id=device_id,
                            event_type="noise_sensor.noise_threshold_triggered")


def test_the_list_serves_noise_sensors_under_both_keys(
        own_server: LockhubServer, seam: Seam, ids: dict[str, str]) -> None:
    listed = seam.noise_sensors.list()
    assert {d.device_id for d in listed} == {ids[k] for k in SENSORS}
    assert all(d.capabilities_supported[0] == "noise_detection" for d in listed)
    assert {d.device_type for d in seam.noise_sensors.list(manufacturer="noiseaware")} == {
        "noiseaware_activity_zone"}
    with raw(own_server) as client:
        body = client.post("/noise_sensors/list", json={}).json()
    assert body["devices"] == body["noise_sensors"] and len(body["devices"]) == len(SENSORS)
    minut = seam.devices.get(device_id=ids["minut_device_1"]).properties
    # A quiet afternoon, below every threshold.
    assert 30 < minut.noise_level_decibels < 45
    assert minut.currently_triggering_noise_threshold_ids == []
    assert minut.minut_metadata.latest_sensor_values.sound.value == minut.noise_level_decibels


def test_a_sensor_comes_with_its_default_thresholds(seam: Seam, ids: dict[str, str]) -> None:
    minut = seam.noise_sensors.noise_thresholds.list(device_id=ids["minut_device_2"])
    assert [(t.name, t.starts_daily_at, t.ends_daily_at, t.noise_threshold_decibels)
            for t in minut] == [("builtin_normal_hours", "07:00:00", "22:00:00", 70),
                                ("builtin_quiet_hours", "22:00:00", "07:00:00", 60)]
    aware = seam.noise_sensors.noise_thresholds.list(device_id=ids["noiseaware_device_2"])
    assert [(t.noise_threshold_nrs, t.noise_threshold_decibels) for t in aware] == [
        (60, 65), (40, 55)]


def _programmed(server: LockhubServer, device_id: str) -> set[str]:
    """The thresholds the sensor has (`is_programmed`, which the SDK does not pass)."""
    with raw(server) as client:
        body = client.post("/noise_sensors/noise_thresholds/list",
                           json={"device_id": device_id, "is_programmed": True}).json()
    return {t["noise_threshold_id"] for t in body["noise_thresholds"]}


def test_thresholds_are_created_changed_and_deleted_through_attempts(
        own_server: LockhubServer, seam: Seam, ids: dict[str, str]) -> None:
    device = ids["minut_device_1"]
    created = seam.noise_sensors.noise_thresholds.create(
        device_id=device, name="Party hours", starts_daily_at="20:00:00[America/Los_Angeles]",
        ends_daily_at="08:00:00[America/Los_Angeles]", noise_threshold_decibels=75)
    assert (created.name, created.noise_threshold_decibels, created.device_id) == (
        "Party hours", 75, device)
    # Listed at once, before the sensor has it.
    listed = seam.noise_sensors.noise_thresholds.list(device_id=device)
    assert created.noise_threshold_id in {t.noise_threshold_id for t in listed}
    got = seam.noise_sensors.noise_thresholds.get(noise_threshold_id=created.noise_threshold_id)
    assert got.starts_daily_at == "20:00:00[America/Los_Angeles]"

    seam.noise_sensors.noise_thresholds.update(
        device_id=device, noise_threshold_id=created.noise_threshold_id,
        noise_threshold_decibels=80)
    assert seam.noise_sensors.noise_thresholds.get(
        noise_threshold_id=created.noise_threshold_id).noise_threshold_decibels == 80
    programmed = wait_until(lambda: created.noise_threshold_id in _programmed(own_server, device)
                            or None)
    assert programmed

    seam.noise_sensors.noise_thresholds.delete(device_id=device,
                                               noise_threshold_id=created.noise_threshold_id)
    assert created.noise_threshold_id not in {
        t.noise_threshold_id for t in seam.noise_sensors.noise_thresholds.list(device_id=device)}
    with pytest.raises(SeamHttpApiError) as gone:
        seam.noise_sensors.noise_thresholds.get(noise_threshold_id=created.noise_threshold_id)
    assert (gone.value.status_code, gone.value.code) == (404, "noise_threshold_not_found")


def test_the_attempts_program_the_sensor_and_name_the_threshold(
        own_server: LockhubServer, ids: dict[str, str]) -> None:
    body = {"device_id": ids["minut_device_2"], "starts_daily_at": "09:00:00",
            "ends_daily_at": "17:00:00", "noise_threshold_decibels": 66, "sync": True}
    with raw(own_server) as client:
        answer = client.post("/noise_sensors/noise_thresholds/create", json=body).json()
    attempt = answer["action_attempt"]
    assert (attempt["action_type"], attempt["status"]) == ("CREATE_NOISE_THRESHOLD", "success")
    assert attempt["result"]["noise_threshold"] == answer["noise_threshold"]
    assert answer["noise_threshold"]["name"] == "Noise Threshold"


def test_noiseaware_thresholds_take_a_risk_score(seam: Seam, ids: dict[str, str]) -> None:
    device = ids["noiseaware_device_1"]
    by_score = seam.noise_sensors.noise_thresholds.create(
        device_id=device, starts_daily_at="22:00:00", ends_daily_at="06:00:00",
        noise_threshold_nrs=50)
    assert (by_score.noise_threshold_nrs, by_score.noise_threshold_decibels) == (50, 60)
    by_level = seam.noise_sensors.noise_thresholds.create(
        device_id=device, starts_daily_at="06:00:00", ends_daily_at="22:00:00",
        noise_threshold_decibels=70)
    assert by_level.noise_threshold_nrs == 70


@pytest.mark.parametrize("body", [
    {"starts_daily_at": "25:00:00", "ends_daily_at": "08:00:00", "noise_threshold_decibels": 70},
    {"starts_daily_at": "20:00:00[Mars/Olympus]", "ends_daily_at": "08:00:00",
     "noise_threshold_decibels": 70},
    {"starts_daily_at": "20:00:00", "ends_daily_at": "08:00:00"},
    {"starts_daily_at": "20:00:00", "ends_daily_at": "08:00:00", "noise_threshold_decibels": 70,
     "noise_threshold_nrs": 40},
    {"starts_daily_at": "20:00:00", "ends_daily_at": "08:00:00", "noise_threshold_decibels": -3},
])
def test_a_threshold_that_makes_no_sense_is_invalid_input(
        seam: Seam, ids: dict[str, str], body: dict[str, Any]) -> None:
    device = ids["minut_device_2"]
    before = seam.noise_sensors.noise_thresholds.list(device_id=device)
    with pytest.raises(SeamHttpInvalidInputError):
        seam.noise_sensors.noise_thresholds.create(device_id=device, **body)
    assert seam.noise_sensors.noise_thresholds.list(device_id=device) == before


def test_threshold_routes_answer_for_noise_sensors_only(seam: Seam, ids: dict[str, str]) -> None:
    with pytest.raises(SeamHttpApiError) as thermostat:
        seam.noise_sensors.noise_thresholds.list(device_id=ids["ecobee_device_1"])
    assert (thermostat.value.status_code, thermostat.value.code) == (404, "device_not_found")
    theirs = seam.noise_sensors.noise_thresholds.list(device_id=ids["minut_device_2"])[0]
    with pytest.raises(SeamHttpApiError) as elsewhere:
        seam.noise_sensors.noise_thresholds.delete(device_id=ids["minut_device_1"],
                                                   noise_threshold_id=theirs.noise_threshold_id)
    assert elsewhere.value.code == "noise_threshold_not_found"


def test_a_disturbance_triggers_the_threshold_then_the_noise_falls_back(
        own_server: LockhubServer, seam: Seam, ids: dict[str, str]) -> None:
    device = ids["minut_device_2"]
    normal = next(t for t in seam.noise_sensors.noise_thresholds.list(device_id=device)
                  if t.name == "builtin_normal_hours")
    seam.noise_sensors.simulate.trigger_noise_threshold(device_id=device)
    props = seam.devices.get(device_id=device).properties
    assert props.noise_level_decibels == normal.noise_threshold_decibels + 10
    assert normal.noise_threshold_id in props.currently_triggering_noise_threshold_ids
    events = _triggered(seam, device)
    assert [(e.noise_threshold_id, e.noise_threshold_name) for e in events] == [
        (normal.noise_threshold_id, "builtin_normal_hours")]
    assert events[0].noise_level_decibels == 80
    # One event per call, even while the threshold is still triggering.
    seam.noise_sensors.simulate.trigger_noise_threshold(device_id=device)
    assert len(_triggered(seam, device)) == 2

    # Five minutes at the peak, then 2 dB a minute: back to the quiet level within 30.
    sandbox(own_server, "clock/advance", seconds=30 * 60)

    def quiet() -> Any:
        now = seam.devices.get(device_id=device).properties
        return now if now.noise_level_decibels < 50 else None
    after = wait_until(quiet)
    assert after.currently_triggering_noise_threshold_ids == []
