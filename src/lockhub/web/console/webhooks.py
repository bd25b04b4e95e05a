"""Webhooks: create and delete endpoints, see each delivery with its attempts, replay one."""

from __future__ import annotations

from typing import Any

from litestar import Response

from lockhub.web.console.client import ApiError
from lockhub.web.console.visit import Visit, page


async def _list_page(visit: Visit, status: int = 200, error: str | None = None,
                     values: dict[str, str] | None = None) -> Response[Any]:
    hooks = (await visit.api("/webhooks/list"))["webhooks"]
    return visit.render("webhooks.html", status=status, webhooks=hooks, error=error,
                        values=values or {})


@page("/webhooks")
async def webhook_list(visit: Visit) -> Response[Any]:
    return await _list_page(visit)


@page("/webhooks", methods=("POST",))
async def create(visit: Visit) -> Response[Any]:
    types = [t.strip() for t in visit.form.get("event_types", "").replace(",", " ").split()
             if t.strip()]
    try:
        hook = (await visit.api("/webhooks/create", url=visit.form.get("url", "").strip(),
                                event_types=types or None))["webhook"]
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return await _list_page(visit, status=exc.status, error=exc.message, values=visit.form)
    return visit.redirect(f"/webhooks/{hook['webhook_id']}", notice="webhook_created")


@page("/webhooks/{webhook_id:str}")
async def webhook_page(visit: Visit) -> Response[Any]:
    hook = (await visit.api("/webhooks/get", webhook_id=visit.path_param("webhook_id")))[
        "webhook"]
    deliveries = (await visit.api("/_lockhub/webhooks/deliveries/list",
                                  webhook_id=hook["webhook_id"]))["deliveries"]
    return visit.render("webhook.html", webhook=hook, deliveries=deliveries)


@page("/webhooks/{webhook_id:str}/delete", methods=("POST",))
async def delete(visit: Visit) -> Response[Any]:
    await visit.api("/webhooks/delete", webhook_id=visit.path_param("webhook_id"))
    return visit.redirect("/webhooks", notice="webhook_deleted")


@page("/webhooks/{webhook_id:str}/replay", methods=("POST",))
async def replay(visit: Visit) -> Response[Any]:
    webhook_id = visit.path_param("webhook_id")
    await visit.api("/_lockhub/webhooks/deliveries/replay",
                    delivery_id=visit.form.get("delivery_id", ""))
    return visit.redirect(f"/webhooks/{webhook_id}", notice="replayed")
