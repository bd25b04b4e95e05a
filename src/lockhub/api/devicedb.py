"""`/internal/devicedb/v1/*`: Seam's device database, answered from lockhub's brand catalogue
(`domain/devicedb.py`), for Seam Components' supported-devices table
(`<seam-supported-device-table>`).

The components call these with GET and the parameters in the query string (arrays as
repeated keys, `name=` for an empty one), exactly as `@seamapi/types/devicedb` declares them
(there under `/api/v1/...`); POST with a JSON body is accepted too, as on every lockhub route.
Errors are Seam's envelope; an unknown id is a 404 (`manufacturer_not_found`,
`device_model_not_found`).

Auth: the components send whatever their Seam client holds, which is always a client session
token (`Authorization: Bearer seam_cst…` and `client-session-token`; a component given a
publishable key first trades it for a session at `/client_sessions/get_or_create`). Seam's own
device database declares publishable-key auth. So these routes accept a client session token
or a publishable key (with CORS, from the integrator's origin), and an API key or personal
access token from a backend, like any workspace route. The answer is the same catalogue for
every caller of a workspace and holds nothing of the workspace but which brands it can connect
(as `/devices/list_device_providers` tells the same callers).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.params import given
from lockhub.api.routing import route
from lockhub.domain import devicedb
from lockhub.domain.devicedb import DeviceCategory, DeviceModelV1, Manufacturer, SupportLevel
from lockhub.domain.liqe import LiqeError
from lockhub.errors import InvalidInput, NotFound
from lockhub.services import workspaces as workspace_service

PREFIX = "/internal/devicedb/v1"
DotPath = Annotated[str, Meta(pattern=r"^([a-z])[a-z_.]*[a-z]+$")]


class ListManufacturersParams(msgspec.Struct, kw_only=True):
    integration_status: SupportLevel | UnsetType = UNSET  # deprecated by Seam
    integration_support_levels: list[SupportLevel] | UnsetType = UNSET
    liqe_query: str | UnsetType = UNSET


class GetManufacturerParams(msgspec.Struct, kw_only=True):
    manufacturer_id: uuid.UUID


class ListDeviceModelsParams(msgspec.Struct, kw_only=True):
    main_category: DeviceCategory | UnsetType = UNSET
    manufacturer_id: uuid.UUID | UnsetType = UNSET
    manufacturer_ids: list[uuid.UUID] | UnsetType = UNSET
    integration_status: SupportLevel | UnsetType = UNSET  # deprecated by Seam
    integration_support_levels: list[SupportLevel] | UnsetType = UNSET
    text_search: str | UnsetType = UNSET
    include_if: list[DotPath] | UnsetType = UNSET
    exclude_if: list[DotPath] | UnsetType = UNSET


class GetDeviceModelParams(msgspec.Struct, kw_only=True):
    device_model_id: uuid.UUID


async def _available(ctx: Ctx) -> set[str]:
    """The brands the caller's workspace can connect (as /devices/list_device_providers)."""
    async with ctx.rt.db.read() as conn:
        is_sandbox = await workspace_service.is_sandbox(conn, ctx.workspace_id)
    return set(ctx.rt.providers.for_workspace(is_sandbox))


def _levels(status: SupportLevel | UnsetType,
            levels: list[SupportLevel] | UnsetType) -> list[str] | None:
    if status is UNSET and levels is UNSET:
        return None
    return [*given(levels, []), *([] if status is UNSET else [status])]


@route(f"{PREFIX}/manufacturers/list", alias="GET", params=ListManufacturersParams,
       response_key="manufacturers", response=list[Manufacturer], client_session=True,
       publishable_key=True)
async def list_manufacturers(ctx: Ctx, params: ListManufacturersParams) -> list[Manufacturer]:
    """List the manufacturers (catalogue brands), filtered by support level and a Liqe query."""
    found = devicedb.manufacturers(await _available(ctx), ctx.rt.settings.base_url)
    try:
        return devicedb.filter_manufacturers(
            found, levels=_levels(params.integration_status, params.integration_support_levels),
            liqe_query=given(params.liqe_query))
    except LiqeError as exc:
        raise InvalidInput.for_field(["liqe_query"], str(exc)) from None


@route(f"{PREFIX}/manufacturers/get", alias="GET", params=GetManufacturerParams,
       response_key="manufacturer", response=Manufacturer, client_session=True,
       publishable_key=True)
async def get_manufacturer(ctx: Ctx, params: GetManufacturerParams) -> Manufacturer:
    """Get a manufacturer (catalogue brand) by id."""
    wanted = str(params.manufacturer_id)
    for manufacturer in devicedb.manufacturers(await _available(ctx), ctx.rt.settings.base_url):
        if manufacturer.manufacturer_id == wanted:
            return manufacturer
    raise NotFound("manufacturer", {"manufacturer_id": wanted})


@route(f"{PREFIX}/device_models/list", alias="GET", params=ListDeviceModelsParams,
       response_key="device_models", response=list[DeviceModelV1], client_session=True,
       publishable_key=True)
async def list_device_models(ctx: Ctx, params: ListDeviceModelsParams) -> list[DeviceModelV1]:
    """List the device models of the catalogue, filtered."""
    # Both given: a model must match both (the one id, and be among the ids).
    manufacturer_ids = None
    if params.manufacturer_ids is not UNSET:
        manufacturer_ids = [str(i) for i in params.manufacturer_ids]
    if params.manufacturer_id is not UNSET:
        one = str(params.manufacturer_id)
        manufacturer_ids = [one] if manufacturer_ids is None or one in manufacturer_ids else []
    return devicedb.filter_device_models(
        devicedb.device_models(await _available(ctx), ctx.rt.settings.base_url),
        main_category=given(params.main_category), manufacturer_ids=manufacturer_ids,
        levels=_levels(params.integration_status, params.integration_support_levels),
        text_search=given(params.text_search), include_if=given(params.include_if),
        exclude_if=given(params.exclude_if))


@route(f"{PREFIX}/device_models/get", alias="GET", params=GetDeviceModelParams,
       response_key="device_model", response=DeviceModelV1, client_session=True,
       publishable_key=True)
async def get_device_model(ctx: Ctx, params: GetDeviceModelParams) -> DeviceModelV1:
    """Get a device model of the catalogue by id."""
    wanted = str(params.device_model_id)
    for model in devicedb.device_models(await _available(ctx), ctx.rt.settings.base_url):
        if model.device_model_id == wanted:
            return model
    raise NotFound("device_model", {"device_model_id": wanted})
