"""Delivering one webhook message: sign, POST, record the attempt, retry on Svix's schedule.

At least once: the delivery row and its job are written with the event; a crash before the
outcome is recorded means the lease expires and the message is sent again (same `webhook-id`,
so receivers can dedupe). Retry times are kept in workspace time, so a sandbox clock compresses
the schedule.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
from sqlalchemy import select, update

from lockhub.clock import iso
from lockhub.domain import webhooks as rules
from lockhub.domain.urls import InvalidUrl, parse_http_url
from lockhub.engine.jobs import Job, finish, reschedule
from lockhub.engine.webhook_transport import PRIVATE_ALLOWED, TargetRefused
from lockhub.secret_box import decrypt
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.store.tables import webhook_deliveries, webhooks, workspaces

D = webhook_deliveries
log = logging.getLogger("lockhub.engine")
# The one error a refused target records, whatever the reason (it is logged): the delivery
# log must not reveal what the host resolves to or whether a port is open.
TARGET_REFUSED = ("target refused: not an allowed webhook destination (a private, loopback or "
                  "reserved address, or on the deny list)")
Outcome = tuple[int | None, str | None, bool, float]


async def deliver_webhook(rt: Runtime, job: Job) -> None:
    delivery_id = job.payload["delivery_id"]
    async with rt.db.read() as conn:
        row = (await conn.execute(select(D).where(D.c.delivery_id == delivery_id))).first()
        hook = (await conn.execute(select(webhooks).where(
            webhooks.c.webhook_id == row.webhook_id))).first() if row is not None else None
        sandbox = (await conn.execute(select(workspaces.c.is_sandbox).where(
            workspaces.c.workspace_id == row.workspace_id))).scalar_one_or_none() \
            if row is not None else None
        clock = await workspace_clock(conn, row.workspace_id, rt.clock.now()) \
            if row is not None else None
    if row is None or hook is None or row.status != "pending" or clock is None:
        async with rt.db.write() as conn:
            await finish(conn, job)
        return
    if row.next_attempt_at is not None and clock.now < row.next_attempt_at:
        # Woken early (the clock moved, or a restart): wait for the scheduled retry.
        async with rt.db.write() as conn:
            await reschedule(conn, job, clock.to_real(row.next_attempt_at))
        return
    try:
        status_code, error, abort, latency_ms = await _post(rt, hook, row, bool(sandbox))
    except Exception as exc:  # recorded as a failed attempt, retried on the schedule
        log.exception("webhook delivery %s could not be sent", delivery_id)
        status_code, error, abort, latency_ms = None, _describe(exc), False, 0.0
    ok = error is None and status_code is not None and 200 <= status_code < 300
    attempts = list(row.attempts) + [{
        "at": iso(clock.real_now), "status_code": status_code,
        "latency_ms": round(latency_ms, 2), "error": error}]
    # Every earlier attempt since the last (re)start failed, or the row would not be pending.
    delay = None if ok or abort else rules.next_attempt_delay(row.attempt_count + 1)
    async with rt.db.write() as conn:
        values: dict[str, Any] = {"attempt_count": row.attempt_count + 1, "attempts": attempts}
        if ok:
            values.update(status="delivered", delivered_at=clock.real_now, next_attempt_at=None)
        elif delay is None:
            values.update(status="failed", next_attempt_at=None)
        else:
            values.update(next_attempt_at=clock.now + delay)
        await conn.execute(update(D).where(D.c.delivery_id == delivery_id,
                                           D.c.status == "pending").values(**values))
        if ok or delay is None:
            await finish(conn, job)
        else:
            await reschedule(conn, job, clock.to_real(clock.now + delay))


async def _post(rt: Runtime, hook: Any, row: Any, sandbox: bool) -> Outcome:
    """POST the signed payload; (status, error, abort further retries, latency in ms)."""
    try:
        parse_http_url(hook.url)  # webhooks stored before URLs were checked
    except InvalidUrl as exc:
        return None, f"invalid webhook URL: {exc}", True, 0.0
    headers = rules.signed_headers(decrypt(rt.settings, hook.secret_encrypted), row.event_id,
                                   rt.clock.now(), row.payload)
    started = time.perf_counter()
    try:
        response = await rt.http().post(hook.url, content=row.payload.encode(),
                                        headers=headers,
                                        timeout=rt.settings.webhook_timeout_seconds,
                                        extensions={PRIVATE_ALLOWED: sandbox})
    except TargetRefused as exc:
        log.info("webhook %s: target refused: %s", hook.webhook_id, exc)
        return None, TARGET_REFUSED, True, 0.0
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return None, f"invalid webhook URL: {_describe(exc)}", True, 0.0
    except httpx.HTTPError as exc:
        return None, _describe(exc), False, (time.perf_counter() - started) * 1000
    latency = (time.perf_counter() - started) * 1000
    abort = response.headers.get("webhook-delivery", "").lower() == "abort-message"
    return response.status_code, None, abort, latency


def _describe(exc: Exception) -> str:
    text = str(exc)
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:500]
