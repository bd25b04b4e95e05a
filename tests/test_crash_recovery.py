"""A crash with action attempts in flight loses nothing: after a restart every attempt settles."""

from __future__ import annotations

import time
from pathlib import Path

from seam import Seam

from tests.conftest import SANDBOX_KEY
from tests.server import start_server

SETTLE_DEADLINE = 30.0


def _settled(seam: Seam, attempt_ids: list[str]) -> dict[str, object]:
    deadline = time.monotonic() + SETTLE_DEADLINE
    while True:
        attempts = {a: seam.action_attempts.get(action_attempt_id=a,
                                                wait_for_action_attempt=False)
                    for a in attempt_ids}
        if all(at.status != "pending" for at in attempts.values()):
            return attempts
        assert time.monotonic() < deadline, "attempts still pending after restart"
        time.sleep(0.1)


def test_sigkill_with_attempts_in_flight_then_restart_settles_every_attempt(
    tmp_path: Path,
) -> None:
    # Slow virtual locks keep the attempts in flight when the process is killed; a short lease
    # lets the restarted process take the orphaned work over quickly.
    server = start_server(tmp_path, env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "20",
                                         "LOCKHUB_LEASE_SECONDS": "1"})
    seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
    online = [d for d in seam.devices.list() if d.properties.online and d.can_remotely_unlock
              and not d.errors]
    assert len(online) >= 5
    attempts = [seam.locks.unlock_door(device_id=d.device_id, wait_for_action_attempt=False)
                for d in online[:5]]
    assert all(a.status == "pending" for a in attempts)
    server.kill()

    server.env["LOCKHUB_SANDBOX_LATENCY_SCALE"] = "0"
    server.start()
    try:
        settled = _settled(seam, [a.action_attempt_id for a in attempts])
        for device, attempt in zip(online[:5], attempts, strict=True):
            outcome = settled[attempt.action_attempt_id]
            assert outcome.status == "success", outcome
            assert seam.devices.get(device_id=device.device_id).properties.locked is False
    finally:
        server.stop()
