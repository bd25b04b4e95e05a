"""Sending deliveries, in process, against a real database: refused targets record one
uniform attempt without a connection, a delivery that cannot be sent for any reason is a
recorded failed attempt, never an exception that leaves it pending, and one job per webhook
sends everything due to it, however many deliveries and whenever they were written."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from lockhub.clock import iso
from lockhub.config import Settings
from lockhub.engine import jobs
from lockhub.engine.webhooks import BATCH, TARGET_REFUSED, deliver_webhook
from lockhub.ids import new_id
from lockhub.secret_box import encrypt
from lockhub.services import webhooks as service
from lockhub.services.runtime import Runtime, build_runtime
from lockhub.services.seed import WORKSPACE_1, WORKSPACE_2, seed
from lockhub.store.migrate import upgrade
from lockhub.store.tables import webhooks
from tests.conformance.webhook_receiver import Receiver
from tests.databases import ON_POSTGRES, database_url

SANDBOX, PRODUCTION = WORKSPACE_1, WORKSPACE_2


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=database_url(tmp_path, "lockhub"),
                        secret_key=Fernet.generate_key().decode(), run_engine=False,
                        sandbox_latency_scale=0, webhook_timeout_seconds=2)
    upgrade(settings.database_url)
    runtime = build_runtime(settings)
    await seed(runtime)
    yield runtime
    await runtime.close()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """An open port on every loopback address (v4 and v6), which never answers: a connection
    to it would show in its backlog."""
    sock = socket.socket(socket.AF_INET6)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _connections(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            sock.accept()[0].close()
        except BlockingIOError:
            return count
        count += 1


async def _stored_webhook(rt: Runtime, workspace_id: str, url: str) -> str:
    """A webhook row as an older lockhub stored it (before URLs were checked on create)."""
    webhook_id = new_id()
    async with rt.db.write() as conn:
        await conn.execute(webhooks.insert().values(
            webhook_id=webhook_id, workspace_id=workspace_id, url=url, event_types=["*"],
            secret_encrypted=encrypt(rt.settings, "whsec_" + "A" * 44),
            created_at=rt.clock.now()))
    return webhook_id


async def _send_one_event(rt: Runtime, workspace_id: str) -> list[service.Delivery]:
    """Record one event's deliveries and run every delivery job once."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        await service.enqueue_for_event(conn, now=now, event={
            "event_id": new_id(), "event_type": "device.connected",
            "workspace_id": workspace_id, "created_at": "2026-01-01T00:00:00.000Z"})
    claimed = await jobs.claim(rt.db, now=now + timedelta(seconds=1), worker_id="test",
                               lease_seconds=60, limit=100)
    for job in claimed:
        if job.kind == service.DELIVERY_KIND:
            await deliver_webhook(rt, job)
    return await service.list_deliveries(rt, workspace_id, webhook_id=None, event_id=None,
                                         status=None, limit=100)


async def _delivery_jobs_left(rt: Runtime) -> list[jobs.Job]:
    claimed = await jobs.claim(rt.db, now=rt.clock.now() + timedelta(days=1), worker_id="later",
                               lease_seconds=60, limit=1000)
    return [job for job in claimed if job.kind == service.DELIVERY_KIND]


def _attempt(delivery: service.Delivery) -> dict[str, Any]:
    assert delivery.attempt_count == 1 and len(delivery.attempts) == 1
    attempt = delivery.attempts[0]
    return {"status_code": attempt.status_code, "latency_ms": attempt.latency_ms,
            "error": attempt.error}


LOOPBACK_SPELLINGS = ["[::ffff:127.0.0.1]", "[::]", "[::127.0.0.1]", "[::1]", "127.0.0.1",
                      "127.1", "localhost"]


async def test_production_delivery_to_loopback_fails_at_once_without_connecting(
    rt: Runtime, listener: socket.socket,
) -> None:
    open_port, closed_port = listener.getsockname()[1], _closed_port()
    for host in LOOPBACK_SPELLINGS:
        await _stored_webhook(rt, PRODUCTION, f"http://{host}:{open_port}/hooks")
        await _stored_webhook(rt, PRODUCTION, f"http://{host}:{closed_port}/hooks")

    deliveries = await _send_one_event(rt, PRODUCTION)

    assert _connections(listener) == 0
    assert len(deliveries) == 2 * len(LOOPBACK_SPELLINGS)
    assert {d.status for d in deliveries} == {"failed"}
    # Open port or closed, the log records the same thing: nothing to scan ports with.
    refused = {"status_code": None, "latency_ms": 0.0, "error": TARGET_REFUSED}
    assert [_attempt(d) for d in deliveries] == [refused] * len(deliveries)
    assert await _delivery_jobs_left(rt) == []


UNSENDABLE = ["https://[::1]x/", "http://hooks.example.com/a b",
              "ftp://hooks.example.com/", "http://user:pw@hooks.example.com/",
              "http://hooks.example.com:99999/"]
if not ON_POSTGRES:  # PostgreSQL stores no NUL in text (and the API refuses one in any input)
    UNSENDABLE.append("http://hooks\x00.example.com/")


