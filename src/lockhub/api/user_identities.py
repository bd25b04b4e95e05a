"""/user_identities/*: the people an integrator gives access to, and their devices.

lockhub has no access-control systems: the ACS parts of a user identity (its access systems,
ACS users, entrances) list nothing, and adding or removing an ACS user answers
`acs_user_not_found`, as Seam does for an ACS user id that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.pagination import decode_cursor, page_limit
from lockhub.api.params import given
from lockhub.api.routing import Extra, Page, route
from lockhub.domain.objects import Device, UserIdentity
from lockhub.errors import NotFound
from lockhub.services import access_grants, devices
from lockhub.services import user_identities as service

NonEmpty = Annotated[str, Meta(min_length=1)]


class CreateUserIdentityParams(msgspec.Struct):
    user_identity_key: NonEmpty | None | UnsetType = UNSET
    email_address: str | None | UnsetType = UNSET
    phone_number: str | None | UnsetType = UNSET
    full_name: NonEmpty | None | UnsetType = UNSET
    acs_system_ids: list[str] | UnsetType = UNSET


class GetUserIdentityParams(msgspec.Struct):
    user_identity_id: str | UnsetType = UNSET
    user_identity_key: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.user_identity_id is UNSET and self.user_identity_key is UNSET:
            raise ValueError("Either user_identity_id or user_identity_key is required")


class ListUserIdentitiesParams(msgspec.Struct):
    user_identity_ids: list[str] | UnsetType = UNSET
    search: NonEmpty | UnsetType = UNSET
    created_before: datetime | UnsetType = UNSET
    credential_manager_acs_system_id: str | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1)] = 500
    page_cursor: str | None | UnsetType = UNSET


class UpdateUserIdentityParams(msgspec.Struct):
    user_identity_id: str
    user_identity_key: NonEmpty | None | UnsetType = UNSET
    email_address: str | None | UnsetType = UNSET
    phone_number: str | None | UnsetType = UNSET
    full_name: NonEmpty | None | UnsetType = UNSET


class UserIdentityIdParams(msgspec.Struct):
    user_identity_id: str


class UserIdentityDeviceParams(msgspec.Struct):
    user_identity_id: str
    device_id: str


class AddAcsUserParams(msgspec.Struct):
    acs_user_id: str
    user_identity_id: str | UnsetType = UNSET
    user_identity_key: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.user_identity_id is UNSET and self.user_identity_key is UNSET:
            raise ValueError("Either user_identity_id or user_identity_key is required")


class RemoveAcsUserParams(msgspec.Struct):
    acs_user_id: str
    user_identity_id: str


_FIELDS = ("user_identity_key", "email_address", "phone_number", "full_name")


def _given_fields(params: Any) -> dict[str, Any]:
    return {name: getattr(params, name) for name in _FIELDS
            if getattr(params, name) is not UNSET}


@route("/user_identities/create", params=CreateUserIdentityParams,
       response_key="user_identity", response=UserIdentity)
async def create_user_identity(ctx: Ctx, params: CreateUserIdentityParams) -> UserIdentity:
    """Create a user identity (key, email address and phone number unique in the workspace)."""
    if params.acs_system_ids:
        raise NotFound("acs_system", {"acs_system_id": params.acs_system_ids[0]})
    return await service.create(ctx.rt, ctx.workspace_id, _given_fields(params))


@route("/user_identities/get", alias="GET", params=GetUserIdentityParams,
       response_key="user_identity", response=UserIdentity)
async def get_user_identity(ctx: Ctx, params: GetUserIdentityParams) -> UserIdentity:
    """Get a user identity by id or by key."""
    return await service.get(ctx.rt, ctx.workspace_id,
                             user_identity_id=given(params.user_identity_id),
                             user_identity_key=given(params.user_identity_key))


@route("/user_identities/list", alias="GET", params=ListUserIdentitiesParams,
       response_key="user_identities", response=list[UserIdentity], paginated=True,
       client_session=True)
async def list_user_identities(ctx: Ctx, params: ListUserIdentitiesParams) -> Page:
    """List user identities, oldest first (a client session: only its own)."""
    ids = given(params.user_identity_ids)
    grant = ctx.principal.client_session if ctx.principal else None
    if grant is not None:
        ids = [i for i in (ids or grant.user_identity_ids) if i in grant.user_identity_ids]
    if params.credential_manager_acs_system_id is not UNSET:
        ids = []  # no access-control systems: no identity is managed by one
    items, next_after = await service.list_page(
        ctx.rt, ctx.workspace_id, ids=ids, search=given(params.search),
        created_before=given(params.created_before), after=decode_cursor(ctx, params),
        limit=page_limit(params.limit))
    return Page(items=items, next_after=next_after)


@route("/user_identities/update", alias="PATCH", params=UpdateUserIdentityParams)
async def update_user_identity(ctx: Ctx, params: UpdateUserIdentityParams) -> None:
    """Change a user identity's key, email address, phone number or name (null clears)."""
    await service.update(ctx.rt, ctx.workspace_id, params.user_identity_id,
                         _given_fields(params))


