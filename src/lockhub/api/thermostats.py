"""/thermostats/*: list and get, HVAC and fan settings (action attempts), climate presets, the
fallback preset, the temperature threshold, and the sandbox's simulations."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.devices import GetDeviceParams, device_filters, get_device
from lockhub.api.params import given
from lockhub.api.routing import Extra, route
from lockhub.domain.enums import (
    ClimatePresetMode,
    FanModeSetting,
    HvacModeSetting,
    ThermostatDeviceType,
    ThermostatManufacturer,
)
from lockhub.domain.objects import ActionAttempt, Device
from lockhub.errors import InvalidInput
from lockhub.services import devices, sandbox, thermostats
from lockhub.services.thermostats import SetPoint


class ListThermostatsParams(msgspec.Struct):
    device_type: ThermostatDeviceType | UnsetType = UNSET
    device_types: list[ThermostatDeviceType] | UnsetType = UNSET
    manufacturer: ThermostatManufacturer | UnsetType = UNSET
    connected_account_id: str | UnsetType = UNSET
    connect_webview_id: str | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET


@route("/thermostats/list", alias="GET", params=ListThermostatsParams, response_key="devices",
       response=list[Device], client_session=True)
async def list_thermostats(ctx: Ctx, params: ListThermostatsParams) -> Extra:
    """List managed thermostats (as `devices` and, the same list, `thermostats`)."""
    items, _ = await devices.list_devices(ctx.rt, ctx.workspace_id,
                                          await device_filters(ctx, params, kind="thermostat"))
    return Extra(value=items, extra={"thermostats": items})


@route("/thermostats/get", alias="GET", params=GetDeviceParams, response_key="thermostat",
       response=Device, client_session=True)
async def get_thermostat(ctx: Ctx, params: GetDeviceParams) -> Device | msgspec.Raw:
    """Get a thermostat by id or name (deprecated by Seam for /devices/get)."""
    device = await get_device(ctx, params)
    kind = msgspec.json.decode(device)["capabilities_supported"] if isinstance(
        device, msgspec.Raw) else device.capabilities_supported
    if "thermostat" not in kind:
        raise thermostats.not_a_thermostat(given(params.device_id))
    return device


class BothPoints(msgspec.Struct, kw_only=True):
    heating_set_point_celsius: float | UnsetType = UNSET
    heating_set_point_fahrenheit: float | UnsetType = UNSET
    cooling_set_point_celsius: float | UnsetType = UNSET
    cooling_set_point_fahrenheit: float | UnsetType = UNSET


class OffParams(msgspec.Struct, kw_only=True):
    device_id: str
    sync: bool = False


class HeatParams(OffParams, kw_only=True):
    heating_set_point_celsius: float | UnsetType = UNSET
    heating_set_point_fahrenheit: float | UnsetType = UNSET


class CoolParams(OffParams, kw_only=True):
    cooling_set_point_celsius: float | UnsetType = UNSET
    cooling_set_point_fahrenheit: float | UnsetType = UNSET


class HeatCoolParams(HeatParams, kw_only=True):
    cooling_set_point_celsius: float | UnsetType = UNSET
    cooling_set_point_fahrenheit: float | UnsetType = UNSET


class SetHvacModeParams(BothPoints, kw_only=True):
    device_id: str
    hvac_mode_setting: HvacModeSetting


def _point(params: Any, name: str) -> SetPoint:
    return SetPoint(name, given(getattr(params, f"{name}_set_point_celsius", UNSET)),
                    given(getattr(params, f"{name}_set_point_fahrenheit", UNSET)))


async def _set_mode(ctx: Ctx, params: Any, mode: str) -> ActionAttempt:
    heating, cooling = _point(params, "heating"), _point(params, "cooling")
    return await thermostats.request_climate_action(
        ctx.rt, ctx.workspace_id, params.device_id, "SET_HVAC_MODE",
        lambda row: thermostats.setting_command(row, mode, heating, cooling),
        sync=getattr(params, "sync", False))


@route("/thermostats/heat", params=HeatParams, response_key="action_attempt",
       response=ActionAttempt, client_session=True)
async def heat(ctx: Ctx, params: HeatParams) -> ActionAttempt:
    """Heat to a set point (the current heating set point when none is given)."""
    return await _set_mode(ctx, params, "heat")


@route("/thermostats/cool", params=CoolParams, response_key="action_attempt",
       response=ActionAttempt, client_session=True)
async def cool(ctx: Ctx, params: CoolParams) -> ActionAttempt:
    """Cool to a set point (the current cooling set point when none is given)."""
    return await _set_mode(ctx, params, "cool")


@route("/thermostats/heat_cool", params=HeatCoolParams, response_key="action_attempt",
       response=ActionAttempt, client_session=True)
async def heat_cool(ctx: Ctx, params: HeatCoolParams) -> ActionAttempt:
    """Keep the temperature between a heating and a cooling set point."""
    return await _set_mode(ctx, params, "heat_cool")


@route("/thermostats/off", params=OffParams, response_key="action_attempt",
       response=ActionAttempt, client_session=True)
async def off(ctx: Ctx, params: OffParams) -> ActionAttempt:
    """Turn the HVAC off."""
    return await _set_mode(ctx, params, "off")


@route("/thermostats/set_hvac_mode", params=SetHvacModeParams, response_key="action_attempt",
       response=ActionAttempt, client_session=True)
async def set_hvac_mode(ctx: Ctx, params: SetHvacModeParams) -> ActionAttempt:
    """Set the HVAC mode, with the set points that mode uses."""
    return await _set_mode(ctx, params, params.hvac_mode_setting)


class SetFanModeParams(msgspec.Struct):
    device_id: str
    fan_mode: FanModeSetting | UnsetType = UNSET  # deprecated: fan_mode_setting wins
    fan_mode_setting: FanModeSetting | UnsetType = UNSET
    sync: bool = False


@route("/thermostats/set_fan_mode", params=SetFanModeParams, response_key="action_attempt",
       response=ActionAttempt, client_session=True)
async def set_fan_mode(ctx: Ctx, params: SetFanModeParams) -> ActionAttempt:
    """Set the fan mode (`fan_mode_setting`; the older `fan_mode` when it is absent)."""
    fan = given(params.fan_mode_setting) or given(params.fan_mode)
    if fan is None:
        raise InvalidInput.for_field(["fan_mode_setting"], "Required")
    return await thermostats.request_climate_action(
        ctx.rt, ctx.workspace_id, params.device_id, "SET_FAN_MODE",
        lambda row: thermostats.fan_command(row, fan), sync=params.sync)


class PresetKeyParams(msgspec.Struct):
    device_id: str
    climate_preset_key: str


@route("/thermostats/activate_climate_preset", params=PresetKeyParams,
       response_key="action_attempt", response=ActionAttempt)
async def activate_climate_preset(ctx: Ctx, params: PresetKeyParams) -> ActionAttempt:
    """Apply one of the thermostat's climate presets."""
    key = params.climate_preset_key
    return await thermostats.request_climate_action(
        ctx.rt, ctx.workspace_id, params.device_id, "ACTIVATE_CLIMATE_PRESET",
        lambda row: thermostats.preset_command(row, key), sync=False, preset_key=key)


