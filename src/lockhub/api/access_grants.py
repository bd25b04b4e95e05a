"""/access_grants/* and /access_methods/*: a person's access to devices and spaces for a time
window; for locks, `code` access methods become managed access codes (services/access_grants).

lockhub has no access-control systems: ACS entrances are never found, card and mobile-key
methods cannot be made (the grant says so in its errors), and the card routes of access
methods (`encode`, `assign_card`, `unlock_door` on an entrance) answer the entrance's or
encoder's 404, or that a PIN method holds no card.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.pagination import decode_cursor, page_limit
from lockhub.api.params import given
from lockhub.api.routing import Page, route
from lockhub.domain.objects import (
    AccessGrant,
    AccessGrantBatch,
    AccessMethod,
    AccessMethodBatch,
    ActionAttempt,
)
from lockhub.errors import LockhubError, NotFound
from lockhub.services import access_grants as service
from lockhub.services import connected_accounts, devices

NonEmpty = Annotated[str, Meta(min_length=1)]
Pin = Annotated[str, Meta(min_length=4, max_length=9, pattern=r"^\d+$")]
Mode = Literal["code", "card", "mobile_key", "cloud_key"]
GrantRelated = Literal["spaces", "devices", "acs_entrances", "connected_accounts",
                       "acs_systems", "user_identities", "acs_access_groups", "access_methods"]
MethodRelated = Literal["spaces", "devices", "acs_entrances", "access_grants", "access_methods",
                        "instant_keys", "client_sessions", "acs_credentials"]


class RequestedMethod(msgspec.Struct):
    mode: Mode
    code: Pin | UnsetType = UNSET
    instant_key_max_use_count: Annotated[int, Meta(ge=1)] | UnsetType = UNSET


class NewUserIdentity(msgspec.Struct):
    email_address: str | None | UnsetType = UNSET
    full_name: NonEmpty | None | UnsetType = UNSET
    phone_number: str | None | UnsetType = UNSET
    user_identity_key: NonEmpty | None | UnsetType = UNSET


class GrantLocation(msgspec.Struct):
    name: str | UnsetType = UNSET
    device_ids: list[str] = []
    acs_entrance_ids: list[str] = []


class CreateAccessGrantParams(msgspec.Struct):
    requested_access_methods: list[RequestedMethod]
    user_identity_id: str | UnsetType = UNSET
    user_identity: NewUserIdentity | UnsetType = UNSET
    device_ids: list[str] = []
    acs_entrance_ids: list[str] = []
    space_ids: list[str] = []
    space_keys: list[NonEmpty] = []
    location_ids: list[str] = []  # deprecated: space ids
    location: GrantLocation | UnsetType = UNSET  # deprecated: devices and entrances
    starts_at: datetime | None | UnsetType = UNSET
    ends_at: datetime | None | UnsetType = UNSET
    name: str | None | UnsetType = UNSET
    access_grant_key: NonEmpty | UnsetType = UNSET
    reservation_key: NonEmpty | UnsetType = UNSET
    customization_profile_id: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if (self.user_identity_id is UNSET) == (self.user_identity is UNSET):
            raise ValueError("Exactly one of user_identity_id or user_identity is required")


class AccessGrantRef(msgspec.Struct):
    access_grant_id: str | UnsetType = UNSET
    access_grant_key: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.access_grant_id is UNSET and self.access_grant_key is UNSET:
            raise ValueError("Either access_grant_id or access_grant_key is required")


class ListAccessGrantsParams(msgspec.Struct):
    access_grant_ids: list[str] | UnsetType = UNSET
    access_grant_key: str | UnsetType = UNSET
    user_identity_id: str | UnsetType = UNSET
    device_id: str | UnsetType = UNSET
    space_id: str | UnsetType = UNSET
    location_id: str | UnsetType = UNSET
    reservation_key: str | UnsetType = UNSET
    access_code_id: str | UnsetType = UNSET
    acs_entrance_id: str | UnsetType = UNSET
    acs_system_id: str | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET
    limit: Annotated[float, Meta(gt=0)] = 500
    page_cursor: str | None | UnsetType = UNSET


class UpdateAccessGrantParams(AccessGrantRef):
    name: str | None | UnsetType = UNSET
    starts_at: datetime | UnsetType = UNSET
    ends_at: datetime | UnsetType = UNSET


class AccessGrantIdParams(msgspec.Struct):
    access_grant_id: str


class GrantRelatedParams(msgspec.Struct):
    access_grant_ids: list[str] = []
    access_grant_keys: list[str] = []
    include: list[GrantRelated] | UnsetType = UNSET
    exclude: list[GrantRelated] | UnsetType = UNSET


class RequestMethodsParams(msgspec.Struct):
    access_grant_id: str
    requested_access_methods: list[RequestedMethod]


class AccessMethodIdParams(msgspec.Struct):
    access_method_id: str


class ListAccessMethodsParams(msgspec.Struct):
    access_grant_id: str | UnsetType = UNSET
    access_grant_key: str | UnsetType = UNSET
    device_id: str | UnsetType = UNSET
    access_code_id: str | UnsetType = UNSET
    space_id: str | UnsetType = UNSET
    acs_entrance_id: str | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1)] = 500
    page_cursor: str | None | UnsetType = UNSET


class DeleteAccessMethodsParams(msgspec.Struct):
    access_method_id: str | UnsetType = UNSET
    access_grant_id: str | UnsetType = UNSET
    reservation_key: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        given_ = [v for v in (self.access_method_id, self.access_grant_id, self.reservation_key)
                  if v is not UNSET]
        if len(given_) != 1:
            raise ValueError("Exactly one of access_method_id, access_grant_id or "
                             "reservation_key is required")


class MethodRelatedParams(msgspec.Struct):
    access_method_ids: list[str]
    include: list[MethodRelated] | UnsetType = UNSET
    exclude: list[MethodRelated] | UnsetType = UNSET


class UnlockParams(msgspec.Struct):
    access_method_id: str
    acs_entrance_id: str


class EncodeParams(msgspec.Struct):
    access_method_id: str
    acs_encoder_id: str


class AssignCardParams(msgspec.Struct):
    access_method_id: str
    card_number: str


def _requested(methods: list[RequestedMethod]) -> list[dict[str, Any]]:
    return [{k: v for k, v in msgspec.structs.asdict(m).items() if v is not UNSET}
            for m in methods]


def _no_entrances(ids: list[str]) -> None:
    if ids:
        raise NotFound("acs_entrance", {"acs_entrance_id": ids[0]})


# --- access grants -------------------------------------------------------------------------


@route("/access_grants/create", params=CreateAccessGrantParams, response_key="access_grant",
       response=AccessGrant)
async def create_access_grant(ctx: Ctx, params: CreateAccessGrantParams) -> AccessGrant:
    """Give a user identity (existing or new) access to devices and spaces for a window."""
    location = params.location if params.location is not UNSET else GrantLocation()
    _no_entrances([*params.acs_entrance_ids, *location.acs_entrance_ids])
    identity = None
    if params.user_identity is not UNSET:
        identity = {k: v for k, v in msgspec.structs.asdict(params.user_identity).items()
                    if v is not UNSET}
    return await service.create(ctx.rt, ctx.workspace_id, service.GrantRequest(
        user_identity_id=given(params.user_identity_id), user_identity=identity,
        device_ids=[*params.device_ids, *location.device_ids],
        space_ids=[*params.space_ids, *params.location_ids], space_keys=params.space_keys,
        requested_access_methods=_requested(params.requested_access_methods),
        starts_at=given(params.starts_at), ends_at=given(params.ends_at),
        name=given(params.name), access_grant_key=given(params.access_grant_key),
        reservation_key=given(params.reservation_key)))


@route("/access_grants/get", alias="GET", params=AccessGrantRef, response_key="access_grant",
       response=AccessGrant)
async def get_access_grant(ctx: Ctx, params: AccessGrantRef) -> AccessGrant:
    """Get an access grant by id or key."""
    return await service.get(ctx.rt, ctx.workspace_id,
                             access_grant_id=given(params.access_grant_id),
                             access_grant_key=given(params.access_grant_key))


@route("/access_grants/list", alias="GET", params=ListAccessGrantsParams,
       response_key="access_grants", response=list[AccessGrant], paginated=True)
async def list_access_grants(ctx: Ctx, params: ListAccessGrantsParams) -> Page:
    """List access grants, oldest first."""
    if any(getattr(params, name) is not UNSET
           for name in ("acs_entrance_id", "acs_system_id", "customer_key")):
        return Page(items=[], next_after=None)  # no access systems, no customers
    space_id = given(params.space_id) or given(params.location_id)
    items, next_after = await service.list_grants(
        ctx.rt, ctx.workspace_id, service.GrantFilters(
            access_grant_ids=given(params.access_grant_ids),
            access_grant_key=given(params.access_grant_key),
            user_identity_id=given(params.user_identity_id), device_id=given(params.device_id),
            space_id=space_id, reservation_key=given(params.reservation_key),
            access_code_id=given(params.access_code_id)),
        after=decode_cursor(ctx, params), limit=page_limit(params.limit))
    return Page(items=items, next_after=next_after)


@route("/access_grants/update", alias="PATCH", params=UpdateAccessGrantParams)
async def update_access_grant(ctx: Ctx, params: UpdateAccessGrantParams) -> None:
    """Rename a grant or move its window; its codes follow."""
    await service.update_grant(ctx.rt, ctx.workspace_id,
                               access_grant_id=given(params.access_grant_id),
                               access_grant_key=given(params.access_grant_key),
                               name=params.name, starts_at=params.starts_at,
                               ends_at=params.ends_at)


@route("/access_grants/delete", alias="DELETE", params=AccessGrantIdParams)
async def delete_access_grant(ctx: Ctx, params: AccessGrantIdParams) -> None:
    """Delete a grant: its methods go, their codes leave the locks."""
    await service.delete_grant(ctx.rt, ctx.workspace_id, params.access_grant_id)


@route("/access_grants/request_access_methods", params=RequestMethodsParams,
       response_key="access_grant", response=AccessGrant)
async def request_access_methods(ctx: Ctx, params: RequestMethodsParams) -> AccessGrant:
    """Add access methods to a grant."""
    return await service.request_access_methods(
        ctx.rt, ctx.workspace_id, params.access_grant_id,
        _requested(params.requested_access_methods))


async def _devices(ctx: Ctx, device_ids: list[str]) -> list[Any]:
    if not device_ids:
        return []
    items, _ = await devices.list_devices(ctx.rt, ctx.workspace_id,
                                          devices.DeviceFilters(device_ids=device_ids))
    return items


def _kinds(params: Any, every: Any) -> set[str]:
    return set(given(params.include, get_args(every))) - set(given(params.exclude, []))


@route("/access_grants/get_related", alias="GET", params=GrantRelatedParams,
       response_key="batch", response=AccessGrantBatch)
async def get_related_to_grants(ctx: Ctx, params: GrantRelatedParams) -> AccessGrantBatch:
    """What access grants reach: their methods, devices, spaces, people and accounts."""
    found = await service.related(ctx.rt, ctx.workspace_id,
                                  access_grant_ids=params.access_grant_ids,
                                  access_grant_keys=params.access_grant_keys)
    kinds = _kinds(params, GrantRelated)
    batch = AccessGrantBatch()
    served_devices = await _devices(ctx, found.device_ids)
    if "access_methods" in kinds:
        batch.access_methods = found.access_methods
    if "devices" in kinds:
        batch.devices = served_devices
    if "spaces" in kinds:
        batch.spaces = found.spaces
    if "user_identities" in kinds:
        batch.user_identities = found.user_identities
    if "connected_accounts" in kinds:
        account_ids = dict.fromkeys(msgspec.json.decode(d)["connected_account_id"]
                                    if isinstance(d, msgspec.Raw) else d.connected_account_id
                                    for d in served_devices)
        async with ctx.rt.db.read() as conn:
            batch.connected_accounts = [connected_accounts.to_connected_account(
                await connected_accounts.get_row(conn, ctx.workspace_id, connected_account_id=a),
                ctx.rt.settings.base_url)
                for a in account_ids]
    for empty in ("acs_entrances", "acs_systems", "acs_access_groups"):
        if empty in kinds:
            setattr(batch, empty, [])
    return batch


# --- access methods ------------------------------------------------------------------------


@route("/access_methods/get", alias="GET", params=AccessMethodIdParams,
       response_key="access_method", response=AccessMethod)
async def get_access_method(ctx: Ctx, params: AccessMethodIdParams) -> AccessMethod:
    """Get an access method (a `code` method: its PIN and whether it is on every lock)."""
    return await service.get_method(ctx.rt, ctx.workspace_id, params.access_method_id)


@route("/access_methods/list", alias="GET", params=ListAccessMethodsParams,
       response_key="access_methods", response=list[AccessMethod], paginated=True)
async def list_access_methods(ctx: Ctx, params: ListAccessMethodsParams) -> Page:
    """List access methods, oldest first."""
    if params.acs_entrance_id is not UNSET:
        return Page(items=[], next_after=None)
    items, next_after = await service.list_methods(
        ctx.rt, ctx.workspace_id, service.MethodFilters(
            access_grant_id=given(params.access_grant_id),
            access_grant_key=given(params.access_grant_key), device_id=given(params.device_id),
            access_code_id=given(params.access_code_id), space_id=given(params.space_id)),
        after=decode_cursor(ctx, params), limit=page_limit(params.limit))
    return Page(items=items, next_after=next_after)


@route("/access_methods/delete", alias="DELETE", params=DeleteAccessMethodsParams)
async def delete_access_methods(ctx: Ctx, params: DeleteAccessMethodsParams) -> None:
    """Delete a method, every method of a grant, or of a reservation; codes leave the locks."""
    await service.delete_methods(ctx.rt, ctx.workspace_id,
                                 access_method_id=given(params.access_method_id),
                                 access_grant_id=given(params.access_grant_id),
                                 reservation_key=given(params.reservation_key))


@route("/access_methods/get_related", alias="GET", params=MethodRelatedParams,
       response_key="batch", response=AccessMethodBatch)
async def get_related_to_methods(ctx: Ctx, params: MethodRelatedParams) -> AccessMethodBatch:
    """Access methods with their grants, devices and spaces."""
    methods = [await service.get_method(ctx.rt, ctx.workspace_id, i)
               for i in dict.fromkeys(params.access_method_ids)]
    grant_ids = await service.grants_of_methods(ctx.rt, ctx.workspace_id,
                                                [m.access_method_id for m in methods])
    found = await service.related(ctx.rt, ctx.workspace_id, access_grant_ids=grant_ids,
                                  access_grant_keys=[])
    kinds = _kinds(params, MethodRelated)
    batch = AccessMethodBatch()
    if "access_methods" in kinds:
        batch.access_methods = methods
    if "access_grants" in kinds:
        batch.access_grants = found.access_grants
    if "devices" in kinds:
        batch.devices = await _devices(ctx, found.device_ids)
    if "spaces" in kinds:
        batch.spaces = found.spaces
    for empty in ("client_sessions", "instant_keys", "acs_entrances", "acs_credentials"):
        if empty in kinds:
            setattr(batch, empty, [])
    return batch


async def _not_a_card(ctx: Ctx, access_method_id: str) -> LockhubError:
    """Every access method lockhub makes is a PIN code (after checking the method exists)."""
    await service.get_method(ctx.rt, ctx.workspace_id, access_method_id)
    return LockhubError("This access method is a PIN code: it has no card to assign.",
                        error_type="access_method_not_a_card")


@route("/access_methods/unlock_door", params=UnlockParams, response_key="action_attempt",
       response=ActionAttempt)
async def unlock_door(ctx: Ctx, params: UnlockParams) -> ActionAttempt:
    """Unlock an entrance with a mobile key: lockhub has no entrances."""
    await service.get_method(ctx.rt, ctx.workspace_id, params.access_method_id)
    raise NotFound("acs_entrance", {"acs_entrance_id": params.acs_entrance_id})


@route("/access_methods/encode", params=EncodeParams, response_key="action_attempt",
       response=ActionAttempt)
async def encode(ctx: Ctx, params: EncodeParams) -> ActionAttempt:
    """Encode a card: lockhub has no encoders."""
    await service.get_method(ctx.rt, ctx.workspace_id, params.access_method_id)
    raise NotFound("acs_encoder", {"acs_encoder_id": params.acs_encoder_id})


@route("/access_methods/assign_card", params=AssignCardParams, response_key="action_attempt",
       response=ActionAttempt)
async def assign_card(ctx: Ctx, params: AssignCardParams) -> ActionAttempt:
    """Assign a card: lockhub's methods are PIN codes."""
    raise await _not_a_card(ctx, params.access_method_id)
