"""/thermostats/* through the official SDK, against the demo workspace's virtual thermostats
(ecobee in °F, Nest in °C, a heat-only Sensi, an offline Honeywell), on a server of the module's
own with its sandbox clock frozen so no room warms or cools unless a test moves the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from seam import Seam, SeamActionAttemptFailedError, SeamHttpApiError, SeamHttpInvalidInputError

from tests.conformance.helpers import EPOCH, SANDBOX_KEY, raw, sandbox, seed_ids, wait_until
from tests.server import LockhubServer

THERMOSTATS = ("ecobee_device_1", "ecobee_device_2", "nest_device_1",
               "honeywell_resideo_device_1", "honeywell_resideo_device_2", "sensi_device_1",
               "sensi_device_2")


@pytest.fixture(scope="module")
def ids(own_server: LockhubServer) -> dict[str, str]:
    sandbox(own_server, "clock/freeze")
    return seed_ids(own_server)


@pytest.fixture
def seam(own_server: LockhubServer, ids: dict[str, str]) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def _setting(seam: Seam, device_id: str) -> Any:
    return seam.devices.get(device_id=device_id).properties.current_climate_setting


def _events(seam: Seam, device_id: str, event_type: str) -> list[Any]:
    return seam.events.list(since=EPOCH, device_id=device_id, event_type=event_type)


def test_the_list_serves_thermostats_under_both_keys(
        own_server: LockhubServer, seam: Seam, ids: dict[str, str]) -> None:
    listed = seam.thermostats.list()
    assert {t.device_id for t in listed} == {ids[k] for k in THERMOSTATS}
    assert all(t.capabilities_supported == ["thermostat"] for t in listed)
    assert {t.device_id for t in seam.thermostats.list(manufacturer="ecobee")} == {
        ids["ecobee_device_1"], ids["ecobee_device_2"]}
    assert {t.device_type for t in seam.thermostats.list(device_type="sensi_thermostat")} == {
        "sensi_thermostat"}
    with raw(own_server) as client:
        body = client.post("/thermostats/list", json={}).json()
    assert body["devices"] == body["thermostats"] and len(body["devices"]) == len(THERMOSTATS)
    # Locks stay out of it, thermostats out of /locks/list.
    assert not {d.device_id for d in seam.locks.list()} & {ids[k] for k in THERMOSTATS}


def test_a_thermostat_serves_its_model_its_settings_and_its_flags(
        own_server: LockhubServer, seam: Seam, ids: dict[str, str]) -> None:
    ecobee = seam.devices.get(device_id=ids["ecobee_device_1"])
    assert (ecobee.can_hvac_heat, ecobee.can_hvac_cool, ecobee.can_hvac_heat_cool,
            ecobee.can_turn_off_hvac) == (True, True, True, True)
    assert ecobee.can_run_thermostat_programs is False
    props = ecobee.properties
    assert props.available_hvac_mode_settings == ["off", "heat", "cool", "heat_cool"]
    assert props.available_fan_mode_settings == ["auto", "on"]
    # The limits of Seam's ecobee example, in both units (a delta converts without offset).
    assert (props.min_heating_set_point_fahrenheit, props.max_heating_set_point_fahrenheit) == (
        45, 79)
    assert props.min_heating_set_point_celsius == pytest.approx(7.2222222)
    assert props.min_heating_cooling_delta_fahrenheit == pytest.approx(5)
    assert props.min_heating_cooling_delta_celsius == pytest.approx(2.7777778)
    assert props.temperature_fahrenheit == 64 and props.is_heating is True
    assert {p.climate_preset_key for p in props.available_climate_presets} == {
        "home", "away", "sleep"}
    with raw(own_server) as client:
        served = client.post("/devices/get", json={"device_id": ids["ecobee_device_1"]}).json()
    # No lock properties or flags on a thermostat.
    assert not {"locked", "supported_code_lengths", "code_constraints"} & set(
        served["device"]["properties"])
    assert "can_remotely_unlock" not in served["device"]
    heat_only = seam.devices.get(device_id=ids["sensi_device_2"])
    assert (heat_only.can_hvac_heat, heat_only.can_hvac_cool) == (True, False)


def test_heat_cool_heat_cool_and_off_settle_and_change_the_setting(
        seam: Seam, ids: dict[str, str]) -> None:
    nest = ids["nest_device_1"]  # °C, half-degree steps
    heated = seam.thermostats.heat(device_id=nest, heating_set_point_celsius=21.3)
    assert (heated.action_type, heated.status) == ("SET_HVAC_MODE", "success")
    setting = _setting(seam, nest)
    assert (setting.hvac_mode_setting, setting.heating_set_point_celsius) == ("heat", 21.5)
    assert setting.heating_set_point_fahrenheit == pytest.approx(70.7)
    assert setting.cooling_set_point_celsius is None  # heat uses the heating point only

    seam.thermostats.cool(device_id=nest, cooling_set_point_fahrenheit=77)  # 25 °C
    setting = _setting(seam, nest)
    assert (setting.hvac_mode_setting, setting.cooling_set_point_celsius) == ("cool", 25)

    seam.thermostats.heat_cool(device_id=nest, heating_set_point_celsius=19,
                               cooling_set_point_celsius=24)
    setting = _setting(seam, nest)
    assert (setting.hvac_mode_setting, setting.heating_set_point_celsius,
            setting.cooling_set_point_celsius) == ("heat_cool", 19, 24)

    off = seam.thermostats.off(device_id=nest)
    assert off.status == "success"
    props = seam.devices.get(device_id=nest).properties
    assert props.current_climate_setting.hvac_mode_setting == "off"
    assert (props.is_heating, props.is_cooling) == (False, False)

    adjusted = _events(seam, nest, "thermostat.manually_adjusted")
    assert [(e.method, e.hvac_mode_setting) for e in reversed(adjusted)] == [
        ("seam", "heat"), ("seam", "cool"), ("seam", "heat_cool"), ("seam", "off")]
    assert adjusted[-1].heating_set_point_celsius == 21.5


def test_set_hvac_mode_takes_the_mode_and_the_points_it_uses(
        seam: Seam, ids: dict[str, str]) -> None:
    ecobee = ids["ecobee_device_2"]  # °F, whole degrees
    seam.thermostats.set_hvac_mode(device_id=ecobee, hvac_mode_setting="heat_cool",
                                   heating_set_point_celsius=20, cooling_set_point_celsius=25)
    setting = _setting(seam, ecobee)
    # 20 °C = 68 °F; 25 °C = 77 °F: stored on the ecobee's whole degrees.
    assert (setting.heating_set_point_fahrenheit, setting.cooling_set_point_fahrenheit) == (68, 77)
    seam.thermostats.set_hvac_mode(device_id=ecobee, hvac_mode_setting="cool",
                                   cooling_set_point_fahrenheit=74.6)
    setting = _setting(seam, ecobee)
    assert (setting.hvac_mode_setting, setting.cooling_set_point_fahrenheit) == ("cool", 75)


def test_fan_mode_setting_wins_over_the_deprecated_fan_mode(
        seam: Seam, ids: dict[str, str]) -> None:
    device = ids["sensi_device_1"]
    attempt = seam.thermostats.set_fan_mode(device_id=device, fan_mode_setting="circulate",
                                            fan_mode="on")
    assert (attempt.action_type, attempt.status) == ("SET_FAN_MODE", "success")
    props = seam.devices.get(device_id=device).properties
    assert props.current_climate_setting.fan_mode_setting == "circulate"
    assert props.fan_mode_setting == "circulate"
    seam.thermostats.set_fan_mode(device_id=device, fan_mode="on")
    assert seam.devices.get(device_id=device).properties.is_fan_running is True


@pytest.mark.parametrize(("call", "status", "error_type"), [
    (lambda s, i: s.thermostats.heat(device_id=i["ecobee_device_1"],
                                     heating_set_point_fahrenheit=90),
     400, "heating_set_point_out_of_range"),
    (lambda s, i: s.thermostats.cool(device_id=i["nest_device_1"],
                                     cooling_set_point_celsius=5),
     400, "cooling_set_point_out_of_range"),
    (lambda s, i: s.thermostats.heat_cool(device_id=i["ecobee_device_1"],
                                          heating_set_point_fahrenheit=70,
                                          cooling_set_point_fahrenheit=73),
     400, "invalid_heating_cooling_delta"),
    (lambda s, i: s.thermostats.heat_cool(device_id=i["nest_device_1"],
                                          heating_set_point_celsius=24,
                                          cooling_set_point_celsius=20),
     400, "invalid_heating_cooling_delta"),
    (lambda s, i: s.thermostats.cool(device_id=i["sensi_device_2"],
                                     cooling_set_point_fahrenheit=75),
     400, "cool_mode_not_available"),
    (lambda s, i: s.thermostats.set_hvac_mode(device_id=i["ecobee_device_1"],
                                              hvac_mode_setting="eco"),
     400, "eco_mode_not_available"),
    (lambda s, i: s.thermostats.set_fan_mode(device_id=i["ecobee_device_1"],
                                             fan_mode_setting="circulate"),
     400, "fan_mode_not_available"),
    (lambda s, i: s.thermostats.heat(device_id=i["august_device_1"],
                                     heating_set_point_celsius=20),
     404, "device_not_found"),
    (lambda s, i: s.thermostats.off(device_id=i["minut_device_1"]), 404, "device_not_found"),
    (lambda s, i: s.thermostats.activate_climate_preset(device_id=i["ecobee_device_1"],
                                                        climate_preset_key="nope"),
     404, "climate_preset_not_found"),
])
def test_refused_settings_say_why_and_change_nothing(
        seam: Seam, ids: dict[str, str], call: Any, status: int, error_type: str) -> None:
    before = seam.devices.get(device_id=ids["ecobee_device_1"])
    with pytest.raises(SeamHttpApiError) as refused:
        call(seam, ids)
    assert (refused.value.status_code, refused.value.code) == (status, error_type)
    assert str(refused.value)
    assert seam.devices.get(device_id=ids["ecobee_device_1"]) == before


def test_a_point_in_both_units_or_with_off_is_invalid_input(
        seam: Seam, ids: dict[str, str]) -> None:
    with pytest.raises(SeamHttpInvalidInputError):
        seam.thermostats.heat(device_id=ids["ecobee_device_1"], heating_set_point_celsius=20,
                              heating_set_point_fahrenheit=68)
    with pytest.raises(SeamHttpInvalidInputError):
        seam.thermostats.set_hvac_mode(device_id=ids["ecobee_device_1"],
                                       hvac_mode_setting="off", heating_set_point_celsius=20)


def test_an_offline_thermostat_fails_the_attempt(seam: Seam, ids: dict[str, str]) -> None:
    with pytest.raises(SeamActionAttemptFailedError) as failed:
        seam.thermostats.heat(device_id=ids["honeywell_resideo_device_2"],
                              heating_set_point_fahrenheit=60)
    assert failed.value.code == "device_offline"
    setting = _setting(seam, ids["honeywell_resideo_device_2"])
    assert setting.hvac_mode_setting == "off"


def test_climate_presets_are_created_activated_updated_and_deleted(
        seam: Seam, ids: dict[str, str]) -> None:
    device = ids["honeywell_resideo_device_1"]
    seam.thermostats.create_climate_preset(
        device_id=device, climate_preset_key="guest", name="Guest stay",
        climate_preset_mode="occupied", hvac_mode_setting="heat_cool",
        heating_set_point_fahrenheit=68, cooling_set_point_fahrenheit=76,
        fan_mode_setting="circulate")
    presets = seam.devices.get(device_id=device).properties.available_climate_presets
    guest = next(p for p in presets if p.climate_preset_key == "guest")
    assert (guest.display_name, guest.hvac_mode_setting, guest.heating_set_point_fahrenheit,
            guest.cooling_set_point_fahrenheit, guest.can_delete) == (
        "Guest stay", "heat_cool", 68, 76, True)
    with pytest.raises(SeamHttpApiError) as again:
        seam.thermostats.create_climate_preset(device_id=device, climate_preset_key="guest")
    assert again.value.code == "climate_preset_already_exists"

    attempt = seam.thermostats.activate_climate_preset(device_id=device,
                                                       climate_preset_key="guest")
    assert (attempt.action_type, attempt.status) == ("ACTIVATE_CLIMATE_PRESET", "success")
    setting = _setting(seam, device)
    assert (setting.climate_preset_key, setting.display_name, setting.fan_mode_setting) == (
        "guest", "Guest stay", "circulate")
    activated = _events(seam, device, "thermostat.climate_preset_activated")[0]
    assert (activated.climate_preset_key, activated.thermostat_schedule_id,
            activated.is_fallback_climate_preset) == ("guest", None, False)

    # A change by hand leaves the preset: the setting is "Manual Setting" again.
    seam.thermostats.heat(device_id=device, heating_set_point_fahrenheit=70)
    assert _setting(seam, device).display_name == "Manual Setting"

    seam.thermostats.update_climate_preset(device_id=device, climate_preset_key="guest",
                                           cooling_set_point_fahrenheit=78)
    seam.thermostats.set_fallback_climate_preset(device_id=device, climate_preset_key="guest")
    props = seam.devices.get(device_id=device).properties
    assert props.fallback_climate_preset_key == "guest"
    assert next(p for p in props.available_climate_presets
                if p.climate_preset_key == "guest").cooling_set_point_fahrenheit == 78

    seam.thermostats.delete_climate_preset(device_id=device, climate_preset_key="guest")
    props = seam.devices.get(device_id=device).properties
    assert props.available_climate_presets == []
    assert props.fallback_climate_preset_key is None


def test_a_preset_is_checked_like_a_setting_and_system_presets_stay(
        seam: Seam, ids: dict[str, str]) -> None:
    with pytest.raises(SeamHttpApiError) as wide:
        seam.thermostats.create_climate_preset(
            device_id=ids["ecobee_device_1"], climate_preset_key="hot",
            hvac_mode_setting="heat", heating_set_point_fahrenheit=95)
    assert wide.value.code == "heating_set_point_out_of_range"
    with pytest.raises(SeamHttpApiError) as system:
        seam.thermostats.delete_climate_preset(device_id=ids["ecobee_device_1"],
                                               climate_preset_key="home")
    assert system.value.code == "climate_preset_cannot_be_deleted"
    attempt = seam.thermostats.activate_climate_preset(device_id=ids["ecobee_device_1"],
                                                       climate_preset_key="away")
    assert attempt.status == "success"
    setting = _setting(seam, ids["ecobee_device_1"])
    assert (setting.climate_preset_key, setting.heating_set_point_fahrenheit,
            setting.cooling_set_point_fahrenheit) == ("away", 62, 80)
    assert setting.ecobee_metadata.owner == "system"


def test_a_temperature_threshold_raises_events_and_a_warning_as_the_room_crosses_it(
        seam: Seam, ids: dict[str, str]) -> None:
    device = ids["sensi_device_2"]  # 60 °F now
    seam.thermostats.set_temperature_threshold(device_id=device, lower_limit_fahrenheit=55,
                                               upper_limit_fahrenheit=80)
    props = seam.devices.get(device_id=device).properties
    assert props.temperature_threshold.lower_limit_fahrenheit == pytest.approx(55)
    assert props.temperature_threshold.upper_limit_celsius == pytest.approx(26.6666667)
    assert _events(seam, device, "thermostat.temperature_threshold_exceeded") == []

    seam.thermostats.simulate.temperature_reached(device_id=device, temperature_fahrenheit=50)
    exceeded = _events(seam, device, "thermostat.temperature_threshold_exceeded")
    assert len(exceeded) == 1 and exceeded[0].temperature_fahrenheit == 50
    assert exceeded[0].lower_limit_fahrenheit == pytest.approx(55)
    assert "temperature_threshold_exceeded" in {
        w.warning_code for w in seam.devices.get(device_id=device).warnings}

    seam.thermostats.simulate.temperature_reached(device_id=device, temperature_celsius=15)
    back = _events(seam, device, "thermostat.temperature_threshold_no_longer_exceeded")
    assert len(back) == 1
    assert "temperature_threshold_exceeded" not in {
        w.warning_code for w in seam.devices.get(device_id=device).warnings}


def test_a_reading_near_the_set_point_and_a_change_of_a_degree_raise_events(
        seam: Seam, ids: dict[str, str]) -> None:
    device = ids["ecobee_device_2"]
    seam.thermostats.cool(device_id=device, cooling_set_point_fahrenheit=72)
    seam.thermostats.simulate.temperature_reached(device_id=device, temperature_fahrenheit=73)
    reached = _events(seam, device, "thermostat.temperature_reached_set_point")
    assert len(reached) == 1
    assert reached[0].desired_temperature_fahrenheit == pytest.approx(72)
    assert reached[0].temperature_fahrenheit == 73
    changed = _events(seam, device, "thermostat.temperature_changed")
    assert changed and changed[0].temperature_fahrenheit == 73
    # A reading a few tenths away changes nothing.
    seam.thermostats.simulate.temperature_reached(device_id=device, temperature_fahrenheit=73.5)
    assert len(_events(seam, device, "thermostat.temperature_changed")) == len(changed)
    assert seam.devices.get(device_id=device).properties.temperature_fahrenheit == 73.5


def test_an_adjustment_at_the_thermostat_is_an_external_manual_adjustment(
        seam: Seam, ids: dict[str, str]) -> None:
    device = ids["sensi_device_1"]
    seam.thermostats.simulate.hvac_mode_adjusted(device_id=device, hvac_mode="heat",
                                                 heating_set_point_fahrenheit=71)
    setting = _setting(seam, device)
    assert (setting.hvac_mode_setting, setting.heating_set_point_fahrenheit) == ("heat", 71)
    event = _events(seam, device, "thermostat.manually_adjusted")[0]
    assert (event.method, event.hvac_mode_setting, event.heating_set_point_fahrenheit) == (
        "external", "heat", 71)


def test_the_room_follows_the_hvac_over_workspace_time(
        own_server: LockhubServer, seam: Seam, ids: dict[str, str]) -> None:
    """The Nest's room, set to 17 °C with the heating at 20 °C: 3 °C an hour while heating,
    and the heating stops once the set point is reached."""
    device = ids["nest_device_1"]
    seam.thermostats.heat(device_id=device, heating_set_point_celsius=20)
    seam.thermostats.simulate.temperature_reached(device_id=device, temperature_celsius=17)
    assert seam.devices.get(device_id=device).properties.is_heating is True

    sandbox(own_server, "clock/advance", seconds=40 * 60)
    props = _eventually(seam, device, lambda p: p.temperature_celsius == 19)
    assert props.is_heating is True
    sandbox(own_server, "clock/advance", seconds=20 * 60)
    props = _eventually(seam, device, lambda p: p.temperature_celsius == 20)
    assert props.is_heating is False
    reached = _events(seam, device, "thermostat.temperature_reached_set_point")
    assert reached[0].temperature_celsius == 19


def test_the_outside_temperature_pulls_an_idle_room(
        own_server: LockhubServer, seam: Seam, ids: dict[str, str]) -> None:
    """Off, the Hallway drifts 0.03 °C a minute toward the outside: from 21 °C with -9 °C
    outside, 30 workspace minutes take it to 20.1 °C; in a static room the HVAC does not
    start by itself."""
    device = ids["nest_device_1"]
    seam.thermostats.off(device_id=device)
    seam.thermostats.simulate.temperature_reached(device_id=device, temperature_celsius=21)
    sandbox(own_server, "devices/set_climate", device_id=device, ambient_celsius=-9,
            relative_humidity=0.3)
    sandbox(own_server, "clock/advance", seconds=30 * 60)
    props = _eventually(seam, device, lambda p: p.temperature_celsius == 20.1)
    assert props.relative_humidity == 0.3 and props.is_heating is False
    # A static room (as the fake's thermostat): the HVAC does not start by itself.
    sandbox(own_server, "devices/set_climate", device_id=device, physics="static")
    seam.thermostats.heat(device_id=device, heating_set_point_celsius=25)
    assert seam.devices.get(device_id=device).properties.is_heating is False
    sandbox(own_server, "devices/set_climate", device_id=device, physics="dynamic")
    assert seam.devices.get(device_id=device).properties.is_heating is True


def _eventually(seam: Seam, device_id: str, check: Any) -> Any:
    """The device's properties once the engine has recorded its report (the clock moved)."""
    def current() -> Any:
        props = seam.devices.get(device_id=device_id).properties
        return props if check(props) else None
    return wait_until(current)


