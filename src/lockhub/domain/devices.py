"""A device as served: catalogue model facts + the provider's last snapshot + derived flags.

Capability flags, errors and warnings are derived here from the model and the device's state,
so they can never disagree with the state they describe.
"""

from __future__ import annotations

from typing import Any

from lockhub.catalogue import Brand, DeviceModel
from lockhub.clock import iso
from lockhub.domain.objects import Device, DeviceManufacturer, DeviceProviderRef
from lockhub.domain.thermostats import thermostat_flags, thermostat_properties

LOW_BATTERY = 0.2


def battery_status(level: float) -> str:
    if level < 0.1:
        return "critical"
    if level < LOW_BATTERY:
        return "low"
    if level < 0.9:
        return "good"
    return "full"


def _hub_ok(model: DeviceModel, state: dict[str, Any]) -> bool:
    return not model.requires_hub or state.get("hub_connected", True) is not False


def capability_flags(model: DeviceModel, state: dict[str, Any]) -> dict[str, bool]:
    """What the device can do: the model's abilities narrowed by its settings.

    Transient conditions (offline, hub link lost) do not clear a flag; they show as `errors`
    and make the action attempt fail with that error, as on a real lock.
    """
    remote_unlock = model.remote_unlock and state.get("remote_unlock_enabled", True) is not False
    flags = {
        "can_remotely_lock": model.remote_lock,
        "can_remotely_unlock": remote_unlock,
        "can_program_online_access_codes": model.online_access_codes,
        "can_program_offline_access_codes": model.offline_access_codes,
        "can_unlock_with_code": model.has_built_in_keypad or model.can_connect_accessory_keypad,
        "can_configure_auto_lock": model.auto_lock,
    }
    for ability in model.can_simulate:
        flags[f"can_simulate_{ability}"] = True
    return flags


def device_flags(model: DeviceModel, state: dict[str, Any]) -> dict[str, bool]:
    """The device's top-level `can_*` flags, by its kind."""
    if model.thermostat is not None:
        flags = thermostat_flags(model.thermostat)
    elif model.kind == "lock":
        return capability_flags(model, state)
    else:
        flags = {}
    for ability in model.can_simulate:
        flags[f"can_simulate_{ability}"] = True
    return flags


def device_errors(model: DeviceModel, state: dict[str, Any], since: str) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if state.get("removed"):
        errors.append({"error_code": "device_removed", "is_device_error": True,
                       "message": "Device was removed from the provider account.",
                       "created_at": since})
    elif state.get("subscription_expired"):
        errors.append({"error_code": "subscription_required", "is_device_error": True,
                       "message": "A paid subscription with the provider is required.",
                       "created_at": since})
    elif not _hub_ok(model, state):
        errors.append({"error_code": "hub_disconnected", "is_device_error": True,
                       "message": "The hub or gateway this device depends on is offline.",
                       "created_at": since})
    elif state.get("online") is False:
        errors.append({"error_code": "device_offline", "is_device_error": True,
                       "message": "Device is offline.", "created_at": since})
    if state.get("jammed"):
        # Seam's device errors name no jam; lockhub reports it as its own device error.
        errors.append({"error_code": "lock_jammed", "is_device_error": True,
                       "message": "The lock is jammed: the bolt did not reach its position.",
                       "created_at": since})
    return errors


def device_warnings(brand: Brand, model: DeviceModel, state: dict[str, Any],
                    since: str) -> list[dict[str, Any]]:
    warnings: list[dict[str, Any]] = []
    if model.remote_unlock and state.get("remote_unlock_enabled", True) is False:
        warnings.append({
            "warning_code": brand.remote_unlock_disabled_warning,
            "message": "Remote unlocking is switched off in the provider's app settings.",
            "created_at": since,
        })
    return warnings