class EcobeeMetadata(msgspec.Struct, omit_defaults=True):
    climate_ref: str | UnsetType = UNSET
    is_optimized: bool | UnsetType = UNSET
    owner: str | UnsetType = UNSET


class PresetFields(BothPoints, kw_only=True):
    """What a climate preset is made of (create and update take the same fields)."""

    device_id: str
    climate_preset_key: str
    name: str | None = None
    climate_preset_mode: ClimatePresetMode | UnsetType = UNSET
    hvac_mode_setting: HvacModeSetting | UnsetType = UNSET
    fan_mode_setting: FanModeSetting | UnsetType = UNSET
    ecobee_metadata: EcobeeMetadata | UnsetType = UNSET


class CreateClimatePresetParams(PresetFields, kw_only=True):
    manual_override_allowed: bool = True


class UpdateClimatePresetParams(PresetFields, kw_only=True):
    manual_override_allowed: bool | UnsetType = UNSET


def _preset_changes(params: Any) -> dict[str, Any]:
    changes = {name: getattr(params, name) for name in thermostats.PRESET_FIELDS
               if getattr(params, name, UNSET) is not UNSET}
    if "ecobee_metadata" in changes:
        changes["ecobee_metadata"] = msgspec.to_builtins(changes["ecobee_metadata"])
    return changes


@route("/thermostats/create_climate_preset", params=CreateClimatePresetParams,
       client_session=True)
