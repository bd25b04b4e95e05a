"""lockhub's own operational routes (not Seam's): `GET /metrics` and `GET /_lockhub/ready`.

`/health` (a Seam route) is the liveness probe: the process answers and its database takes
requests. `/_lockhub/ready` is readiness: the database answers and an engine is running the
queue (this process's or a `lockhub worker`'s heartbeat in `workers` is recent), else 503 in
Seam's envelope naming the check that failed.

`/metrics` is Prometheus' text format, unauthenticated unless `LOCKHUB_METRICS_TOKEN` is set
(then `Authorization: Bearer <token>`): keep it behind the reverse proxy or firewall.
"""

from __future__ import annotations

import hmac
import logging
import os
from datetime import timedelta

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler

from lockhub import metrics
from lockhub.api.envelope import JSON, failure, success, to_response
from lockhub.engine import liveness
from lockhub.engine.worker import handlers
from lockhub.errors import LockhubError
from lockhub.ids import new_request_id
from lockhub.services.runtime import Runtime

log = logging.getLogger("lockhub.api")

METRICS_PATH = "/metrics"
READY_PATH = "/_lockhub/ready"


class NotReady(LockhubError):
    def __init__(self, message: str) -> None:
        super().__init__(message, error_type="service_unavailable", status_code=503)


async def readiness_problem(rt: Runtime) -> str | None:
    """What keeps this deployment from doing its work, or None."""
    try:
        await rt.db.check()
    except Exception as exc:
        return f"Not ready: the database does not answer ({exc})"
    # An engine renews its heartbeat every lease/3 seconds; one silent for a whole lease
    # has lost its leases too.
    lease = rt.settings.lease_seconds
    since = rt.clock.now() - timedelta(seconds=lease)
    try:
        alive = await liveness.alive_count(rt.db, since=since)
    except Exception as exc:
        return f"Not ready: the engine's heartbeats cannot be read ({exc})"
    if not alive:
        return (f"Not ready: no engine has sent a heartbeat in the last {lease:g} s (run "
                f"`lockhub serve` with its engine, or a `lockhub worker`)")
    return None


def route_handlers(rt: Runtime) -> list[HTTPRouteHandler]:
    token = os.environ.get("LOCKHUB_METRICS_TOKEN", "")
    job_kinds = list(handlers())

    @get(READY_PATH, name="lockhub_ready", media_type=JSON)
    async def ready() -> Response[bytes]:
        request_id = new_request_id()
        problem = await readiness_problem(rt)
        if problem:
            return to_response(failure(NotReady(problem), request_id))
        return to_response(success({"ok": True}, request_id))

    @get(METRICS_PATH, name="metrics", media_type=metrics.CONTENT_TYPE)
    async def metrics_page(request: Request) -> Response[bytes]:  # type: ignore[type-arg]
        if token and not hmac.compare_digest(
                request.headers.get("authorization", "").encode(), f"Bearer {token}".encode()):
            return to_response(failure(LockhubError(
                "A valid bearer token (LOCKHUB_METRICS_TOKEN) is required for /metrics",
                error_type="unauthorized", status_code=401), new_request_id()))
        try:
            await metrics.refresh_queue(rt.db, rt.clock.now(), job_kinds)
        except Exception as exc:  # the rest of the metrics are still worth serving
            log.warning("reading the job queue for /metrics failed: %s", exc)
        return Response(content=metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    return [ready, metrics_page]
