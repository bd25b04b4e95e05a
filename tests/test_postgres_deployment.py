"""Several API and worker processes sharing one PostgreSQL database."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seam import Seam

from tests.conftest import SANDBOX_KEY
from tests.postgres import PostgresServer
from tests.server import start_server, start_worker


def test_two_api_processes_and_two_workers_on_postgres_settle_each_attempt_once(
    postgres: PostgresServer, tmp_path: Path,
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    api_a = start_server(tmp_path, name="api-a", database_url=postgres.url,
                         extra_args=["--no-engine"])
    api_b = start_server(tmp_path, name="api-b", database_url=postgres.url, seed=False,
                         extra_args=["--no-engine"])
    workers = [start_worker(postgres.url, tmp_path / f"worker-{i}.log") for i in range(2)]
    try:
        clients = [Seam(api_key=SANDBOX_KEY, endpoint=api.url) for api in (api_a, api_b)]
        devices = [d for d in clients[0].devices.list()
                   if d.properties.online and d.can_remotely_unlock and not d.errors]
        assert len(devices) >= 6
        attempts = [clients[i % 2].locks.unlock_door(device_id=d.device_id,
                                                     wait_for_action_attempt=False)
                    for i, d in enumerate(devices[:6])]
        deadline = time.monotonic() + 30
        pending = {a.action_attempt_id for a in attempts}
        while pending:
            assert time.monotonic() < deadline, f"still pending: {pending}"
            for attempt_id in list(pending):
                got = clients[1].action_attempts.get(action_attempt_id=attempt_id,
                                                     wait_for_action_attempt=False)
                if got.status != "pending":
                    assert got.status == "success", got
                    pending.discard(attempt_id)
            time.sleep(0.1)
        # Each attempt ran exactly once: one lock.unlocked event per attempt.
        events = clients[0].events.list(since=started.isoformat(), event_types=["lock.unlocked"])
        counts = Counter(e.action_attempt_id for e in events)
        assert {a.action_attempt_id: 1 for a in attempts} == {
            a.action_attempt_id: counts[a.action_attempt_id] for a in attempts}
        for device in devices[:6]:
            assert clients[1].devices.get(device_id=device.device_id).properties.locked is False
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=10)
        api_a.stop()
        api_b.stop()


def test_a_worker_on_another_process_starts_a_job_at_once_not_at_its_next_poll(
    postgres: PostgresServer, tmp_path: Path,
) -> None:
    """The worker polls only every 120 s: an unlock made through an API process without an
    engine settles within the SDK's wait because the enqueue NOTIFYs the worker's LISTEN."""
    slow_poll = {"LOCKHUB_ENGINE_POLL_SECONDS": "120", "LOCKHUB_SANDBOX_LATENCY_SCALE": "0"}
    api = start_server(tmp_path, name="api-notify", database_url=postgres.url,
                       extra_args=["--no-engine"], env=slow_poll)
    worker = start_worker(postgres.url, tmp_path / "worker-notify.log", env=slow_poll)
    try:
        seam = Seam(api_key=SANDBOX_KEY, endpoint=api.url)
        device = next(d for d in seam.devices.list()
                      if d.properties.online and d.can_remotely_unlock and not d.errors)
        for _ in range(3):  # three in a row, each far sooner than a poll
            attempt = seam.locks.unlock_door(device_id=device.device_id)
            assert attempt.status == "success"
            seam.locks.lock_door(device_id=device.device_id)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        api.stop()
