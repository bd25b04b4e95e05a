"""/noise_sensors/*: list, noise thresholds (each change programmed by an action attempt), and
the sandbox's simulated disturbance."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api import session_scope
from lockhub.api.context import Ctx
from lockhub.api.devices import device_filters
from lockhub.api.params import given
from lockhub.api.routing import Extra, route
from lockhub.domain.enums import NoiseSensorDeviceType, NoiseSensorManufacturer
from lockhub.domain.objects import Device
from lockhub.services import devices, noise_sensors, sandbox

# A level in dB (Seam gives no bounds; 140 dB is past the threshold of pain) and NoiseAware's
# risk score, 0-100.
Decibels = Annotated[float, Meta(gt=0, le=140)]
RiskScore = Annotated[float, Meta(ge=0, le=100)]


class ListNoiseSensorsParams(msgspec.Struct):
    device_type: NoiseSensorDeviceType | UnsetType = UNSET
    device_types: list[NoiseSensorDeviceType] | UnsetType = UNSET
    manufacturer: NoiseSensorManufacturer | UnsetType = UNSET
    connected_account_id: str | UnsetType = UNSET
    connect_webview_id: str | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET


@route("/noise_sensors/list", alias="GET", params=ListNoiseSensorsParams,
       response_key="devices", response=list[Device], client_session=True)
async def list_noise_sensors(ctx: Ctx, params: ListNoiseSensorsParams) -> Extra:
    """List managed noise sensors (as `devices` and, the same list, `noise_sensors`)."""
    items, _ = await devices.list_devices(ctx.rt, ctx.workspace_id,
                                          await device_filters(ctx, params, kind="noise_sensor"))
    return Extra(value=items, extra={"noise_sensors": items})


class CreateThresholdParams(msgspec.Struct):
    device_id: str
    starts_daily_at: str
    ends_daily_at: str
    name: str | UnsetType = UNSET
    noise_threshold_decibels: Decibels | UnsetType = UNSET
    noise_threshold_nrs: RiskScore | UnsetType = UNSET
    sync: bool = False


@route("/noise_sensors/noise_thresholds/create", params=CreateThresholdParams,
       response_key="noise_threshold", response=dict[str, Any])
async def create_threshold(ctx: Ctx, params: CreateThresholdParams) -> Extra:
    """Add a threshold (a daily window and a level); an action attempt programs the sensor."""
    threshold, attempt = await noise_sensors.create(
        ctx.rt, ctx.workspace_id, params.device_id, name=given(params.name),
        starts_daily_at=params.starts_daily_at, ends_daily_at=params.ends_daily_at,
        decibels=given(params.noise_threshold_decibels), nrs=given(params.noise_threshold_nrs),
        sync=params.sync)
    return Extra(value=threshold, extra={"action_attempt": attempt})


class UpdateThresholdParams(msgspec.Struct):
    device_id: str
    noise_threshold_id: str
    name: str | UnsetType = UNSET
    starts_daily_at: str | UnsetType = UNSET
    ends_daily_at: str | UnsetType = UNSET
    noise_threshold_decibels: Decibels | UnsetType = UNSET
    noise_threshold_nrs: RiskScore | UnsetType = UNSET
    sync: bool = False


@route("/noise_sensors/noise_thresholds/update", alias=("PATCH", "PUT"),
       params=UpdateThresholdParams)
async def update_threshold(ctx: Ctx, params: UpdateThresholdParams) -> Extra:
    """Change a threshold; an action attempt programs the sensor."""
    changes = {name: value for name in ("name", "starts_daily_at", "ends_daily_at",
                                        "noise_threshold_decibels", "noise_threshold_nrs")
               if (value := getattr(params, name)) is not UNSET}
    attempt = await noise_sensors.update_threshold(
        ctx.rt, ctx.workspace_id, params.device_id, params.noise_threshold_id, changes=changes,
        sync=params.sync)
    return Extra(value=None, extra={"action_attempt": attempt})


class DeleteThresholdParams(msgspec.Struct):
    device_id: str
    noise_threshold_id: str
    sync: bool = False


@route("/noise_sensors/noise_thresholds/delete", alias="DELETE", params=DeleteThresholdParams)
async def delete_threshold(ctx: Ctx, params: DeleteThresholdParams) -> Extra:
    """Remove a threshold; an action attempt programs the sensor."""
    attempt = await noise_sensors.delete_threshold(
        ctx.rt, ctx.workspace_id, params.device_id, params.noise_threshold_id, sync=params.sync)
    return Extra(value=None, extra={"action_attempt": attempt})


class GetThresholdParams(msgspec.Struct):
    noise_threshold_id: str


@route("/noise_sensors/noise_thresholds/get", alias="GET", params=GetThresholdParams,
       response_key="noise_threshold", response=dict[str, Any])
async def get_threshold(ctx: Ctx, params: GetThresholdParams) -> dict[str, Any]:
    """Get a threshold."""
    return await noise_sensors.get_threshold(ctx.rt, ctx.workspace_id, params.noise_threshold_id,
                                             await session_scope.visible_devices(ctx))


class ListThresholdsParams(msgspec.Struct):
    device_id: str
    is_programmed: bool | UnsetType = UNSET


@route("/noise_sensors/noise_thresholds/list", alias="GET", params=ListThresholdsParams,
       response_key="noise_thresholds", response=list[dict[str, Any]], client_session=True)
async def list_thresholds(ctx: Ctx, params: ListThresholdsParams) -> list[dict[str, Any]]:
    """List a sensor's thresholds (`is_programmed`: only those the sensor has, or not yet)."""
    return await noise_sensors.list_thresholds(ctx.rt, ctx.workspace_id, params.device_id,
                                               is_programmed=given(params.is_programmed))


class TriggerParams(msgspec.Struct):
    device_id: str


@route("/noise_sensors/simulate/trigger_noise_threshold", params=TriggerParams,
       sandbox_only=True)
async def simulate_trigger_noise_threshold(ctx: Ctx, params: TriggerParams) -> None:
    """Sandbox: noise above the sensor's threshold, rising then falling back."""
    await sandbox.simulate_noise_threshold_triggered(ctx.rt, ctx.workspace_id, params.device_id)
