"""A crash with action attempts in flight loses nothing: after a restart every attempt settles,
and at once: the restarted process takes over the dead process's leases instead of waiting them
out."""

from __future__ import annotations

import time
from pathlib import Path

from seam import Seam

from tests.conformance.helpers import wait_until
from tests.conftest import SANDBOX_KEY
from tests.databases import sql
from tests.server import start_server

LEASE_SECONDS = 30.0
# Well inside the lease: waiting the lease out cannot pass.
SETTLE_DEADLINE = 10.0


def _settled(seam: Seam, attempt_ids: list[str], since: float) -> dict[str, object]:
    deadline = since + SETTLE_DEADLINE
    while True:
        attempts = {a: seam.action_attempts.get(action_attempt_id=a,
                                                wait_for_action_attempt=False)
                    for a in attempt_ids}
        if all(at.status != "pending" for at in attempts.values()):
            return attempts
        assert time.monotonic() < deadline, (
            f"attempts still pending {SETTLE_DEADLINE:.0f}s after the crash")
        time.sleep(0.1)


def _leased_action_jobs(database_url: str) -> int:
    [(count,)] = sql(database_url, "SELECT count(*) FROM jobs WHERE kind = 'action_attempt' "
                                   "AND leased_by IS NOT NULL")
    return count


def test_sigkill_with_attempts_in_flight_then_restart_settles_every_attempt(
    tmp_path: Path,
) -> None:
    # Slow virtual locks keep the attempts in flight (leased) when the process is killed.
    server = start_server(tmp_path, env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "20",
                                         "LOCKHUB_LEASE_SECONDS": str(LEASE_SECONDS)})
    seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
    online = [d for d in seam.devices.list() if d.properties.online and d.can_remotely_unlock
              and not d.errors]
    assert len(online) >= 5
    attempts = [seam.locks.unlock_door(device_id=d.device_id, wait_for_action_attempt=False)
                for d in online[:5]]
    assert all(a.status == "pending" for a in attempts)
    wait_until(lambda: _leased_action_jobs(server.database_url) == len(attempts),
               message="the engine to lease every attempt's job")
    server.kill()
    crashed_at = time.monotonic()

    server.env["LOCKHUB_SANDBOX_LATENCY_SCALE"] = "0"
    server.start()
    try:
        settled = _settled(seam, [a.action_attempt_id for a in attempts], crashed_at)
        for device, attempt in zip(online[:5], attempts, strict=True):
            outcome = settled[attempt.action_attempt_id]
            assert outcome.status == "success", outcome
            assert seam.devices.get(device_id=device.device_id).properties.locked is False
    finally:
        server.stop()
