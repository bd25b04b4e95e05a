"""Delivering a webhook's outbox: sign, POST, record the attempts, retry on Svix's schedule.

One job per webhook drains its due pending deliveries in batches: a batch is POSTed at once
(concurrently, over the webhook client's pooled connections) and its outcomes are recorded in
one transaction. Each event asks for the job again as it writes its delivery (`jobs.ensure`
bumps the generation of a running job), so a delivery written during a batch is sent by the
next run.

At least once: the delivery rows and the job are written with the event; a crash before a
batch's outcomes are recorded means the lease expires and its messages are sent again (same
`webhook-id`, so receivers can dedupe). Retry times are kept in workspace time, so a sandbox
clock compresses the schedule.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cache
from typing import Any

import httpx
from sqlalchemy import Integer, String, and_, bindparam, func, or_, select, update

from lockhub import metrics
from lockhub.clock import iso
from lockhub.domain import webhooks as rules
from lockhub.domain.urls import InvalidUrl, parse_http_url
from lockhub.engine.jobs import Job, finish, reschedule
from lockhub.engine.webhook_transport import TargetRefused
from lockhub.secret_box import decrypt
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import WorkspaceClock, workspace_clock
from lockhub.store.tables import webhook_deliveries, webhooks, workspaces

D = webhook_deliveries
log = logging.getLogger("lockhub.engine")
# The one error a refused target records, whatever the reason (it is logged): the delivery
# log must not reveal what the host resolves to or whether a port is open.
TARGET_REFUSED = ("target refused: not an allowed webhook destination (a private, loopback or "
                  "reserved address, or on the deny list)")
# Deliveries sent one batch at a time and recorded together, at most IN_FLIGHT at once to
# one webhook: a receiver is one endpoint, often with a short accept queue.
BATCH = 32
IN_FLIGHT = 4
Outcome = tuple[int | None, str | None, bool, float]


async def deliver_webhook(rt: Runtime, job: Job) -> None:
    """Send the webhook's due deliveries, batch after batch, then wait for its next retry."""
    webhook_id = job.payload["webhook_id"]
    while True:
        async with rt.db.read() as conn:
            hook = (await conn.execute(_statements().hook, {"webhook_id": webhook_id})).first()
            if hook is not None:
                clock = await workspace_clock(conn, hook.workspace_id, rt.clock.now())
                due = (await conn.execute(_statements().due, {
                    "webhook_id": webhook_id, "now": clock.now, "batch": BATCH})).all()
        if hook is None:
            async with rt.db.write() as conn:
                await finish(conn, job)
            return
        results = await _send(rt, hook, due) if due else []
        async with rt.db.write() as conn:
            if results:
                await conn.execute(_statements().record, [
                    _recorded(row, outcome, clock) for row, outcome in zip(due, results,
                                                                          strict=True)])
            if len(due) == BATCH:
                continue
            # Pending deliveries never sent have no retry time: they are due now.
            next_at = (await conn.execute(_statements().next_attempt, {
                "webhook_id": webhook_id, "now": clock.now})).scalar()
            if next_at is None:
                await finish(conn, job)
            else:
                await reschedule(conn, job, clock.to_real(next_at))
            return


async def _send(rt: Runtime, hook: Any, due: list[Any]) -> list[Outcome]:
    """POST every delivery of the batch at once; each outcome is its own (an error is a failed
    attempt of that delivery, retried on the schedule)."""
    try:
        parse_http_url(hook.url)  # webhooks stored before URLs were checked
    except InvalidUrl as exc:
        return [(None, f"invalid webhook URL: {exc}", True, 0.0)] * len(due)
    try:
        secret = decrypt(rt.settings, hook.secret_encrypted)
    except Exception as exc:  # e.g. encrypted under a key that was since replaced
        log.exception("webhook %s: its secret cannot be read", hook.webhook_id)
        return [(None, _describe(exc), False, 0.0)] * len(due)
    turns = asyncio.Semaphore(IN_FLIGHT)

    async def post(row: Any) -> Outcome:
        async with turns:
            outcome = await _post(rt, hook, secret, row)
        _record_attempt(hook, row, outcome)
        return outcome

    return list(await asyncio.gather(*(post(row) for row in due)))