def _lock_properties(model: DeviceModel, state: dict[str, Any], row: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "supported_code_lengths": list(model.supported_code_lengths),
        "max_active_codes_supported": model.max_active_codes_supported,
        "code_constraints": list(model.code_constraints),
        "supports_backup_access_code_pool": model.supports_backup_access_code_pool,
        "backup_access_code_pool_enabled": bool(row.get("backup_pool_enabled", False)),
        "has_native_entry_events": model.has_native_entry_events,
        "online_access_codes_enabled": model.online_access_codes,
        "offline_access_codes_enabled": model.offline_access_codes,
        "supports_offline_access_codes": model.offline_access_codes,
        "supports_accessory_keypad": model.can_connect_accessory_keypad,
    }
    props["model"] = {
        "has_built_in_keypad": model.has_built_in_keypad,
        "can_connect_accessory_keypad": model.can_connect_accessory_keypad,
        "online_access_codes_supported": model.online_access_codes,
        "offline_access_codes_supported": model.offline_access_codes,
    }
    if "locked" in state:
        props["locked"] = bool(state["locked"])
    if model.door_sensor and state.get("door_open") is not None:
        props["door_open"] = bool(state["door_open"])
    if model.auto_lock:
        props["auto_lock_enabled"] = bool(state.get("auto_lock_enabled", False))
        if state.get("auto_lock_delay_seconds") is not None:
            props["auto_lock_delay_seconds"] = state["auto_lock_delay_seconds"]
    return props


def _noise_properties(model: DeviceModel, state: dict[str, Any],
                      settings: dict[str, Any]) -> dict[str, Any]:
    assert model.noise_sensor is not None
    noise = state.get("noise") or {}
    props: dict[str, Any] = {
        "has_direct_power": model.noise_sensor.has_direct_power,
        "currently_triggering_noise_threshold_ids": list(settings.get("triggering", [])),
    }
    if noise.get("noise_level_decibels") is not None:
        props["noise_level_decibels"] = noise["noise_level_decibels"]
    return props


def _settings_warnings(settings: dict[str, Any], since: str) -> list[dict[str, Any]]:
    if settings.get("temperature_threshold_exceeded"):
        return [{"warning_code": "temperature_threshold_exceeded", "created_at": since,
                 "message": "The temperature is outside the thermostat's threshold."}]
    return []


def build_device(row: Any, brand: Brand, model: DeviceModel, base_url: str) -> Device:
    """Assemble the served device from a stored row (mapping with the devices columns);
    `base_url` is lockhub's public base URL, where the brand's image is served."""
    image_url = brand.image_url(base_url)
    state: dict[str, Any] = row["state"]
    created_at = iso(row["created_at"])
    # A radio provider's lock names its own maker; the provider stays the device_provider.
    manufacturer = state.get("manufacturer") or brand.manufacturer
    maker_name = state.get("manufacturer_display_name") or brand.display_name
    appearance = state.get("name") or row["display_name"]
    props: dict[str, Any] = {
        "online": bool(state.get("online", False)),
        "name": row["display_name"],
        "appearance": {"name": appearance},
        "model": {"display_name": model.display_name, "manufacturer_display_name": maker_name},
        "manufacturer": manufacturer,
        "image_url": image_url,
        "image_alt_text": f"{maker_name} {model.display_name}",
    }
    if state.get("battery_level") is not None:
        level = round(float(state["battery_level"]), 2)
        props["battery_level"] = level
        props["battery"] = {"level": level, "status": battery_status(level)}
    if state.get("serial_number"):
        props["serial_number"] = state["serial_number"]
    if state.get("metadata") is not None:
        props[brand.metadata_key] = state["metadata"]
    settings: dict[str, Any] = row.get("settings") or {}
    if model.thermostat is not None:
        props.update(thermostat_properties(model.thermostat, state.get("thermostat") or {},
                                           settings))
        capabilities = ["thermostat"]
    elif model.noise_sensor is not None:
        props.update(_noise_properties(model, state, settings))
        capabilities = ["noise_detection"]
    else:
        lock_props = _lock_properties(model, state, row)
        props["model"].update(lock_props.pop("model"))
        props.update(lock_props)
        capabilities = ["lock"]
        if model.online_access_codes or model.offline_access_codes:
            capabilities.append("access_code")
    if state.get("battery_level") is not None:
        capabilities.append("battery")
    flags = device_flags(model, state) if row["is_managed"] else {}
    category = brand.provider_categories[0] if brand.provider_categories else "stable"
    device = Device(
        device_id=row["device_id"],
        device_type=row["device_type"],
        display_name=row["display_name"],
        capabilities_supported=capabilities,
        properties=props,
        connected_account_id=row["connected_account_id"],
        workspace_id=row["workspace_id"],
        space_ids=[],
        errors=list(row["errors"]) + device_errors(model, state, created_at),
        warnings=list(row["warnings"]) + device_warnings(brand, model, state, created_at)
        + _settings_warnings(settings, created_at),
        created_at=created_at,
        is_managed=bool(row["is_managed"]),
        custom_metadata=dict(row["custom_metadata"]),
        device_manufacturer=DeviceManufacturer(
            manufacturer=manufacturer, display_name=maker_name,
            image_url=image_url),
        device_provider=DeviceProviderRef(
            device_provider_name=brand.key, display_name=brand.display_name,
            provider_category=category, image_url=image_url),
        **flags,
    )
    if row["nickname"]:
        device.nickname = row["nickname"]
    if row["location"]:
        device.location = row["location"]
    return device