def test_thermostats_get_answers_for_thermostats_only(
        own_server: LockhubServer, ids: dict[str, str]) -> None:
    with raw(own_server) as client:
        found = client.post("/thermostats/get", json={"device_id": ids["nest_device_1"]})
        lock = client.post("/thermostats/get", json={"device_id": ids["august_device_1"]})
    assert found.status_code == 200
    assert found.json()["thermostat"]["device_id"] == ids["nest_device_1"]
    assert (lock.status_code, lock.json()["error"]["type"]) == (404, "device_not_found")


# --- schedules -----------------------------------------------------------------------------


def _now(own_server: LockhubServer) -> datetime:
    return datetime.fromisoformat(sandbox(own_server, "clock/freeze")["clock"]["now"])


def test_a_schedule_activates_its_preset_at_its_time_and_the_fallback_after(
        own_server: LockhubServer, seam: Seam, ids: dict[str, str]) -> None:
    device = ids["ecobee_device_1"]
    seam.thermostats.set_fallback_climate_preset(device_id=device, climate_preset_key="home")
    now = _now(own_server)
    schedule = seam.thermostats.schedules.create(
        device_id=device, climate_preset_key="sleep", name="Night",
        starts_at=(now + timedelta(hours=1)).isoformat(),
        ends_at=(now + timedelta(hours=9)).isoformat())
    assert (schedule.name, schedule.climate_preset_key, schedule.errors) == (
        "Night", "sleep", [])
    assert seam.thermostats.schedules.get(
        thermostat_schedule_id=schedule.thermostat_schedule_id).device_id == device
    assert [s.thermostat_schedule_id for s in seam.thermostats.schedules.list(
        device_id=device)] == [schedule.thermostat_schedule_id]
    with pytest.raises(SeamHttpApiError) as in_use:
        seam.thermostats.delete_climate_preset(device_id=device, climate_preset_key="sleep")
    assert in_use.value.code == "climate_preset_in_use"

    sandbox(own_server, "clock/advance", seconds=61 * 60)
    props = _eventually(seam, device, lambda p: p.active_thermostat_schedule_id
                        == schedule.thermostat_schedule_id)
    setting = props.current_climate_setting
    assert (setting.climate_preset_key, setting.heating_set_point_fahrenheit,
            setting.cooling_set_point_fahrenheit) == ("sleep", 64, 75)
    activated = _events(seam, device, "thermostat.climate_preset_activated")[0]
    assert (activated.thermostat_schedule_id, activated.climate_preset_key,
            activated.is_fallback_climate_preset) == (
        schedule.thermostat_schedule_id, "sleep", False)

    sandbox(own_server, "clock/advance", seconds=8 * 3600)
    props = _eventually(seam, device, lambda p: p.active_thermostat_schedule_id is None)
    assert props.current_climate_setting.climate_preset_key == "home"
    fallback = _events(seam, device, "thermostat.climate_preset_activated")[0]
    assert (fallback.climate_preset_key, fallback.is_fallback_climate_preset,
            fallback.thermostat_schedule_id) == ("home", True, schedule.thermostat_schedule_id)