async def test_a_stored_url_that_cannot_be_sent_fails_its_delivery_once(rt: Runtime) -> None:
    for url in UNSENDABLE:
        await _stored_webhook(rt, SANDBOX, url)

    deliveries = await _send_one_event(rt, SANDBOX)

    assert len(deliveries) == len(UNSENDABLE)
    assert {d.status for d in deliveries} == {"failed"}
    assert all(_attempt(d)["error"].startswith("invalid webhook URL") for d in deliveries)
    assert await _delivery_jobs_left(rt) == []


async def test_any_error_while_sending_is_a_recorded_attempt_retried_on_schedule(
    rt: Runtime,
) -> None:
    webhook_id = await _stored_webhook(rt, SANDBOX, "http://localhost:9/lockhub")
    async with rt.db.write() as conn:  # e.g. encrypted under a key that was since replaced
        await conn.execute(webhooks.update().where(webhooks.c.webhook_id == webhook_id)
                           .values(secret_encrypted="not a token"))

    [delivery] = await _send_one_event(rt, SANDBOX)

    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    assert _attempt(delivery) == {"status_code": None, "latency_ms": 0.0,
                                  "error": "InvalidToken"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


async def _subscribe(rt: Runtime, receiver: Receiver) -> str:
    hook = await service.create(rt, SANDBOX, receiver.url, ["*"])
    receiver.secret = hook.secret
    return hook.webhook_id


async def _record_events(rt: Runtime, count: int) -> None:
    async with rt.db.write() as conn:
        for _ in range(count):
            await service.enqueue_for_event(conn, now=rt.clock.now(), event={
                "event_id": new_id(), "event_type": "device.connected",
                "workspace_id": SANDBOX, "created_at": "2026-01-01T00:00:00.000Z"})


async def _claim_deliveries(rt: Runtime) -> list[jobs.Job]:
    claimed = await jobs.claim(rt.db, now=rt.clock.now(), worker_id="test", lease_seconds=60,
                               limit=100)
    return [job for job in claimed if job.kind == service.DELIVERY_KIND]


async def _statuses(rt: Runtime) -> list[str]:
    return sorted(d.status for d in await service.list_deliveries(
        rt, SANDBOX, webhook_id=None, event_id=None, status=None, limit=1000))


async def test_one_run_of_a_webhooks_job_sends_all_its_due_deliveries(
    rt: Runtime, receiver: Receiver,
) -> None:
    await _subscribe(rt, receiver)
    count = 2 * BATCH + 5  # more than one batch
    await _record_events(rt, count)

    [job] = await _claim_deliveries(rt)  # one job for the webhook, not one per delivery
    await deliver_webhook(rt, job)

    assert len(receiver.event_ids()) == count and receiver.rejected == 0
    assert await _statuses(rt) == ["delivered"] * count
    assert await _delivery_jobs_left(rt) == []


async def test_a_delivery_written_while_its_webhook_is_being_sent_to_goes_out_next_run(
    rt: Runtime, receiver: Receiver,
) -> None:
    await _subscribe(rt, receiver)
    await _record_events(rt, 1)
    [job] = await _claim_deliveries(rt)
    receiver.mode = "hang"
    run = asyncio.create_task(deliver_webhook(rt, job))
    deadline = time.monotonic() + 10
    while receiver.requests == 0:  # the first delivery is in flight
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)

    await _record_events(rt, 1)
    receiver.mode = "ok"
    receiver.released.set()
    await run
    assert await _statuses(rt) == ["delivered", "pending"]

    [again] = await _claim_deliveries(rt)
    await deliver_webhook(rt, again)
    assert await _statuses(rt) == ["delivered", "delivered"]
    assert len(receiver.event_ids()) == 2
    assert await _delivery_jobs_left(rt) == []


async def test_a_failing_webhooks_job_sleeps_until_the_next_retry_is_due(
    rt: Runtime, receiver: Receiver,
) -> None:
    await _subscribe(rt, receiver)
    receiver.mode = "fail"
    await _record_events(rt, 1)

    for _ in range(2):  # Svix retries at once after the first failure, then after 5 s
        [job] = await _claim_deliveries(rt)
        await deliver_webhook(rt, job)

    [delivery] = await service.list_deliveries(rt, SANDBOX, webhook_id=None, event_id=None,
                                               status=None, limit=10)
    assert delivery.status == "pending" and delivery.attempt_count == 2
    assert await _claim_deliveries(rt) == []
    async with rt.db.read() as conn:
        run_at = (await conn.execute(select(jobs.jobs.c.run_at).where(
            jobs.jobs.c.kind == service.DELIVERY_KIND))).scalar_one()
    assert iso(run_at) == delivery.next_attempt_at


async def test_a_receivers_cookies_never_ride_on_later_deliveries(rt: Runtime) -> None:
    seen: list[str | None] = []

    class SetsCookies(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("content-length", 0)))
            seen.append(self.headers.get("cookie"))
            self.send_response(204)
            self.send_header("set-cookie", "session=of-the-first-workspace; Path=/")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SetsCookies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        await service.create(rt, SANDBOX, f"http://127.0.0.1:{server.server_address[1]}/", ["*"])
        for _ in range(2):
            await _record_events(rt, 1)
            [job] = await _claim_deliveries(rt)
            await deliver_webhook(rt, job)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [None, None]
