"""Brands' push endpoints (not part of Seam's API, unauthenticated: the brand calls them).

TTLock POSTs lock records to the application's callback URL and expects the body `success`;
Nuki POSTs signed JSON deliveries to the URL of each account's decentral webhook.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler

from lockhub.errors import InvalidInput
from lockhub.providers.nuki.webhooks import PATH as NUKI_PATH
from lockhub.services import nuki_callbacks as nuki
from lockhub.services import ttlock_callbacks as ttlock
from lockhub.services.runtime import Runtime


def route_handlers(rt: Runtime) -> list[HTTPRouteHandler]:
    @post(ttlock.PATH, name="ttlock_callback", media_type="text/plain", status_code=200)
    async def ttlock_callback(request: Request[Any, Any, Any]) -> Response[str]:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"),
                              keep_blank_values=True))
        client_id = request.query_params.get("clientId") or form.get("clientId", "")
        try:
            await ttlock.receive(rt, form, client_id, request.query_params.get("key", ""))
        except ValueError as exc:
            raise InvalidInput(f"Not a TTLock callback: {exc}") from None
        return Response("success", media_type="text/plain")

    @post(f"{NUKI_PATH}/{{key:str}}", name="nuki_callback", status_code=200)
    async def nuki_callback(request: Request[Any, Any, Any], key: str) -> Response[str]:
        try:
            await nuki.receive(rt, key, await request.body(),
                               request.headers.get("X-Nuki-Signature-SHA256", ""))
        except ValueError as exc:
            raise InvalidInput(f"Not a Nuki webhook delivery: {exc}") from None
        return Response("", media_type="text/plain")

    return [ttlock_callback, nuki_callback]
