"""/devices/*, /devices/unmanaged/* and /locks/list|get"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api import session_scope
from lockhub.api.context import Ctx
from lockhub.api.pagination import decode_cursor, page_limit
from lockhub.api.params import given
from lockhub.api.routing import Extra, Page, route
from lockhub.domain.enums import (
    DeviceType,
    LockDeviceType,
    LockManufacturer,
    Manufacturer,
    ProviderCategory,
)
from lockhub.domain.objects import Device, DeviceProvider
from lockhub.errors import InvalidInput
from lockhub.services import (
    client_sessions,
    connect_webviews,
    connected_accounts,
    devices,
    sandbox,
    spaces,
)
from lockhub.services import workspaces as workspace_service

Limit = Annotated[float, Meta(gt=0)]
MetadataValue = str | bool | None


class DeviceListFilters(msgspec.Struct):
    """Filters shared by /devices/list and /devices/unmanaged/list."""

    device_ids: list[str] | UnsetType = UNSET
    device_type: DeviceType | UnsetType = UNSET
    device_types: list[DeviceType] | UnsetType = UNSET
    manufacturer: Manufacturer | UnsetType = UNSET
    connected_account_id: str | UnsetType = UNSET
    connected_account_ids: list[str] | UnsetType = UNSET
    connect_webview_id: str | UnsetType = UNSET
    created_before: datetime | UnsetType = UNSET
    search: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    page_cursor: str | None | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET


class ListDevicesParams(DeviceListFilters):
    custom_metadata_has: dict[str, MetadataValue] | UnsetType = UNSET
    space_id: str | UnsetType = UNSET
    user_identifier_key: str | UnsetType = UNSET
    limit: Limit = 500


class ListUnmanagedDevicesParams(DeviceListFilters):
    limit: Limit = 22900


class ListLocksParams(msgspec.Struct):
    # Seam's /locks/list has no device_ids filter: accepting one here would filter on lockhub
    # and not on Seam.
    device_type: LockDeviceType | UnsetType = UNSET
    device_types: list[LockDeviceType] | UnsetType = UNSET
    manufacturer: LockManufacturer | UnsetType = UNSET
    connected_account_id: str | UnsetType = UNSET
    connect_webview_id: str | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET


class GetDeviceParams(msgspec.Struct):
    device_id: str | UnsetType = UNSET
    name: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.device_id is UNSET and self.name is UNSET:
            raise ValueError("Either device_id or name is required")


class UpdateDeviceProperties(msgspec.Struct):
    name: str | None | UnsetType = UNSET


class UpdateDeviceParams(msgspec.Struct):
    device_id: str
    name: str | None | UnsetType = UNSET
    properties: UpdateDeviceProperties | UnsetType = UNSET
    custom_metadata: dict[str, MetadataValue] | UnsetType = UNSET
    is_managed: bool | UnsetType = UNSET
    backup_access_code_pool_enabled: bool | UnsetType = UNSET


class UpdateUnmanagedDeviceParams(msgspec.Struct):
    device_id: str
    is_managed: bool | UnsetType = UNSET
    custom_metadata: dict[str, MetadataValue] | UnsetType = UNSET


class ListDeviceProvidersParams(msgspec.Struct):
    provider_category: ProviderCategory | UnsetType = UNSET


async def device_filters(ctx: Ctx, params: Any, kind: str | None = None) -> devices.DeviceFilters:
    """The filters of a device list's parameters, narrowed to what a client session sees;
    `kind` keeps one kind of device (/locks/list, /thermostats/list, /noise_sensors/list)."""
    types: list[str] | None = None
    if params.device_types is not UNSET:
        types = list(params.device_types)
    if params.device_type is not UNSET:
        types = [params.device_type] if types is None else [t for t in types
                                                           if t == params.device_type]
    accounts: list[str] | None = None
    if getattr(params, "connected_account_ids", UNSET) is not UNSET:
        accounts = list(params.connected_account_ids)
    if params.connected_account_id is not UNSET:
        accounts = [params.connected_account_id] if accounts is None else [
            a for a in accounts if a == params.connected_account_id]
    device_ids = given(getattr(params, "device_ids", UNSET))
    if params.connect_webview_id is not UNSET:
        account = await connect_webviews.connected_account_of(ctx.rt, ctx.workspace_id,
                                                              params.connect_webview_id)
        accounts = [a for a in (accounts or [account]) if account is not None and a == account]
    user_key = getattr(params, "user_identifier_key", UNSET)
    if user_key is not UNSET:
        device_ids = session_scope.narrowed(device_ids, await client_sessions.devices_of_user(
            ctx.rt, ctx.workspace_id, user_key))
    space_id = getattr(params, "space_id", UNSET)
    if space_id is not UNSET:
        device_ids = session_scope.narrowed(device_ids, set(await spaces.devices_in_space(
            ctx.rt, ctx.workspace_id, space_id)))
    if getattr(params, "customer_key", UNSET) is not UNSET:
        # Customers hold no devices in lockhub yet: a filter on one matches no device (rather
        # than being ignored).
        accounts = []
    return devices.DeviceFilters(
        device_ids=session_scope.narrowed(device_ids, await session_scope.visible_devices(ctx)),
        device_types=types,
        manufacturer=given(params.manufacturer),
        connected_account_ids=accounts,
        created_before=given(getattr(params, "created_before", UNSET)),
        custom_metadata_has=given(getattr(params, "custom_metadata_has", UNSET)),
        search=given(getattr(params, "search", UNSET)),
        kind=kind,
    )


async def _page(ctx: Ctx, params: Any, managed: bool) -> Page:
    after = decode_cursor(ctx, params)
    items, next_after = await devices.list_devices(
        ctx.rt, ctx.workspace_id, await device_filters(ctx, params), managed=managed, after=after,
        limit=page_limit(params.limit))
    return Page(items=items, next_after=next_after)


@route("/devices/list", alias="GET", params=ListDevicesParams, response_key="devices",
       response=list[Device], paginated=True, client_session=True)
async def list_devices(ctx: Ctx, params: ListDevicesParams) -> Page:
    """List managed devices."""
    return await _page(ctx, params, managed=True)


@route("/devices/unmanaged/list", alias="GET", params=ListUnmanagedDevicesParams,
       response_key="devices", response=list[Device], paginated=True)
async def list_unmanaged_devices(ctx: Ctx, params: ListUnmanagedDevicesParams) -> Page:
    """List unmanaged devices."""
    return await _page(ctx, params, managed=False)


@route("/locks/list", alias="GET", params=ListLocksParams, response_key="devices",
       response=list[Device], client_session=True)
async def list_locks(ctx: Ctx, params: ListLocksParams) -> list[msgspec.Raw]:
    """List managed locks."""
    items, _ = await devices.list_devices(ctx.rt, ctx.workspace_id,
                                          await device_filters(ctx, params, kind="lock"))
    return items


async def _get(ctx: Ctx, params: GetDeviceParams, managed: bool) -> Device | msgspec.Raw:
    if params.name is UNSET and isinstance(params.device_id, str):
        return await devices.served_device(ctx.rt, ctx.workspace_id, params.device_id,
                                           managed=managed)
    async with ctx.rt.db.read() as conn:
        row = await devices.get_row(conn, ctx.workspace_id, device_id=given(params.device_id),
                                    name=given(params.name), managed=managed)
    return devices.to_device(row, ctx.rt.settings.base_url)


@route("/devices/get", alias="GET", params=GetDeviceParams, response_key="device",
       response=Device, client_session=True)
async def get_device(ctx: Ctx, params: GetDeviceParams) -> Device | msgspec.Raw:
    """Get a managed device by id or name."""
    return await _get(ctx, params, managed=True)


@route("/locks/get", alias="GET", params=GetDeviceParams, response_key="device",
       response=Device, client_session=True)
async def get_lock(ctx: Ctx, params: GetDeviceParams) -> Extra:
    """Get a lock by id or name (deprecated alias of /devices/get); Seam answers it under both
    `device` and `lock`."""
    device = await _get(ctx, params, managed=True)
    return Extra(value=device, extra={"lock": device})


@route("/devices/unmanaged/get", alias="GET", params=GetDeviceParams, response_key="device",
       response=Device, client_session=True)
async def get_unmanaged_device(ctx: Ctx, params: GetDeviceParams) -> Device | msgspec.Raw:
    """Get an unmanaged device by id or name."""
    return await _get(ctx, params, managed=False)


class DeviceIdParams(msgspec.Struct):
    device_id: str


@route("/devices/delete", alias="DELETE", params=DeviceIdParams)
async def delete_device(ctx: Ctx, params: DeviceIdParams) -> None:
    """Remove a device and its codes from lockhub (deprecated in Seam's API; PINs stay on the
    lock, and signing in to its account again finds it if the provider still reports it)."""
    await connected_accounts.delete_device(ctx.rt, ctx.workspace_id, params.device_id)


@route("/devices/update", alias="PATCH", params=UpdateDeviceParams, client_session=True)
async def update_device(ctx: Ctx, params: UpdateDeviceParams) -> None:
    """Rename a device, change its custom metadata, or make it unmanaged."""
    name = params.name
    if name is UNSET and params.properties is not UNSET:
        name = params.properties.name
    await devices.update_device(ctx.rt, ctx.workspace_id, params.device_id, managed=True,
                                name=name, custom_metadata=params.custom_metadata,
                                is_managed=params.is_managed,
                                backup_pool_enabled=params.backup_access_code_pool_enabled)


@route("/devices/unmanaged/update", alias="PATCH", params=UpdateUnmanagedDeviceParams)
async def update_unmanaged_device(ctx: Ctx, params: UpdateUnmanagedDeviceParams) -> None:
    """Make an unmanaged device managed again, or change its custom metadata."""
    if params.is_managed is False:
        raise InvalidInput.for_field(["is_managed"], "Invalid literal value, expected true")
    await devices.update_device(ctx.rt, ctx.workspace_id, params.device_id, managed=False,
                                custom_metadata=params.custom_metadata,
                                is_managed=params.is_managed)


@route("/devices/list_device_providers", alias="GET", params=ListDeviceProvidersParams,
       response_key="device_providers", response=list[DeviceProvider], client_session=True)
async def list_device_providers(ctx: Ctx, params: ListDeviceProvidersParams) -> list[DeviceProvider]:
    """List the device providers (brands) this workspace can connect: the sandbox brands in a
    sandbox workspace, the real providers lockhub has in a production one."""
    async with ctx.rt.db.read() as conn:
        is_sandbox = await workspace_service.is_sandbox(conn, ctx.workspace_id)
    return devices.device_providers(given(params.provider_category),
                                    set(ctx.rt.providers.for_workspace(is_sandbox)),
                                    ctx.rt.settings.base_url)


class SimulateDeviceParams(msgspec.Struct):
    device_id: str


class SimulatePaidSubscriptionParams(msgspec.Struct):
    device_id: str
    is_expired: bool


def _simulation(name: str, summary: str) -> None:
    async def handler(ctx: Ctx, params: SimulateDeviceParams) -> None:
        await sandbox.simulate(ctx.rt, ctx.workspace_id, params.device_id, name)

    handler.__doc__ = summary
    route(f"/devices/simulate/{name}", params=SimulateDeviceParams, sandbox_only=True)(handler)


_simulation("connect", "Sandbox: the device comes back online.")
_simulation("disconnect", "Sandbox: the device goes offline.")
_simulation("connect_to_hub", "Sandbox: the device's hub link is restored.")
_simulation("disconnect_from_hub", "Sandbox: the device loses its hub link.")
_simulation("remove", "Sandbox: the device is removed from its provider account.")


@route("/devices/simulate/paid_subscription", params=SimulatePaidSubscriptionParams,
       sandbox_only=True)
async def simulate_paid_subscription(ctx: Ctx, params: SimulatePaidSubscriptionParams) -> None:
    """Sandbox: the paid third-party plan the device needs lapses (or is renewed)."""
    await sandbox.simulate(ctx.rt, ctx.workspace_id, params.device_id, "paid_subscription",
                           is_expired=params.is_expired)
