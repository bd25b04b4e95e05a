"""The application: the Seam route table served from the ASGI scope (asgi.py), and a Litestar
application behind it for the rest (Connect Webview pages, brand callbacks, /openapi.json) and
for errors outside any route, answered in Seam's envelope."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar import route as litestar_route
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException

from lockhub import logs
from lockhub.api import (  # noqa: F401  (importing registers the routes)
    access_codes,
    access_grants,
    action_attempts,
    client_sessions,
    connect_webviews,
    connected_accounts,
    devicedb,
    devices,
    events,
    fake_hooks,
    health,
    locks,
    noise_sensors,
    ops,
    sandbox,
    spaces,
    telemetry,
    thermostat_schedules,
    thermostats,
    user_identities,
    webhooks,
    workspaces,
)
from lockhub.api.access_log import AccessLog
from lockhub.api.asgi import SeamRoutes
from lockhub.api.envelope import JSON, Answer, failure, to_response
from lockhub.api.limits import MAX_BODY_BYTES, ASGIApp, InputLimits
from lockhub.api.openapi import openapi_document
from lockhub.api.routing import ROUTES, Route
from lockhub.engine.worker import Worker
from lockhub.errors import LockhubError, MethodNotAllowed, RouteNotSupported
from lockhub.gc_tuning import freeze_startup_objects
from lockhub.ids import new_request_id
from lockhub.services.runtime import Runtime
from lockhub.web import callbacks as brand_callbacks
from lockhub.web import connect as connect_pages
from lockhub.web import console
from lockhub.web import images as brand_images

log = logging.getLogger("lockhub.api")

# Every path of Seam's OpenAPI document (spec/seam-openapi.json; tests/test_route_table.py keeps
# the two equal): one lockhub does not serve is answered as not supported, not as unknown.
SEAM_PATHS = frozenset(json.loads((Path(__file__).parent / "seam_paths.json").read_text()))


def _http_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return to_response(_error_answer(request, exc))


def _error_answer(request: Request[Any, Any, Any], exc: Exception) -> Answer:
    request_id = new_request_id()
    if isinstance(exc, LockhubError):  # raised by a page or callback handler
        return failure(exc, request_id)
    if isinstance(exc, MethodNotAllowedException):
        # RFC 9110: a 405 must list the verbs the resource accepts (Litestar names them).
        allowed = sorted(m.strip() for m in (exc.headers or {}).get("allow", "").split(",")
                         if m.strip())
        return failure(MethodNotAllowed(f"only {','.join(allowed)} accepted",
                                        headers={"Allow": ", ".join(allowed)}), request_id)
    if isinstance(exc, NotFoundException):
        if request.url.path in SEAM_PATHS:
            return failure(RouteNotSupported(request.url.path), request_id)
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
                        headers={"seam-request-id": new_request_id()})

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        worker = Worker(rt) if rt.settings.run_engine else None
        task = asyncio.create_task(worker.run()) if worker else None
        freeze_startup_objects()
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
            logs.flush()

    return Litestar(
        route_handlers=[openapi_json, *connect_pages.route_handlers(rt),
                        *brand_callbacks.route_handlers(rt), *brand_images.route_handlers(),
                        *ops.route_handlers(rt),
                        *console.route_handlers(rt)],
        exception_handlers={HTTPException: _http_error, Exception: _http_error},
        openapi_config=None,
        lifespan=[lifespan],
        request_max_body_size=MAX_BODY_BYTES,
        # lockhub's logs.configure owns the logging set-up (Litestar's would replace the
        # root handler).
        logging_config=None,
        debug=False,
    )


def asgi_app(rt: Runtime) -> ASGIApp:
    """What `lockhub serve` runs: the Seam routes, then Litestar, behind the header, body and
    body-time limits, behind the access log and request metrics.

    Logging is configured here as well as by the CLI (`logs.configure` is idempotent): uvicorn
    sets up its own loggers after the CLI and before it builds the application."""
    logs.configure()
    routes = served_routes(rt)
    return AccessLog(InputLimits(SeamRoutes(rt, routes, create_app(rt)),
                                 body_timeout=rt.settings.body_timeout_seconds),
                     frozenset(r.path for r in routes))
