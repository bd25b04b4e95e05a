"""/webhooks/* and lockhub's delivery log /_lockhub/webhooks/deliveries/*"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.routing import NoParams, route
from lockhub.services import webhooks as service
from lockhub.services.webhooks import Delivery, Webhook

Url = Annotated[str, Meta(min_length=1, max_length=2048)]


class CreateWebhookParams(msgspec.Struct):
    url: Url
    event_types: list[str] = msgspec.field(default_factory=lambda: ["*"])


class WebhookIdParams(msgspec.Struct):
    webhook_id: str


class UpdateWebhookParams(msgspec.Struct):
    # Seam's contract: event_types is required and a webhook's url cannot change.
    webhook_id: str
    event_types: list[str]


class ListDeliveriesParams(msgspec.Struct):
    webhook_id: str | UnsetType = UNSET
    event_id: str | UnsetType = UNSET
    status: Literal["pending", "delivered", "failed"] | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


class ReplayDeliveryParams(msgspec.Struct):
    delivery_id: str


@route("/webhooks/create", params=CreateWebhookParams, response_key="webhook",
       response=Webhook)
async def create_webhook(ctx: Ctx, params: CreateWebhookParams) -> Webhook:
    """Subscribe a URL to events (all by default); returns its whsec_ signing secret."""
    return await service.create(ctx.rt, ctx.workspace_id, params.url, params.event_types)


@route("/webhooks/get", alias="GET", params=WebhookIdParams, response_key="webhook",
       response=Webhook)
async def get_webhook(ctx: Ctx, params: WebhookIdParams) -> Webhook:
    """Get a webhook (with its secret)."""
    return await service.get(ctx.rt, ctx.workspace_id, params.webhook_id)


@route("/webhooks/list", alias="GET", params=NoParams, response_key="webhooks",
       response=list[Webhook])
async def list_webhooks(ctx: Ctx, params: NoParams) -> list[Webhook]:
    """List the workspace's webhooks."""
    return await service.list_webhooks(ctx.rt, ctx.workspace_id)


@route("/webhooks/update", alias="PUT", params=UpdateWebhookParams)
async def update_webhook(ctx: Ctx, params: UpdateWebhookParams) -> None:
    """Change which events a webhook receives."""
    await service.update_webhook(ctx.rt, ctx.workspace_id, params.webhook_id,
                                 event_types=params.event_types, url=None)


@route("/webhooks/delete", alias="DELETE", params=WebhookIdParams)
async def delete_webhook(ctx: Ctx, params: WebhookIdParams) -> None:
    """Delete a webhook; no further attempts are made."""
    await service.delete(ctx.rt, ctx.workspace_id, params.webhook_id)


@route("/_lockhub/webhooks/deliveries/list", alias="GET", params=ListDeliveriesParams,
       response_key="deliveries", response=list[Delivery])
async def list_deliveries(ctx: Ctx, params: ListDeliveriesParams) -> list[Delivery]:
    """Delivery log: status, every attempt (response code, latency) and the next retry."""
    return await service.list_deliveries(
        ctx.rt, ctx.workspace_id,
        webhook_id=None if params.webhook_id is UNSET else params.webhook_id,
        event_id=None if params.event_id is UNSET else params.event_id,
        status=None if params.status is UNSET else params.status, limit=params.limit)


@route("/_lockhub/webhooks/deliveries/replay", params=ReplayDeliveryParams,
       response_key="delivery", response=Delivery)
async def replay_delivery(ctx: Ctx, params: ReplayDeliveryParams) -> Delivery:
    """Send a delivery again (e.g. after fixing the receiver)."""
    return await service.replay(ctx.rt, ctx.workspace_id, params.delivery_id)
