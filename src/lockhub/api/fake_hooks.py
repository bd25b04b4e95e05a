"""Test hooks of Seam's open-source fake, so suites written for it run against lockhub.

The /_fake/* hooks take no credentials, so they are served only with `serve --test-hooks` and act
only on sandbox workspaces' objects. /health is always served.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.routing import NoParams, route
from lockhub.domain.objects import ActionAttempt, ConnectWebview
from lockhub.services import action_attempts, client_sessions, connect_webviews, workspaces
from lockhub.services.seed import demo_map, seed_map


class CompleteConnectWebviewParams(msgspec.Struct):
    connect_webview_id: str


class SimulateWorkspaceOutageParams(msgspec.Struct):
    workspace_id: str
    routes: list[str]


class WorkspaceOutageRecoveryParams(msgspec.Struct):
    workspace_id: str


class UpdateActionAttemptParams(msgspec.Struct):
    action_attempt_id: str
    status: Literal["pending", "success", "error"]
    result: dict[str, Any] | None | UnsetType = UNSET
    error: dict[str, str] | None | UnsetType = UNSET


@route("/_fake/default_seed", alias="GET", params=NoParams, auth="none",
       response=dict[str, str], test_hook=True)
async def default_seed(ctx: Ctx, params: NoParams) -> dict[str, Any]:
    """Ids and tokens of the seed (as the fake server returns them)."""
    return seed_map()


@route("/_lockhub/demo_seed", alias="GET", params=NoParams, auth="none",
       response=dict[str, str], test_hook=True)
async def demo_seed(ctx: Ctx, params: NoParams) -> dict[str, Any]:
    """Ids of the demo workspace: its key, its locks by brand, its accounts by brand and email."""
    return await demo_map(ctx.rt)


@route("/_fake/update_action_attempt", params=UpdateActionAttemptParams, auth="none",
       response_key="action_attempt", response=ActionAttempt, test_hook=True)
async def update_action_attempt(ctx: Ctx, params: UpdateActionAttemptParams) -> ActionAttempt:
    """Overwrite an action attempt's outcome (test hook)."""
    workspace_id = await workspaces.sandbox_owner(ctx.rt, "action_attempt",
                                                  params.action_attempt_id)
    return await action_attempts.overwrite(
        ctx.rt, workspace_id, params.action_attempt_id, status=params.status,
        result=None if params.result is UNSET else params.result,
        error=None if params.error is UNSET else params.error)


@route("/_fake/complete_connect_webview", params=CompleteConnectWebviewParams, auth="none",
       response_key="connect_webview", response=ConnectWebview, test_hook=True)
async def complete_connect_webview(ctx: Ctx, params: CompleteConnectWebviewParams
                                   ) -> ConnectWebview:
    """Sign the webview in with a documented test account, as an end user would; as the fake
    does, the workspace's first client session is granted the new account (test hook)."""
    workspace_id = await workspaces.sandbox_owner(ctx.rt, "connect_webview",
                                                  params.connect_webview_id)
    row = await connect_webviews.complete_with_test_account(ctx.rt, params.connect_webview_id)
    await client_sessions.grant_to_first_session(ctx.rt, workspace_id,
                                                 row.connected_account_id)
    return connect_webviews.to_connect_webview(row, ctx.rt.settings.base_url)


@route("/_fake/simulate_workspace_outage", params=SimulateWorkspaceOutageParams, auth="none",
       response=dict[str, str], test_hook=True)
async def simulate_workspace_outage(ctx: Ctx, params: SimulateWorkspaceOutageParams
                                    ) -> dict[str, Any]:
    """Make these routes answer 503 (Seam's error envelope, `service_unavailable`) for the
    workspace until the outage ends; an empty list ends it (test hook)."""
    await workspaces.simulate_outage(ctx.rt, params.workspace_id, params.routes)
    return {}


@route("/_fake/simulate_workspace_outage_recovery", params=WorkspaceOutageRecoveryParams,
       auth="none", response=dict[str, str], test_hook=True)
async def simulate_workspace_outage_recovery(ctx: Ctx, params: WorkspaceOutageRecoveryParams
                                             ) -> dict[str, Any]:
    """End the workspace's simulated outage (test hook; Seam's fake has no such route)."""
    await workspaces.simulate_outage(ctx.rt, params.workspace_id, None)
    return {}
