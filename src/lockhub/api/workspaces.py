"""/workspaces/*"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.routing import NoParams, route
from lockhub.domain.objects import ActionAttempt, ConnectWebviewCustomization, Workspace
from lockhub.errors import LockhubError
from lockhub.services import action_attempts, workspaces


class CreateWorkspaceParams(msgspec.Struct):
    name: str
    company_name: str | UnsetType = UNSET
    connect_partner_name: str | None | UnsetType = UNSET
    is_sandbox: bool = False
    organization_id: str | UnsetType = UNSET
    connect_webview_customization: ConnectWebviewCustomization | UnsetType = UNSET
    webview_logo_shape: Literal["circle", "square"] | UnsetType = UNSET
    webview_primary_button_color: str | UnsetType = UNSET
    webview_primary_button_text_color: str | UnsetType = UNSET
    webview_success_message: str | UnsetType = UNSET


class UpdateCustomization(msgspec.Struct):
    logo_shape: Literal["circle", "square"] | None | UnsetType = UNSET
    primary_button_color: str | None | UnsetType = UNSET
    primary_button_text_color: str | None | UnsetType = UNSET
    success_message: str | None | UnsetType = UNSET


class UpdateWorkspaceParams(msgspec.Struct):
    name: str | UnsetType = UNSET
    connect_partner_name: str | UnsetType = UNSET
    connect_webview_customization: UpdateCustomization | UnsetType = UNSET
    is_publishable_key_auth_enabled: bool | UnsetType = UNSET
    is_suspended: bool | UnsetType = UNSET
    organization_id: str | UnsetType = UNSET


@route("/workspaces/get", alias="GET", params=NoParams, response_key="workspace",
       response=Workspace, client_session=True)
async def get_workspace(ctx: Ctx, params: NoParams) -> Workspace:
    """Get the workspace the credential belongs to."""
    return await workspaces.get(ctx.rt, ctx.workspace_id)


@route("/workspaces/list", alias="GET", params=NoParams, response_key="workspaces",
       response=list[Workspace], auth="user", client_session=True)
async def list_workspaces(ctx: Ctx, params: NoParams) -> list[Workspace]:
    """List the workspaces the credential can reach."""
    assert ctx.principal is not None
    if ctx.principal.user_id is not None:
        return await workspaces.list_for(ctx.rt, workspace_id=None,
                                         user_id=ctx.principal.user_id)
    return await workspaces.list_for(ctx.rt, workspace_id=ctx.principal.workspace_id,
                                     user_id=None)


@route("/workspaces/create", params=CreateWorkspaceParams, response_key="workspace",
       response=Workspace, auth="user")
async def create_workspace(ctx: Ctx, params: CreateWorkspaceParams) -> Workspace:
    """Create a workspace (personal access token only)."""
    assert ctx.principal is not None
    if ctx.principal.user_id is None:
        raise LockhubError("Creating a workspace needs a personal access token.",
                           error_type="unauthorized", status_code=401)
    custom = msgspec.to_builtins(params.connect_webview_customization) \
        if params.connect_webview_customization is not UNSET else {}
    legacy = {
        "logo_shape": params.webview_logo_shape,
        "primary_button_color": params.webview_primary_button_color,
        "primary_button_text_color": params.webview_primary_button_text_color,
        "success_message": params.webview_success_message,
    }
    for key, value in legacy.items():
        if value is not UNSET:
            custom.setdefault(key, value)
    return await workspaces.create(
        ctx.rt, user_id=ctx.principal.user_id, name=params.name, is_sandbox=params.is_sandbox,
        company_name=params.company_name or None,
        connect_partner_name=params.connect_partner_name or None,
        customization=custom, organization_id=params.organization_id or None)


@route("/workspaces/update", alias="PATCH", params=UpdateWorkspaceParams)
async def update_workspace(ctx: Ctx, params: UpdateWorkspaceParams) -> dict[str, Any]:
    """Update the workspace the credential belongs to: the fields given change (a customization
    field given as null goes back to the default), the others stay."""
    values = {name: getattr(params, name) for name in (
        "name", "connect_partner_name", "is_publishable_key_auth_enabled", "is_suspended",
        "organization_id") if getattr(params, name) is not UNSET}
    customization = None
    if params.connect_webview_customization is not UNSET:
        customization = {k: v for k, v in msgspec.structs.asdict(
            params.connect_webview_customization).items() if v is not UNSET}
    await workspaces.update_workspace(ctx.rt, ctx.workspace_id, values, customization)
    return {}


@route("/workspaces/reset_sandbox", params=NoParams, response_key="action_attempt",
       response=ActionAttempt)
async def reset_sandbox(ctx: Ctx, params: NoParams) -> ActionAttempt:
    """Restore a sandbox workspace's virtual devices; keeps the workspace and its keys."""
    attempt_id = await workspaces.request_reset(ctx.rt, ctx.workspace_id)
    return await action_attempts.get(ctx.rt, ctx.workspace_id, attempt_id)
