"""Sending one delivery, in process, against a real database: refused targets record one
uniform attempt without a connection, and a delivery that cannot be sent for any reason is a
recorded failed attempt, never an exception that leaves it pending."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from lockhub.config import Settings
from lockhub.engine import jobs
from lockhub.engine.webhooks import TARGET_REFUSED, deliver_webhook
from lockhub.ids import new_id
from lockhub.secret_box import encrypt
from lockhub.services import webhooks as service
from lockhub.services.runtime import Runtime, build_runtime
from lockhub.services.seed import WORKSPACE_1, WORKSPACE_2, seed
from lockhub.store.migrate import upgrade
from lockhub.store.tables import webhooks

SANDBOX, PRODUCTION = WORKSPACE_1, WORKSPACE_2


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'lockhub.db'}",
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


UNSENDABLE = ["https://[::1]x/", "http://hooks\x00.example.com/", "http://hooks.example.com/a b",
              "ftp://hooks.example.com/", "http://user:pw@hooks.example.com/",
              "http://hooks.example.com:99999/"]


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
