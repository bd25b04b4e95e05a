"""Prometheus metrics of this process (`GET /metrics`, `api/ops.py`).

Each process counts what it did itself: `lockhub serve` its requests (and, with its engine, its
jobs), a `lockhub worker` its jobs: scrape every process. The API processes of one
`lockhub serve --workers N` are the exception: they share their metrics through Prometheus'
multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, set by `serve`; api/processes.py), so any of
them reports the sum. The queue gauges are read from the `jobs` table on each scrape, so they
describe the whole database whichever process answers.

The hot path is the request counter and latency histogram: their labelled children are looked
up once per (route, method, status) and kept, so a request costs two dictionary look-ups and
two updates.
"""

from __future__ import annotations

import inspect
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from functools import wraps
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    start_http_server,
)
from sqlalchemy import func, or_, select

from lockhub.store.db import Database
from lockhub.store.tables import jobs

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Where prometheus-client's multiprocess mode keeps the processes' metric files.
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
disable_created_metrics()  # no `_created` series beside every counter and histogram

REQUESTS = Counter("lockhub_http_requests", "HTTP requests answered, by route and status",
                   ["route", "method", "status"])
REQUEST_SECONDS = Histogram(
    "lockhub_http_request_duration_seconds", "Time to answer an HTTP request, by route",
    ["route"], buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
# Set from the database at each scrape: across processes, the latest reading is the answer.
JOBS_DUE = Gauge("lockhub_jobs_due", "Engine jobs due now and not leased (database-wide)",
                 ["kind"], multiprocess_mode="mostrecent")
JOBS_LAG = Gauge("lockhub_jobs_lag_seconds",
                 "How long the oldest due, unleased job has been waiting (database-wide)",
                 ["kind"], multiprocess_mode="mostrecent")
JOB_RUNS = Counter("lockhub_job_runs", "Engine job runs by this process, by kind and outcome",
                   ["kind", "outcome"])
JOB_SECONDS = Histogram("lockhub_job_duration_seconds", "Time of one engine job run", ["kind"])
ACTION_ATTEMPTS = Counter("lockhub_action_attempts",
                          "Action attempts settled, by action type and outcome",
                          ["action_type", "outcome", "error_type"])
WEBHOOK_DELIVERIES = Counter("lockhub_webhook_deliveries",
                             "Webhook delivery attempts, by outcome", ["outcome"])
WEBHOOK_SECONDS = Histogram("lockhub_webhook_delivery_duration_seconds",
                            "Time of one webhook POST")
PROVIDER_SECONDS = Histogram("lockhub_provider_call_duration_seconds",
                             "Time of one provider call, by provider and operation",
                             ["provider", "operation"])
PROVIDER_ERRORS = Counter("lockhub_provider_call_errors",
                          "Provider calls that failed, by provider, operation and error type",
                          ["provider", "operation", "error_type"])
PROVIDER_CONNECTIONS = Gauge("lockhub_provider_connections",
                             "Live provider connections this process holds", ["provider"],
                             multiprocess_mode="livesum")

_requests: dict[tuple[str, str, int], Any] = {}
_latency: dict[str, Any] = {}
_kinds: set[str] = set()


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    key = (route, method, status)
    counter = _requests.get(key)
    if counter is None:
        counter = _requests[key] = REQUESTS.labels(route, method, str(status))
    counter.inc()
    histogram = _latency.get(route)
    if histogram is None:
        histogram = _latency[route] = REQUEST_SECONDS.labels(route)
    histogram.observe(seconds)


async def refresh_queue(db: Database, now: datetime, kinds: Iterable[str] = ()) -> None:
    """Set the queue gauges from the `jobs` table: due, unleased jobs per kind and the age of
    the oldest (`kinds`, and kinds seen before, with nothing due read 0)."""
    _kinds.update(kinds)
    async with db.read() as conn:
        rows = (await conn.execute(
            select(jobs.c.kind, func.count(), func.min(jobs.c.run_at))
            .where(jobs.c.run_at <= now,
                   or_(jobs.c.lease_until.is_(None), jobs.c.lease_until <= now))
            .group_by(jobs.c.kind))).all()
    seen = set()
    for kind, count, oldest in rows:
        seen.add(kind)
        _kinds.add(kind)
        JOBS_DUE.labels(kind).set(count)
        JOBS_LAG.labels(kind).set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    for kind in _kinds - seen:  # kinds seen before, nothing due now
        JOBS_DUE.labels(kind).set(0)
        JOBS_LAG.labels(kind).set(0)


def exposition() -> bytes:
    folder = os.environ.get(MULTIPROCESS_DIR_ENV)
    if not folder:
        return generate_latest()
    _forget_dead_processes(folder)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)
    return generate_latest(registry)


_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db$")


def _forget_dead_processes(folder: str) -> None:
    """Drop the live gauges of API processes that have exited (uvicorn replaces a dead one
    without telling prometheus-client), so their connections are not counted any more."""
    for name in os.listdir(folder):
        found = _LIVE_GAUGE_FILE.match(name)
        if found and not _alive(int(found[1])):
            multiprocess.mark_process_dead(int(found[1]), path=folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        pass
    return True


def start_exporter(env: Mapping[str, str] | None = None) -> int | None:
    """For `lockhub worker`, which serves no HTTP: serve this process's metrics on
    `LOCKHUB_WORKER_METRICS_PORT` (on `LOCKHUB_WORKER_METRICS_HOST`, default 127.0.0.1; no
    token: bind it where only Prometheus reaches it). Returns the port, or None when unset."""
    env = os.environ if env is None else env
    port = env.get("LOCKHUB_WORKER_METRICS_PORT")
    if not port:
        return None
    start_http_server(int(port), addr=env.get("LOCKHUB_WORKER_METRICS_HOST", "127.0.0.1"))
    return int(port)


# Provider calls timed (the Provider protocol's operations); anything else a provider offers
# (its live connection's `maintain`, brand-specific helpers) is left as it is.
PROVIDER_OPERATIONS = ("login", "import_devices", "read_state", "lock", "unlock", "list_codes",
                       "set_code", "set_codes", "remove_code", "create_offline_code",
                       "configure_auto_lock")


def instrument_provider(provider: Any) -> None:
    """Time the provider's operations and count their failures (by the error's `error_type`,
    else the exception's class), in place, so the object keeps its type."""
    if getattr(provider, "_lockhub_instrumented", False):
        return
    name = getattr(provider, "name", type(provider).__name__)
    for operation in PROVIDER_OPERATIONS:
        call = getattr(provider, operation, None)
        if inspect.iscoroutinefunction(call):
            setattr(provider, operation, _timed(call, name, operation))
    provider._lockhub_instrumented = True


def _timed(call: Callable[..., Awaitable[Any]], provider: str,
           operation: str) -> Callable[..., Awaitable[Any]]:
    histogram = PROVIDER_SECONDS.labels(provider, operation)

    @wraps(call)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call(*args, **kwargs)
        except Exception as exc:
            error_type = getattr(exc, "error_type", None) or type(exc).__name__
            PROVIDER_ERRORS.labels(provider, operation, error_type).inc()
            raise
        finally:
            histogram.observe(time.perf_counter() - started)

    return timed
