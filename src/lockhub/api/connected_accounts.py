"""/connected_accounts/*"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.pagination import decode_cursor, page_limit
from lockhub.api.routing import Page, route
from lockhub.domain.objects import ConnectedAccount
from lockhub.errors import InvalidInput
from lockhub.services import connected_accounts as service

Capability = Literal["lock", "thermostat", "noise_sensor", "access_control", "camera"]
MetadataValue = str | bool | None


class GetConnectedAccountParams(msgspec.Struct):
    connected_account_id: str | UnsetType = UNSET
    email: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.connected_account_id is UNSET and self.email is UNSET:
            raise ValueError("Either connected_account_id or email is required")


class ListConnectedAccountsParams(msgspec.Struct):
    custom_metadata_has: dict[str, MetadataValue] | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET
    search: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    space_id: str | UnsetType = UNSET
    user_identifier_key: str | UnsetType = UNSET
    limit: Annotated[float, Meta(gt=0)] = 11000
    page_cursor: str | None | UnsetType = UNSET


class UpdateConnectedAccountParams(msgspec.Struct):
    connected_account_id: str
    accepted_capabilities: list[Capability] | UnsetType = UNSET
    automatically_manage_new_devices: bool | UnsetType = UNSET
    custom_metadata: dict[str, MetadataValue] | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET
    display_name: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET


class ConnectedAccountIdParams(msgspec.Struct):
    connected_account_id: str


class DeleteConnectedAccountParams(msgspec.Struct):
    connected_account_id: str
    sync: bool = False


@route("/connected_accounts/get", alias="GET", params=GetConnectedAccountParams,
       response_key="connected_account", response=ConnectedAccount, client_session=True)
async def get_connected_account(ctx: Ctx, params: GetConnectedAccountParams) -> ConnectedAccount:
    """Get a connected account by id or by its login email."""
    async with ctx.rt.db.read() as conn:
        row = await service.get_row(
            conn, ctx.workspace_id,
            connected_account_id=None if params.connected_account_id is UNSET
            else params.connected_account_id,
            email=None if params.email is UNSET else params.email)
    return service.to_connected_account(row, ctx.rt.settings.base_url)


@route("/connected_accounts/list", alias="GET", params=ListConnectedAccountsParams,
       response_key="connected_accounts", response=list[ConnectedAccount], paginated=True)
async def list_connected_accounts(ctx: Ctx, params: ListConnectedAccountsParams) -> Page:
    """List the workspace's connected accounts."""
    after = decode_cursor(ctx, params)
    if params.space_id is not UNSET or params.user_identifier_key is not UNSET:
        return Page(items=[], next_after=None)  # no spaces or user identities exist yet
    async with ctx.rt.db.read() as conn:
        rows, next_after = await service.list_rows(
            conn, ctx.workspace_id, search=None if params.search is UNSET else params.search,
            customer_key=None if params.customer_key is UNSET else params.customer_key,
            custom_metadata_has=None if params.custom_metadata_has is UNSET
            else params.custom_metadata_has,
            after=after, limit=page_limit(params.limit))
    base_url = ctx.rt.settings.base_url
    return Page(items=[service.to_connected_account(r, base_url) for r in rows],
                next_after=next_after)


@route("/connected_accounts/update", alias="PATCH", params=UpdateConnectedAccountParams)
async def update_connected_account(ctx: Ctx, params: UpdateConnectedAccountParams) -> None:
    """Rename an account, set its metadata, capabilities or device management."""
    values: dict[str, Any] = {k: v for k, v in msgspec.structs.asdict(params).items()
                              if v is not UNSET and k != "connected_account_id"}
    if "accepted_capabilities" in values:
        values["accepted_capabilities"] = list(dict.fromkeys(values["accepted_capabilities"]))
        if not values["accepted_capabilities"]:
            raise InvalidInput.for_field(["accepted_capabilities"], "At least one capability")
    await service.update_account(ctx.rt, ctx.workspace_id, params.connected_account_id, values)


@route("/connected_accounts/delete", alias="DELETE", params=DeleteConnectedAccountParams)
async def delete_connected_account(ctx: Ctx, params: DeleteConnectedAccountParams) -> None:
    """Remove an account and its devices and codes from lockhub (PINs stay on the locks)."""
    await service.delete_account(ctx.rt, ctx.workspace_id, params.connected_account_id)


@route("/connected_accounts/sync", params=ConnectedAccountIdParams)
async def sync_connected_account(ctx: Ctx, params: ConnectedAccountIdParams) -> None:
    """Read the account's devices and PINs back now."""
    await service.sync_account(ctx.rt, ctx.workspace_id, params.connected_account_id)


@route("/connected_accounts/simulate/disconnect", params=ConnectedAccountIdParams,
       sandbox_only=True)
async def simulate_disconnect(ctx: Ctx, params: ConnectedAccountIdParams) -> None:
    """Sandbox: the account's credentials stop working."""
    await service.simulate_disconnect(ctx.rt, ctx.workspace_id, params.connected_account_id)