async def create_climate_preset(ctx: Ctx, params: CreateClimatePresetParams) -> None:
    """Add a climate preset (a named setting to activate later or from a schedule)."""
    await thermostats.change_settings(ctx.rt, ctx.workspace_id, params.device_id,
                                      thermostats.create_preset(
                                          params.climate_preset_key, _preset_changes(params),
                                          _point(params, "heating"), _point(params, "cooling")))


@route("/thermostats/update_climate_preset", alias="PATCH", params=UpdateClimatePresetParams,
       client_session=True)
async def update_climate_preset(ctx: Ctx, params: UpdateClimatePresetParams) -> None:
    """Change a climate preset; the change applies the next time it is activated."""
    await thermostats.change_settings(ctx.rt, ctx.workspace_id, params.device_id,
                                      thermostats.update_preset(
                                          params.climate_preset_key, _preset_changes(params),
                                          _point(params, "heating"), _point(params, "cooling")))


@route("/thermostats/delete_climate_preset", alias="DELETE", params=PresetKeyParams,
       client_session=True)
async def delete_climate_preset(ctx: Ctx, params: PresetKeyParams) -> None:
    """Remove a climate preset."""
    await thermostats.change_settings(ctx.rt, ctx.workspace_id, params.device_id,
                                      thermostats.delete_preset(params.climate_preset_key),
                                      unused_preset=params.climate_preset_key)


@route("/thermostats/set_fallback_climate_preset", params=PresetKeyParams)
async def set_fallback_climate_preset(ctx: Ctx, params: PresetKeyParams) -> None:
    """Choose the preset applied once when a thermostat schedule ends."""
    await thermostats.change_settings(ctx.rt, ctx.workspace_id, params.device_id,
                                      thermostats.set_fallback(params.climate_preset_key))


class TemperatureThresholdParams(msgspec.Struct):
    device_id: str
    lower_limit_celsius: float | None = None
    lower_limit_fahrenheit: float | None = None
    upper_limit_celsius: float | None = None
    upper_limit_fahrenheit: float | None = None


@route("/thermostats/set_temperature_threshold", alias="PATCH",
       params=TemperatureThresholdParams)
async def set_temperature_threshold(ctx: Ctx, params: TemperatureThresholdParams) -> None:
    """Set the range outside which the thermostat's temperature raises events and a warning."""
    lower = thermostats.limit("lower", params.lower_limit_celsius, params.lower_limit_fahrenheit)
    upper = thermostats.limit("upper", params.upper_limit_celsius, params.upper_limit_fahrenheit)
    await thermostats.change_settings(ctx.rt, ctx.workspace_id, params.device_id,
                                      thermostats.set_temperature_threshold(lower, upper))


# --- sandbox -----------------------------------------------------------------------------------


class HvacModeAdjustedParams(BothPoints, kw_only=True):
    device_id: str
    hvac_mode: HvacModeSetting


@route("/thermostats/simulate/hvac_mode_adjusted", params=HvacModeAdjustedParams,
       sandbox_only=True)
async def simulate_hvac_mode_adjusted(ctx: Ctx, params: HvacModeAdjustedParams) -> None:
    """Sandbox: someone changes the mode and set points at the thermostat."""
    if params.hvac_mode == "eco":
        raise InvalidInput.for_field(["hvac_mode"], "Invalid enum value")
    await sandbox.simulate_hvac_mode_adjusted(
        ctx.rt, ctx.workspace_id, params.device_id, params.hvac_mode,
        _point(params, "heating"), _point(params, "cooling"))


class TemperatureReachedParams(msgspec.Struct):
    device_id: str
    temperature_celsius: float | UnsetType = UNSET
    temperature_fahrenheit: float | UnsetType = UNSET


@route("/thermostats/simulate/temperature_reached", params=TemperatureReachedParams,
       sandbox_only=True)
async def simulate_temperature_reached(ctx: Ctx, params: TemperatureReachedParams) -> None:
    """Sandbox: the room reaches a temperature."""
    reading = SetPoint("temperature", given(params.temperature_celsius),
                       given(params.temperature_fahrenheit), field="temperature")
    if not reading.given:
        raise InvalidInput.for_field(["temperature_celsius"], "Required")
    await sandbox.simulate_temperature_reached(ctx.rt, ctx.workspace_id, params.device_id,
                                               reading)
