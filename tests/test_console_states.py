"""The console names each kind of device's state in words: a lock's position, a thermostat's
mode, set points and room, a noise sensor's level."""

from __future__ import annotations

from lockhub.web.console.devices import state_words


def test_a_lock_is_locked_unlocked_or_unknown() -> None:
    lock = {"capabilities_supported": ["lock"], "properties": {"locked": False, "online": True}}
    assert state_words(lock)["state"] == "Unlocked"
    assert state_words({"capabilities_supported": ["lock"], "properties": {}})["state"] == (
        "Unknown")


def test_a_thermostat_shows_its_mode_points_and_room() -> None:
    thermostat = {"capabilities_supported": ["thermostat"], "properties": {
        "online": True, "temperature_celsius": 19.5, "temperature_fahrenheit": 67.1,
        "current_climate_setting": {"hvac_mode_setting": "heat_cool",
                                    "heating_set_point_celsius": 20,
                                    "heating_set_point_fahrenheit": 68,
                                    "cooling_set_point_celsius": 25,
                                    "cooling_set_point_fahrenheit": 77}}}
    words = state_words(thermostat)
    assert words["state"] == ("Heat-cool to 20.0 °C (68 °F) and 25.0 °C (77 °F) · "
                              "19.5 °C (67 °F) now")
    assert words["state_class"] == "reading"
    off = {"capabilities_supported": ["thermostat"],
           "properties": {"current_climate_setting": {"hvac_mode_setting": "off"}}}
    assert state_words(off)["state"] == "Off"


def test_a_noise_sensor_shows_its_level_and_whether_it_is_too_loud() -> None:
    quiet = {"capabilities_supported": ["noise_detection"],
             "properties": {"noise_level_decibels": 38.4,
                            "currently_triggering_noise_threshold_ids": []}}
    assert state_words(quiet)["state"] == "38 dB"
    loud = {"capabilities_supported": ["noise_detection"],
            "properties": {"noise_level_decibels": 80,
                           "currently_triggering_noise_threshold_ids": ["t1"]}}
    assert state_words(loud)["state"] == "80 dB · over a threshold"