def test_a_schedule_without_overrides_refuses_changes_and_reverts_those_at_the_device(
        own_server: LockhubServer, seam: Seam, ids: dict[str, str]) -> None:
    device = ids["honeywell_resideo_device_1"]
    seam.thermostats.create_climate_preset(device_id=device, climate_preset_key="eco_stay",
                                           hvac_mode_setting="heat",
                                           heating_set_point_fahrenheit=62)
    now = _now(own_server)
    schedule = seam.thermostats.schedules.create(
        device_id=device, climate_preset_key="eco_stay", starts_at=now.isoformat(),
        ends_at=(now + timedelta(days=2)).isoformat(), is_override_allowed=False)
    _eventually(seam, device, lambda p: p.active_thermostat_schedule_id
                == schedule.thermostat_schedule_id)
    with pytest.raises(SeamHttpApiError) as refused:
        seam.thermostats.heat(device_id=device, heating_set_point_fahrenheit=75)
    assert refused.value.code == "thermostat_schedule_override_not_allowed"
    # At the thermostat itself: reverted to the schedule's preset.
    seam.thermostats.simulate.hvac_mode_adjusted(device_id=device, hvac_mode="heat",
                                                 heating_set_point_fahrenheit=80)
    props = _eventually(seam, device, lambda p: p.current_climate_setting
                        .heating_set_point_fahrenheit == 62)
    assert props.is_temporary_manual_override_active is False
    seam.thermostats.schedules.delete(thermostat_schedule_id=schedule.thermostat_schedule_id)
    _eventually(seam, device, lambda p: p.active_thermostat_schedule_id is None)