@route("/user_identities/delete", alias="DELETE", params=UserIdentityIdParams)
async def delete_user_identity(ctx: Ctx, params: UserIdentityIdParams) -> None:
    """Delete a user identity, its device grants and its access grants (their codes leave the
    locks)."""
    await access_grants.delete_user_identity(ctx.rt, ctx.workspace_id, params.user_identity_id)


@route("/user_identities/grant_access_to_device", alias="PUT", params=UserIdentityDeviceParams)
async def grant_access_to_device(ctx: Ctx, params: UserIdentityDeviceParams) -> None:
    """Give a user identity a device (a client session holding the identity then sees it)."""
    await service.grant_device(ctx.rt, ctx.workspace_id, params.user_identity_id,
                               params.device_id)


@route("/user_identities/revoke_access_to_device", alias="DELETE",
       params=UserIdentityDeviceParams)
async def revoke_access_to_device(ctx: Ctx, params: UserIdentityDeviceParams) -> None:
    """Take a device back from a user identity."""
    await service.revoke_device(ctx.rt, ctx.workspace_id, params.user_identity_id,
                                params.device_id)


@route("/user_identities/list_accessible_devices", alias="GET", params=UserIdentityIdParams,
       response_key="devices", response=list[Device])
async def list_accessible_devices(ctx: Ctx, params: UserIdentityIdParams) -> Extra:
    """The devices granted to a user identity, as `devices` and `accessible_devices`."""
    async with ctx.rt.db.read() as conn:
        await service.get_row(conn, ctx.workspace_id, user_identity_id=params.user_identity_id)
        ids = await service.accessible_device_ids(conn, ctx.workspace_id,
                                                  [params.user_identity_id])
    items: list[Any] = []
    if ids:
        items, _ = await devices.list_devices(ctx.rt, ctx.workspace_id,
                                              devices.DeviceFilters(device_ids=ids))
    return Extra(value=items, extra={"accessible_devices": items})


@route("/user_identities/list_acs_systems", alias="GET", params=UserIdentityIdParams,
       response_key="acs_systems", response=list[dict[str, Any]], client_session=True)
async def list_acs_systems(ctx: Ctx, params: UserIdentityIdParams) -> list[Any]:
    """Access-control systems of a user identity: none in lockhub."""
    await service.get(ctx.rt, ctx.workspace_id, user_identity_id=params.user_identity_id)
    return []


@route("/user_identities/list_acs_users", alias="GET", params=UserIdentityIdParams,
       response_key="acs_users", response=list[dict[str, Any]])
async def list_acs_users(ctx: Ctx, params: UserIdentityIdParams) -> list[Any]:
    """ACS users of a user identity: none in lockhub."""
    await service.get(ctx.rt, ctx.workspace_id, user_identity_id=params.user_identity_id)
    return []


@route("/user_identities/list_accessible_entrances", alias="GET", params=UserIdentityIdParams,
       response_key="acs_entrances", response=list[dict[str, Any]], client_session=True)
async def list_accessible_entrances(ctx: Ctx, params: UserIdentityIdParams) -> list[Any]:
    """ACS entrances a user identity can open: none in lockhub."""
    await service.get(ctx.rt, ctx.workspace_id, user_identity_id=params.user_identity_id)
    return []


@route("/user_identities/add_acs_user", alias="PUT", params=AddAcsUserParams)
async def add_acs_user(ctx: Ctx, params: AddAcsUserParams) -> None:
    """Link an ACS user: lockhub has none, so the id is never found."""
    await service.get(ctx.rt, ctx.workspace_id, user_identity_id=given(params.user_identity_id),
                      user_identity_key=given(params.user_identity_key))
    raise NotFound("acs_user", {"acs_user_id": params.acs_user_id})


@route("/user_identities/remove_acs_user", alias="DELETE", params=RemoveAcsUserParams)
async def remove_acs_user(ctx: Ctx, params: RemoveAcsUserParams) -> None:
    """Unlink an ACS user: lockhub has none, so the id is never found."""
    await service.get(ctx.rt, ctx.workspace_id, user_identity_id=params.user_identity_id)
    raise NotFound("acs_user", {"acs_user_id": params.acs_user_id})

