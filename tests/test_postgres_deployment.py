"""Several API and worker processes sharing one PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from seam import Seam

from tests.conformance.helpers import wait_until
from tests.conformance.webhook_receiver import Receiver
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


def leased_by(url: str, worker_id: str) -> bool:
    """Whether the engine `worker_id` holds a lease on a job right now."""
    async def query() -> bool:
        conn = await asyncpg.connect(url)
        try:
            return bool(await conn.fetchval(
                "SELECT count(*) FROM jobs WHERE leased_by = $1 AND lease_until > now()",
                worker_id))
        finally:
            await conn.close()
    return asyncio.run(query())


def test_three_api_processes_and_three_workers_under_load_do_everything_exactly_once(
    postgres: PostgresServer, tmp_path: Path,
) -> None:
    """Concurrent SDK clients on three API processes, three workers: every action attempt runs
    once, every PIN is programmed once, every event is delivered once to each of two webhook
    endpoints; then a worker is SIGKILLed with work queued and the other two finish it."""
    env = {"LOCKHUB_SANDBOX_LATENCY_SCALE": "1", "LOCKHUB_LEASE_SECONDS": "3"}
    started = datetime.now(UTC) - timedelta(seconds=1)
    apis = [start_server(tmp_path, name=f"api-{i}", database_url=postgres.url, seed=i == 0,
                         extra_args=["--no-engine"], env=env) for i in range(3)]
    workers = [start_worker(postgres.url, tmp_path / f"worker-{i}.log",
                            env={**env, "LOCKHUB_WORKER_ID": f"worker-{i}"}) for i in range(3)]
    try:
        with Receiver() as receiver, Receiver() as other_receiver:
            clients = [Seam(api_key=SANDBOX_KEY, endpoint=api.url) for api in apis]
            for i, endpoint in enumerate((receiver, other_receiver)):
                endpoint.secret = clients[i].webhooks.create(
                    url=endpoint.url, event_types=["lock.unlocked", "lock.locked"]).secret
            devices = [d for d in clients[0].devices.list()
                       if d.properties.online and d.can_remotely_unlock and not d.errors
                       and d.can_program_online_access_codes]
            assert len(devices) >= 6

            def work(i: int) -> tuple[str, str]:
                client, device = clients[i % 3], devices[i]
                attempt = client.locks.unlock_door(device_id=device.device_id,
                                                   wait_for_action_attempt=False)
                code = client.access_codes.create(device_id=device.device_id,
                                                   code=f"{7100 + i}", name=f"Load {i}")
                return attempt.action_attempt_id, code.access_code_id

            with ThreadPoolExecutor(max_workers=6) as pool:
                results = list(pool.map(work, range(6)))
            attempt_ids = {a for a, _ in results}
            code_ids = {c for _, c in results}
            wait_until(lambda: all(clients[1].action_attempts.get(
                action_attempt_id=a, wait_for_action_attempt=False).status == "success"
                for a in attempt_ids), timeout=60, message="every unlock to succeed")
            wait_until(lambda: all(clients[2].access_codes.get(access_code_id=c).status == "set"
                                   for c in code_ids), timeout=60, message="every code set")
            unlocked = clients[0].events.list(since=started.isoformat(),
                                              event_types=["lock.unlocked"])
            counts = Counter(e.action_attempt_id for e in unlocked)
            assert {a: counts[a] for a in attempt_ids} == {a: 1 for a in attempt_ids}
            programmed = Counter(e.access_code_id for e in clients[0].events.list(
                since=started.isoformat(), event_types=["access_code.set_on_device"]))
            assert {c: programmed[c] for c in code_ids} == {c: 1 for c in code_ids}
            for i, device in enumerate(devices[:6]):
                with httpx.Client(base_url=apis[0].url, headers={
                        "authorization": f"Bearer {SANDBOX_KEY}"}) as http:
                    on_lock = http.get("/_lockhub/sandbox/devices/list_codes_on_lock", params={
                        "device_id": device.device_id}).json()["codes_on_lock"]
                assert [c["code"] for c in on_lock].count(f"{7100 + i}") == 1
            event_ids = {e.event_id for e in unlocked if e.action_attempt_id in attempt_ids}
            for endpoint in (receiver, other_receiver):
                endpoint.wait_for(lambda r: event_ids <= r.event_ids(), timeout=60)
                delivered = Counter(e.event_id for e in endpoint.events)
                assert {e: delivered[e] for e in event_ids} == {e: 1 for e in event_ids}

            # A worker dies holding work: the other two finish it (its leases are freed once it
            # is seen dead, or expire).
            relock = [clients[i % 3].locks.lock_door(device_id=d.device_id,
                                                     wait_for_action_attempt=False)
                      for i, d in enumerate(devices[:6])]
            wait_until(lambda: leased_by(postgres.url, "worker-0"), timeout=30,
                       interval=0.01, message="worker-0 to hold a job")
            workers[0].kill()
            workers[0].wait(timeout=10)
            wait_until(lambda: all(clients[0].action_attempts.get(
                action_attempt_id=a.action_attempt_id, wait_for_action_attempt=False).status
                == "success" for a in relock), timeout=60, message="the relocks to succeed")
            for device in devices[:6]:
                assert clients[2].devices.get(device_id=device.device_id).properties.locked
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=10)
        for api in apis:
            api.stop()


def api_processes(server_pid: int) -> set[int]:
    """The API processes `lockhub serve --workers N` spawned (not multiprocessing's helper)."""
    children = set()
    for task in Path(f"/proc/{server_pid}/task").iterdir():
        children |= {int(pid) for pid in (task / "children").read_text().split()}
    found = set()
    for pid in children:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:  # exited since its parent listed it
            continue
        if b"resource_tracker" not in cmdline:
            found.add(pid)
    return found


def requests_counted(url: str, route: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return sum(float(value) for value in re.findall(
        rf'^lockhub_http_requests_total{{method="[A-Z]+",route="{re.escape(route)}",'
        r'status="200"} (\S+)$', text, re.MULTILINE))


def test_serve_with_three_api_processes_and_workers_with_concurrency_share_one_port(
    postgres: PostgresServer, tmp_path: Path,
) -> None:
    """`serve --workers 3 --no-engine` and two `worker --concurrency 4`: SDK load on the one
    port is answered, each unlock runs once, /metrics sums what every API process answered,
    and an API process that dies is replaced without losing the counts."""
    url = postgres.new_database("workers_option")
    api = start_server(tmp_path, name="api-workers", database_url=url,
                       extra_args=["--no-engine", "--workers", "3"])
    workers = [start_worker(url, tmp_path / f"worker-c{i}.log", args=["--concurrency", "4"])
               for i in range(2)]
    try:
        assert api.process is not None
        first = wait_until(lambda: len(found := api_processes(api.process.pid)) == 3 and found,
                           timeout=30, message="three API processes")
        seam = Seam(api_key=SANDBOX_KEY, endpoint=api.url)
        devices = [d for d in seam.devices.list()
                   if d.properties.online and d.can_remotely_unlock and not d.errors]
        assert len(devices) >= 6

        def unlock(device_id: str) -> str:
            client = Seam(api_key=SANDBOX_KEY, endpoint=api.url)
            for _ in range(5):
                client.devices.list()
            return client.locks.unlock_door(device_id=device_id,
                                            wait_for_action_attempt=False).action_attempt_id

        with ThreadPoolExecutor(max_workers=6) as pool:
            attempt_ids = set(pool.map(unlock, [d.device_id for d in devices[:6]]))
        assert len(attempt_ids) == 6
        assert requests_counted(api.url, "/devices/list") == 31
        assert requests_counted(api.url, "/locks/unlock_door") == 6

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        again = wait_until(lambda: len(found := api_processes(api.process.pid)) == 3
                           and victim not in found and found, timeout=30,
                           message="the killed API process to be replaced")
        assert first - {victim} <= again
        for _ in range(6):
            seam.devices.list()
        assert requests_counted(api.url, "/devices/list") == 37
        wait_until(lambda: all(seam.action_attempts.get(
            action_attempt_id=a, wait_for_action_attempt=False).status == "success"
            for a in attempt_ids), timeout=60, message="every unlock to succeed")
        unlocked = Counter(e.action_attempt_id for e in seam.events.list(
            since="2000-01-01T00:00:00Z", event_types=["lock.unlocked"]))
        assert {a: unlocked[a] for a in attempt_ids} == {a: 1 for a in attempt_ids}
        logs = "".join((tmp_path / f"worker-c{i}.log").read_text() for i in range(2))
        assert logs.count("4 jobs at once") == 2
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=10)
        api.stop()
    assert api.process is not None and api.process.returncode == 0
