"""/spaces/*: groups of devices (a unit, a building), directly or through connected accounts.

lockhub has no access-control systems: a space holds no entrances, so adding or removing an
entrance answers `acs_entrance_not_found`, as Seam does for an entrance id that does not exist,
and the ACS parts of `/spaces/get_related` list nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.pagination import decode_cursor, page_limit
from lockhub.api.params import given
from lockhub.api.routing import Page, route
from lockhub.domain.objects import Space, SpaceBatch
from lockhub.services import access_grants, devices
from lockhub.services import spaces as service

NonEmpty = Annotated[str, Meta(min_length=1)]
TimeOfDay = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")]
RelatedKind = Literal["spaces", "devices", "acs_entrances", "connected_accounts", "acs_systems",
                  "access_methods"]


class SpaceCustomerData(msgspec.Struct):
    address: str | None | UnsetType = UNSET
    default_checkin_time: TimeOfDay | None | UnsetType = UNSET
    default_checkout_time: TimeOfDay | None | UnsetType = UNSET
    time_zone: str | None | UnsetType = UNSET


class CreateSpaceParams(msgspec.Struct):
    name: str
    space_key: NonEmpty | UnsetType = UNSET
    customer_key: NonEmpty | UnsetType = UNSET
    customer_data: SpaceCustomerData | UnsetType = UNSET
    device_ids: list[str] | UnsetType = UNSET
    connected_account_ids: list[str] | UnsetType = UNSET
    acs_entrance_ids: list[str] | UnsetType = UNSET


class GetSpaceParams(msgspec.Struct):
    space_id: str | UnsetType = UNSET
    space_key: NonEmpty | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.space_id is UNSET and self.space_key is UNSET:
            raise ValueError("Either space_id or space_key is required")


class ListSpacesParams(msgspec.Struct):
    customer_key: NonEmpty | UnsetType = UNSET
    search: NonEmpty | UnsetType = UNSET
    connected_account_id: str | UnsetType = UNSET
    space_key: NonEmpty | UnsetType = UNSET
    parent_space_id: str | UnsetType = UNSET
    parent_space_key: NonEmpty | UnsetType = UNSET
    limit: Annotated[float, Meta(gt=0)] = 500
    page_cursor: str | None | UnsetType = UNSET


class UpdateSpaceParams(msgspec.Struct):
    space_id: str | UnsetType = UNSET
    space_key: NonEmpty | UnsetType = UNSET
    name: str | UnsetType = UNSET
    customer_data: SpaceCustomerData | UnsetType = UNSET
    device_ids: list[str] | UnsetType = UNSET
    acs_entrance_ids: list[str] | UnsetType = UNSET
    parent_space_id: str | UnsetType = UNSET
    parent_space_key: NonEmpty | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.space_id is UNSET and self.space_key is UNSET:
            raise ValueError("Either space_id or space_key is required")


class SpaceIdParams(msgspec.Struct):
    space_id: str


class AddSpaceDevicesParams(msgspec.Struct):
    space_id: str
    device_ids: Annotated[list[str], Meta(min_length=1)]


class RemoveSpaceDevicesParams(msgspec.Struct):
    space_id: str
    device_ids: list[str]


class SpaceConnectedAccountParams(msgspec.Struct):
    space_id: str
    connected_account_id: str


class AddSpaceAcsEntrancesParams(msgspec.Struct):
    space_id: str
    acs_entrance_ids: Annotated[list[str], Meta(min_length=1)]


class RemoveSpaceAcsEntrancesParams(msgspec.Struct):
    space_id: str
    acs_entrance_ids: list[str]


class GetRelatedSpacesParams(msgspec.Struct):
    space_ids: list[str] | UnsetType = UNSET
    space_keys: list[NonEmpty] | UnsetType = UNSET
    include: list[RelatedKind] | UnsetType = UNSET
    exclude: list[RelatedKind] | UnsetType = UNSET


def _customer_data(value: SpaceCustomerData | UnsetType) -> dict[str, str | None] | None:
    """The keys given (null: clear it), or None when customer_data was left out."""
    if isinstance(value, UnsetType):
        return None
    return {name: getattr(value, name) for name in value.__struct_fields__
            if getattr(value, name) is not UNSET}


@route("/spaces/create", params=CreateSpaceParams, response_key="space", response=Space)
async def create_space(ctx: Ctx, params: CreateSpaceParams) -> Space:
    """Create a space, with devices and connected accounts in it from the start."""
    service.check_acs_entrances(given(params.acs_entrance_ids, []))
    return await service.create(
        ctx.rt, ctx.workspace_id, name=params.name, space_key=given(params.space_key),
        customer_key=given(params.customer_key),
        customer_data=_customer_data(params.customer_data) or {},
        device_ids=given(params.device_ids, []),
        connected_account_ids=given(params.connected_account_ids, []))


@route("/spaces/get", alias="GET", params=GetSpaceParams, response_key="space", response=Space)
async def get_space(ctx: Ctx, params: GetSpaceParams) -> Space:
    """Get a space by id or by key."""
    return await service.get(ctx.rt, ctx.workspace_id, space_id=given(params.space_id),
                             space_key=given(params.space_key))


@route("/spaces/list", alias="GET", params=ListSpacesParams, response_key="spaces",
       response=list[Space], paginated=True)
async def list_spaces(ctx: Ctx, params: ListSpacesParams) -> Page:
    """List spaces, oldest first."""
    filters = service.SpaceFilters(
        customer_key=given(params.customer_key), search=given(params.search),
        connected_account_id=given(params.connected_account_id),
        space_key=given(params.space_key), parent_space_id=given(params.parent_space_id),
        parent_space_key=given(params.parent_space_key))
    items, next_after = await service.list_page(
        ctx.rt, ctx.workspace_id, filters, after=decode_cursor(ctx, params),
        limit=page_limit(params.limit))
    return Page(items=items, next_after=next_after)


@route("/spaces/update", alias="PATCH", params=UpdateSpaceParams, response_key="space",
       response=Space)
async def update_space(ctx: Ctx, params: UpdateSpaceParams) -> Space:
    """Rename a space, change its customer data or parent; `device_ids` replaces its devices."""
    if params.acs_entrance_ids:
        await service.get(ctx.rt, ctx.workspace_id, space_id=given(params.space_id),
                          space_key=given(params.space_key))
        service.check_acs_entrances(params.acs_entrance_ids)
    return await service.update(
        ctx.rt, ctx.workspace_id, space_id=given(params.space_id),
        space_key=given(params.space_key), name=given(params.name),
        customer_data=_customer_data(params.customer_data), device_ids=given(params.device_ids),
        parent_space_id=given(params.parent_space_id),
        parent_space_key=given(params.parent_space_key))


@route("/spaces/delete", alias="DELETE", params=SpaceIdParams)
async def delete_space(ctx: Ctx, params: SpaceIdParams) -> None:
    """Delete a space; its devices and accounts are not touched."""
    await service.delete(ctx.rt, ctx.workspace_id, params.space_id)


@route("/spaces/add_devices", alias="PUT", params=AddSpaceDevicesParams)
async def add_devices(ctx: Ctx, params: AddSpaceDevicesParams) -> None:
    """Add devices to a space (all of them, or none if one is not found)."""
    await service.add_devices(ctx.rt, ctx.workspace_id, params.space_id, params.device_ids)


@route("/spaces/remove_devices", alias="DELETE", params=RemoveSpaceDevicesParams)
async def remove_devices(ctx: Ctx, params: RemoveSpaceDevicesParams) -> None:
    """Take devices added directly out of a space."""
    await service.remove_devices(ctx.rt, ctx.workspace_id, params.space_id, params.device_ids)


@route("/spaces/add_connected_account", alias="PUT", params=SpaceConnectedAccountParams)
async def add_connected_account(ctx: Ctx, params: SpaceConnectedAccountParams) -> None:
    """Add a connected account to a space: all its devices are in the space."""
    await service.add_connected_account(ctx.rt, ctx.workspace_id, params.space_id,
                                        params.connected_account_id)


@route("/spaces/remove_connected_account", alias="DELETE", params=SpaceConnectedAccountParams)
async def remove_connected_account(ctx: Ctx, params: SpaceConnectedAccountParams) -> None:
    """Take a connected account (and its devices not added directly) out of a space."""
    await service.remove_connected_account(ctx.rt, ctx.workspace_id, params.space_id,
                                           params.connected_account_id)


@route("/spaces/add_acs_entrances", alias="PUT", params=AddSpaceAcsEntrancesParams)
async def add_acs_entrances(ctx: Ctx, params: AddSpaceAcsEntrancesParams) -> None:
    """Add entrances: lockhub has none, so the ids are never found."""
    await service.check_space(ctx.rt, ctx.workspace_id, params.space_id)
    service.check_acs_entrances(params.acs_entrance_ids)


@route("/spaces/remove_acs_entrances", alias="DELETE", params=RemoveSpaceAcsEntrancesParams)
async def remove_acs_entrances(ctx: Ctx, params: RemoveSpaceAcsEntrancesParams) -> None:
    """Remove entrances: lockhub has none, so the ids are never found."""
    await service.check_space(ctx.rt, ctx.workspace_id, params.space_id)
    service.check_acs_entrances(params.acs_entrance_ids)


@route("/spaces/get_related", alias="GET", params=GetRelatedSpacesParams, response_key="batch",
       response=SpaceBatch)
async def get_related(ctx: Ctx, params: GetRelatedSpacesParams) -> SpaceBatch:
    """Spaces by id or key, with their devices and connected accounts."""
    kinds = set(given(params.include, get_args(RelatedKind))) - set(given(params.exclude, []))
    found = await service.related(ctx.rt, ctx.workspace_id,
                                  space_ids=given(params.space_ids, []),
                                  space_keys=given(params.space_keys, []))
    batch = SpaceBatch()
    if "spaces" in kinds:
        batch.spaces = found.spaces
    if "devices" in kinds:
        items: list[Any] = []
        if found.device_ids:
            # Managed and unmanaged devices alike: both can be in a space.
            for managed in (True, False):
                page, _ = await devices.list_devices(
                    ctx.rt, ctx.workspace_id, devices.DeviceFilters(device_ids=found.device_ids),
                    managed=managed)
                items.extend(page)
        batch.devices = items
    if "connected_accounts" in kinds:
        batch.connected_accounts = found.connected_accounts
    if "access_methods" in kinds:
        batch.access_methods = await access_grants.methods_of_spaces(
            ctx.rt, ctx.workspace_id, [s.space_id for s in found.spaces])
    for empty in ("acs_entrances", "acs_systems"):
        if empty in kinds:
            setattr(batch, empty, [])
    return batch

