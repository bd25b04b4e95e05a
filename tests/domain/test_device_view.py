"""The device view derives flags, errors and change events from model + reported state."""

from lockhub.catalogue import brands, model
from lockhub.domain.devices import capability_flags, device_errors, state_change_events

TTLOCK = model("ttlock", next(iter(brands()["ttlock"].models)))
HUB_MODEL = next(m for b in brands().values() for m in b.models.values() if m.requires_hub)
BOLT = model("wyze", "lock_bolt")


def test_remote_unlock_switched_off_in_the_app_clears_the_flag_but_not_remote_lock() -> None:
    flags = capability_flags(TTLOCK, {"online": True, "remote_unlock_enabled": False})
    assert flags["can_remotely_unlock"] is False
    assert flags["can_remotely_lock"] is TTLOCK.remote_lock


def test_bluetooth_only_lock_cannot_be_operated_remotely() -> None:
    flags = capability_flags(BOLT, {"online": True})
    assert flags["can_remotely_lock"] is False and flags["can_remotely_unlock"] is False


def test_lost_hub_is_reported_before_offline() -> None:
    errors = device_errors(HUB_MODEL, {"online": False, "hub_connected": False}, "t")
    assert [e["error_code"] for e in errors] == ["hub_disconnected"]
    assert [e["error_code"] for e in device_errors(HUB_MODEL, {"online": False}, "t")] == [
        "device_offline"]


def test_going_offline_and_back_records_disconnected_then_connected() -> None:
    up = {"online": True, "hub_connected": True}
    down = {"online": True, "hub_connected": False}
    assert state_change_events(HUB_MODEL, up, down) == [
        ("device.disconnected", {"error_code": "hub_disconnected"})]
    assert state_change_events(HUB_MODEL, down, up) == [("device.connected", {})]
    assert state_change_events(HUB_MODEL, up, up) == []


def test_battery_falling_below_low_records_status_change_and_low_battery() -> None:
    found = state_change_events(TTLOCK, {"online": True, "battery_level": 0.5},
                                {"online": True, "battery_level": 0.15})
    assert ("device.battery_status_changed", {"battery_level": 0.15,
                                              "battery_status": "low"}) in found
    assert ("device.low_battery", {"battery_level": 0.15}) in found