def test_an_override_lasts_its_maximum_period(own_server: LockhubServer, seam: Seam,
                                             ids: dict[str, str]) -> None:
    device = ids["sensi_device_1"]
    seam.thermostats.create_climate_preset(device_id=device, climate_preset_key="cool_day",
                                           hvac_mode_setting="cool",
                                           cooling_set_point_fahrenheit=76)
    now = _now(own_server)
    schedule = seam.thermostats.schedules.create(
        device_id=device, climate_preset_key="cool_day", starts_at=now.isoformat(),
        ends_at=(now + timedelta(days=1)).isoformat(), max_override_period_minutes=30)
    _eventually(seam, device, lambda p: p.active_thermostat_schedule_id
                == schedule.thermostat_schedule_id)
    seam.thermostats.cool(device_id=device, cooling_set_point_fahrenheit=70)
    props = seam.devices.get(device_id=device).properties
    assert props.is_temporary_manual_override_active is True
    sandbox(own_server, "clock/advance", seconds=31 * 60)
    props = _eventually(seam, device, lambda p: p.current_climate_setting
                        .cooling_set_point_fahrenheit == 76)
    assert props.is_temporary_manual_override_active is False
    seam.thermostats.schedules.update(thermostat_schedule_id=schedule.thermostat_schedule_id,
                                      ends_at=(now + timedelta(hours=1)).isoformat())
    assert seam.thermostats.schedules.get(
        thermostat_schedule_id=schedule.thermostat_schedule_id).ends_at.startswith(
        (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))


@pytest.mark.parametrize(("change", "error_type"), [
    ({"climate_preset_key": "nope"}, "climate_preset_not_found"),
    ({"ends_at_hours": -1}, "invalid_input"),
])
def test_a_schedule_that_cannot_be_is_refused(own_server: LockhubServer, seam: Seam,
                                              ids: dict[str, str], change: dict[str, Any],
                                              error_type: str) -> None:
    now = _now(own_server)
    body = {"device_id": ids["nest_device_1"], "climate_preset_key": "nope",
            "starts_at": (now + timedelta(hours=2)).isoformat(),
            "ends_at": (now + timedelta(hours=2 + change.get("ends_at_hours", 3))).isoformat()}
    if "ends_at_hours" in change:
        seam.thermostats.create_climate_preset(device_id=ids["nest_device_1"],
                                               climate_preset_key="nope", hvac_mode_setting="off")
    with pytest.raises(SeamHttpApiError) as refused:
        seam.thermostats.schedules.create(**body)
    assert refused.value.code == error_type
    if "ends_at_hours" in change:
        seam.thermostats.delete_climate_preset(device_id=ids["nest_device_1"],
                                               climate_preset_key="nope")