async def _post(rt: Runtime, hook: Any, secret: str, row: Any) -> Outcome:
    """POST one signed payload; (status, error, abort further retries, latency in ms)."""
    started = time.perf_counter()
    try:
        headers = rules.signed_headers(secret, row.event_id, rt.clock.now(), row.payload)
        response = await rt.http().post(hook.url, content=row.payload.encode(),
                                        headers=headers,
                                        timeout=rt.settings.webhook_timeout_seconds,
                                        private_allowed=bool(hook.is_sandbox))
    except TargetRefused as exc:
        log.info("webhook %s: target refused: %s", hook.webhook_id, exc)
        return None, TARGET_REFUSED, True, 0.0
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return None, f"invalid webhook URL: {_describe(exc)}", True, 0.0
    except httpx.HTTPError as exc:
        return None, _describe(exc), False, (time.perf_counter() - started) * 1000
    except Exception as exc:  # recorded as a failed attempt, retried on the schedule
        log.exception("webhook delivery %s could not be sent", row.delivery_id)
        return None, _describe(exc), False, 0.0
    latency = (time.perf_counter() - started) * 1000
    abort = response.headers.get("webhook-delivery", "").lower() == "abort-message"
    return response.status_code, None, abort, latency


def _record_attempt(hook: Any, row: Any, outcome: Outcome) -> None:
    """One log line and the metrics of a delivery attempt."""
    status_code, error, _, latency_ms = outcome
    ok = error is None and status_code is not None and 200 <= status_code < 300
    result = "delivered" if ok else "refused" if error == TARGET_REFUSED else "failed"
    metrics.WEBHOOK_DELIVERIES.labels(result).inc()
    metrics.WEBHOOK_SECONDS.observe(latency_ms / 1000)
    if log.isEnabledFor(logging.INFO):
        log.info("webhook %s delivery %s event %s: %s, status %s, %.1f ms", hook.webhook_id,
                 row.delivery_id, row.event_id, result, status_code or "-", latency_ms,
                 extra={"webhook_id": hook.webhook_id, "delivery_id": row.delivery_id,
                        "event_id": row.event_id, "outcome": result,
                        "status_code": status_code, "error": error,
                        "duration_ms": round(latency_ms, 3)})


def _recorded(row: Any, outcome: Outcome, clock: WorkspaceClock) -> dict[str, Any]:
    """The delivery's row after this attempt (parameters of the batch's one UPDATE)."""
    status_code, error, abort, latency_ms = outcome
    ok = error is None and status_code is not None and 200 <= status_code < 300
    # Every earlier attempt since the last (re)start failed, or the row would not be pending.
    delay = None if ok or abort else rules.next_attempt_delay(row.attempt_count + 1)
    return {
        "id": row.delivery_id, "new_attempt_count": row.attempt_count + 1,
        "new_attempts": [*row.attempts, {"at": iso(clock.real_now), "status_code": status_code,
                                     "latency_ms": round(latency_ms, 2), "error": error}],
        "new_status": "delivered" if ok else "pending" if delay is not None else "failed",
        "new_delivered_at": clock.real_now if ok else None,
        "new_next_attempt_at": clock.now + delay if delay is not None else None}


class _Statements:
    """The statements of a delivery run, built once (values are parameters): building and
    cache-keying a statement costs more than running it."""

    def __init__(self) -> None:
        pending = and_(D.c.webhook_id == bindparam("webhook_id", type_=String),
                       D.c.status == "pending")
        now = bindparam("now", type_=D.c.next_attempt_at.type)
        self.hook = (select(webhooks.c.webhook_id, webhooks.c.workspace_id, webhooks.c.url,
                            webhooks.c.secret_encrypted, workspaces.c.is_sandbox)
                     .join(workspaces, workspaces.c.workspace_id == webhooks.c.workspace_id)
                     .where(webhooks.c.webhook_id == bindparam("webhook_id", type_=String)))
        self.due = (select(D.c.delivery_id, D.c.event_id, D.c.payload, D.c.attempt_count,
                           D.c.attempts)
                    .where(pending, or_(D.c.next_attempt_at.is_(None), D.c.next_attempt_at <= now))
                    .order_by(D.c.created_at, D.c.delivery_id)
                    .limit(bindparam("batch", type_=Integer)))
        self.next_attempt = select(func.min(func.coalesce(D.c.next_attempt_at, now))).where(
            pending)
        self.record = (update(D)
                       .where(D.c.delivery_id == bindparam("id", type_=String),
                              D.c.status == "pending")
                       .values(attempt_count=bindparam("new_attempt_count", type_=Integer),
                               attempts=bindparam("new_attempts", type_=D.c.attempts.type),
                               status=bindparam("new_status", type_=String),
                               delivered_at=bindparam("new_delivered_at",
                                                      type_=D.c.delivered_at.type),
                               next_attempt_at=bindparam("new_next_attempt_at",
                                                         type_=D.c.next_attempt_at.type)))


@cache
def _statements() -> _Statements:
    return _Statements()


def _describe(exc: Exception) -> str:
    text = str(exc)
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:500]
