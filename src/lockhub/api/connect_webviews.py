"""/connect_webviews/*"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.pagination import decode_cursor, page_limit
from lockhub.api.params import given
from lockhub.api.routing import Page, route
from lockhub.domain.enums import ConnectWebviewProvider, LockhubProvider, ProviderCategory
from lockhub.domain.objects import ConnectWebview
from lockhub.services import client_sessions
from lockhub.services import connect_webviews as service

Capability = Literal["lock", "thermostat", "noise_sensor", "access_control", "camera"]
MetadataValue = Annotated[str, Meta(max_length=500)] | bool | None


class CreateConnectWebviewParams(msgspec.Struct):
    accepted_providers: list[ConnectWebviewProvider | LockhubProvider] | UnsetType = UNSET
    excluded_providers: list[ConnectWebviewProvider | LockhubProvider] | UnsetType = UNSET
    provider_category: ProviderCategory | UnsetType = UNSET
    accepted_capabilities: list[Capability] | UnsetType = UNSET
    custom_redirect_url: str | UnsetType = UNSET
    custom_redirect_failure_url: str | UnsetType = UNSET
    custom_metadata: dict[str, MetadataValue] | UnsetType = UNSET
    customer_key: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    automatically_manage_new_devices: bool = True
    wait_for_device_creation: bool = False
    device_selection_mode: Literal["none", "single", "multiple"] = "none"


class ConnectWebviewIdParams(msgspec.Struct):
    connect_webview_id: str


class ListConnectWebviewsParams(msgspec.Struct):
    custom_metadata_has: dict[str, MetadataValue] | UnsetType = UNSET
    customer_key: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    search: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    user_identifier_key: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    limit: Annotated[float, Meta(gt=0)] = 500
    page_cursor: str | None | UnsetType = UNSET


@route("/connect_webviews/create", params=CreateConnectWebviewParams,
       response_key="connect_webview", response=ConnectWebview, client_session=True)
async def create_connect_webview(ctx: Ctx, params: CreateConnectWebviewParams) -> ConnectWebview:
    """Create a Connect Webview: a URL where an end user picks a brand and signs in."""
    request = service.WebviewRequest(**{
        k: v for k, v in msgspec.structs.asdict(params).items() if v is not UNSET})
    grant = ctx.principal.client_session if ctx.principal else None
    row = await service.create(ctx.rt, ctx.workspace_id, request,
                               client_session_id=grant.client_session_id if grant else None)
    return service.to_connect_webview(row, ctx.rt.settings.base_url)


@route("/connect_webviews/get", alias="GET", params=ConnectWebviewIdParams,
       response_key="connect_webview", response=ConnectWebview, client_session=True)
async def get_connect_webview(ctx: Ctx, params: ConnectWebviewIdParams) -> ConnectWebview:
    """Get a Connect Webview (its status tells whether the end user signed in)."""
    async with ctx.rt.db.read() as conn:
        row = await service.get_row(conn, ctx.workspace_id, params.connect_webview_id)
    return service.to_connect_webview(row, ctx.rt.settings.base_url)


@route("/connect_webviews/list", alias="GET", params=ListConnectWebviewsParams,
       response_key="connect_webviews", response=list[ConnectWebview], paginated=True, client_session=True)
async def list_connect_webviews(ctx: Ctx, params: ListConnectWebviewsParams) -> Page:
    """List the workspace's Connect Webviews, oldest first."""
    after = decode_cursor(ctx, params)
    ids: list[str] | None = None
    if params.user_identifier_key is not UNSET:
        ids = await client_sessions.webviews_of_user(ctx.rt, ctx.workspace_id,
                                                     params.user_identifier_key)
    grant = ctx.principal.client_session if ctx.principal else None
    if grant is not None:
        ids = [i for i in (grant.connect_webview_ids if ids is None else ids)
               if i in grant.connect_webview_ids]
    async with ctx.rt.db.read() as conn:
        rows, next_after = await service.list_rows(
            conn, ctx.workspace_id, search=given(params.search),
            customer_key=given(params.customer_key),
            custom_metadata_has=given(params.custom_metadata_has),
            connect_webview_ids=ids, after=after, limit=page_limit(params.limit))
    base = ctx.rt.settings.base_url
    return Page(items=[service.to_connect_webview(r, base) for r in rows], next_after=next_after)


@route("/connect_webviews/delete", alias="DELETE", params=ConnectWebviewIdParams)
async def delete_connect_webview(ctx: Ctx, params: ConnectWebviewIdParams) -> None:
    """Delete a Connect Webview (an account it connected stays)."""
    await service.delete(ctx.rt, ctx.workspace_id, params.connect_webview_id)
