"""The Litestar application: the route table becomes handlers, errors become envelopes."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar import route as litestar_route
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from lockhub.api import (  # noqa: F401  (importing registers the routes)
    access_codes,
    action_attempts,
    connect_webviews,
    connected_accounts,
    devices,
    events,
    fake_hooks,
    health,
    locks,
    sandbox,
    webhooks,
    workspaces,
)
from lockhub.api.auth import authenticate
from lockhub.api.context import Ctx
from lockhub.api.envelope import JSON, failure, success
from lockhub.api.limits import MAX_BODY_BYTES, ASGIApp, InputLimits
from lockhub.api.openapi import openapi_document
from lockhub.api.pagination import pagination
from lockhub.api.params import build_params
from lockhub.api.routing import ROUTES, Extra, Page, Route
from lockhub.engine.worker import Worker
from lockhub.errors import LockhubError, MethodNotAllowed
from lockhub.services.runtime import Runtime
from lockhub.web import callbacks as brand_callbacks
from lockhub.web import connect as connect_pages

log = logging.getLogger("lockhub.api")
_BODY_METHODS = ("POST", "PATCH", "PUT")


def _request_id() -> str:
    return str(uuid.uuid4())


async def dispatch(rt: Runtime, spec: Route, request: Request[Any, Any, Any]) -> Response[bytes]:
    request_id = _request_id()
    try:
        body = await _read_body(request)
        if body and request.method in _BODY_METHODS:
            content_type = request.headers.get("content-type", "")
            if "application/json" not in content_type and body.strip():
                raise LockhubError(
                    f'{request.method} requests must have Content-Type header with '
                    f'"application/json"', error_type="invalid_content_type")
        if not body.strip():
            body = b""
        principal = await authenticate(rt, request.headers, spec.auth)
        ctx = Ctx(rt=rt, principal=principal, request_id=request_id, route_path=spec.path)
        query = request.scope.get("query_string", b"").decode("latin-1")
        params = build_params(spec.params, query, body) if spec.params else None
        result = await spec.handler(ctx, params)
        return success(_body(ctx, spec, params, result), request_id)
    except LockhubError as exc:
        return failure(exc, request_id)
    except Exception:
        log.exception("unhandled error on %s", spec.path)
        return failure(LockhubError("Internal server error", error_type="internal_server_error",
                                    status_code=500), request_id)


async def _read_body(request: Request[Any, Any, Any]) -> bytes:
    # InputLimits refuses oversized bodies before they get here; this is the same limit for an
    # app served without it.
    try:
        return await request.body()
    except RequestEntityTooLarge:
        raise LockhubError(f"Request body is larger than {MAX_BODY_BYTES} bytes",
                           error_type="payload_too_large", status_code=413) from None


def _body(ctx: Ctx, spec: Route, params: Any, result: Any) -> dict[str, Any]:
    if isinstance(result, Extra):
        body = {spec.response_key: result.value} if spec.response_key else {}
        body.update(result.extra)
        return body
    if isinstance(result, Page):
        return {
            spec.response_key: result.items,
            "pagination": pagination(ctx, params, result.next_after),
        }
    if spec.response_key:
        return {spec.response_key: result}
    if isinstance(result, dict):
        return dict(result)
    return {}


def _handler(rt: Runtime, spec: Route) -> Any:
    async def endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await dispatch(rt, spec, request)

    endpoint.__name__ = "route_" + spec.path.strip("/").replace("/", "_")
    return litestar_route(spec.path, http_method=list(spec.methods), name=spec.path,
                          media_type=JSON)(endpoint)


def _http_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    request_id = _request_id()
    if isinstance(exc, LockhubError):  # raised by a page or callback handler
        return failure(exc, request_id)
    if isinstance(exc, MethodNotAllowedException):
        allowed = next((r.methods for r in ROUTES if r.path == request.url.path), ("POST",))
        # RFC 9110: a 405 must list the verbs the resource accepts.
        return failure(MethodNotAllowed(f"only {','.join(sorted(allowed))} accepted",
                                        headers={"Allow": ", ".join(sorted(allowed))}),
                       request_id)
    if isinstance(exc, NotFoundException):
        return failure(LockhubError(f"Route {request.url.path} not found",
                                    error_type="not_found", status_code=404), request_id)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return failure(LockhubError(str(exc.detail), status_code=exc.status_code), request_id)
    log.exception("unhandled error", exc_info=exc)
    return failure(LockhubError("Internal server error", error_type="internal_server_error",
                                status_code=500), request_id)


def served_routes(rt: Runtime) -> list[Route]:
    return [r for r in ROUTES if rt.settings.test_hooks or not r.test_hook]


def create_app(rt: Runtime) -> Litestar:
    routes = served_routes(rt)
    document = msgspec.json.encode(openapi_document(routes, rt.settings.base_url))

    @litestar_route("/openapi.json", http_method=["GET"], name="openapi", media_type=JSON)
    async def openapi_json() -> Response[bytes]:
        return Response(content=document, media_type=JSON,
                        headers={"seam-request-id": _request_id()})

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        worker = Worker(rt) if rt.settings.run_engine else None
        task = asyncio.create_task(worker.run()) if worker else None
        try:
            yield
        finally:
            if worker and task:
                worker.stop()
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
            await rt.close()

    return Litestar(
        route_handlers=[_handler(rt, r) for r in routes] + [openapi_json]
        + connect_pages.route_handlers(rt) + brand_callbacks.route_handlers(rt),
        exception_handlers={HTTPException: _http_error, Exception: _http_error},
        openapi_config=None,
        lifespan=[lifespan],
        request_max_body_size=MAX_BODY_BYTES,
        debug=False,
    )


def asgi_app(rt: Runtime) -> ASGIApp:
    """What `lockhub serve` runs: the application behind the header, body and body-time limits."""
    return InputLimits(create_app(rt), body_timeout=rt.settings.body_timeout_seconds)