def display_name(nickname: str | None, appearance_name: str) -> str:
    return nickname or appearance_name


def state_change_events(model: DeviceModel, old: dict[str, Any],
                        new: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The events a change in reported state means (lock state changes are left to the caller,
    which knows how the lock moved)."""
    found: list[tuple[str, dict[str, Any]]] = []
    if new.get("removed") and not old.get("removed"):
        found.append(("device.removed", {}))
    elif old.get("removed") and not new.get("removed"):
        found.append(("device.added", {}))
    if new.get("subscription_expired") and not old.get("subscription_expired"):
        found.append(("device.error.subscription_required", {}))
    elif old.get("subscription_expired") and not new.get("subscription_expired"):
        found.append(("device.error.subscription_required.resolved", {}))
    was_up = old.get("online", False) and _hub_ok(model, old)
    is_up = new.get("online", False) and _hub_ok(model, new)
    if was_up and not is_up:
        code = "hub_disconnected" if not _hub_ok(model, new) else "device_disconnected"
        found.append(("device.disconnected", {"error_code": code}))
    elif is_up and not was_up:
        found.append(("device.connected", {}))
    old_level, new_level = old.get("battery_level"), new.get("battery_level")
    if new_level is not None and old_level is not None:
        if battery_status(new_level) != battery_status(old_level):
            found.append(("device.battery_status_changed", {
                "battery_level": new_level, "battery_status": battery_status(new_level)}))
        if new_level < LOW_BATTERY <= old_level:
            found.append(("device.low_battery", {"battery_level": new_level}))
    return found


def initial_settings(model: DeviceModel,
                     presets: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """What lockhub keeps for a newly added device beyond its reports (`devices.settings`):
    a thermostat's presets (those the device itself holds) and fallback; a noise sensor's
    thresholds triggering now. None for a lock."""
    if model.thermostat is not None:
        return {"presets": list(presets or []), "fallback_climate_preset_key": None}
    if model.noise_sensor is not None:
        return {"triggering": []}
    return None


def _degrees(props: dict[str, Any], name: str) -> str:
    celsius, fahrenheit = props.get(f"{name}_celsius"), props.get(f"{name}_fahrenheit")
    if celsius is None or fahrenheit is None:
        return ""
    return f"{celsius:.1f} °C ({fahrenheit:.0f} °F)"


def state_in_words(device: dict[str, Any]) -> str:
    """A served device's state as a person reads it (the console, the CLI): locked or
    unlocked; a thermostat's mode, set points and room; a noise sensor's level."""
    props = device.get("properties") or {}
    kinds = device.get("capabilities_supported") or []
    if "thermostat" in kinds:
        setting = props.get("current_climate_setting") or {}
        mode = str(setting.get("hvac_mode_setting") or "unknown").replace("_", "-")
        target = " and ".join(filter(None, (_degrees(setting, "heating_set_point"),
                                            _degrees(setting, "cooling_set_point"))))
        room = _degrees(props, "temperature")
        return " · ".join(filter(None, (mode.capitalize() + (f" to {target}" if target else ""),
                                        f"{room} now" if room else "")))
    if "noise_detection" in kinds:
        level = props.get("noise_level_decibels")
        loud = " · over a threshold" if props.get("currently_triggering_noise_threshold_ids") \
            else ""
        return (f"{level:.0f} dB" if isinstance(level, int | float) else "Unknown") + loud
    locked = props.get("locked")
    return "Locked" if locked is True else "Unlocked" if locked is False else "Unknown"
