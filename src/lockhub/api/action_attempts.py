"""/action_attempts/*"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.pagination import decode_cursor, page_limit
from lockhub.api.routing import Page, route
from lockhub.domain.objects import ActionAttempt
from lockhub.services import action_attempts

Limit = Annotated[float, Meta(gt=0)]


class GetActionAttemptParams(msgspec.Struct):
    action_attempt_id: str


class ListActionAttemptsParams(msgspec.Struct):
    action_attempt_ids: list[str] | UnsetType = UNSET
    device_id: str | UnsetType = UNSET
    limit: Limit = 500
    page_cursor: str | None | UnsetType = UNSET


@route("/action_attempts/get", alias="GET", params=GetActionAttemptParams, response_key="action_attempt",
       response=ActionAttempt, client_session=True)
async def get_action_attempt(ctx: Ctx,
                             params: GetActionAttemptParams) -> ActionAttempt | msgspec.Raw:
    """Get an action attempt."""
    return await action_attempts.served(ctx.rt, ctx.workspace_id, params.action_attempt_id)


@route("/action_attempts/list", alias="GET", params=ListActionAttemptsParams, response_key="action_attempts",
       response=list[ActionAttempt], paginated=True)
async def list_action_attempts(ctx: Ctx, params: ListActionAttemptsParams) -> Page:
    """List action attempts."""
    after = decode_cursor(ctx, params)
    items, next_after = await action_attempts.list_attempts(
        ctx.rt, ctx.workspace_id,
        attempt_ids=None if params.action_attempt_ids is UNSET else params.action_attempt_ids,
        device_id=params.device_id or None, after=after, limit=page_limit(params.limit))
    return Page(items=items, next_after=next_after)
