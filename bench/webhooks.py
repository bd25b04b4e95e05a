"""Webhook delivery benchmark: event → verified delivery latency (p50/p99) and sustained
deliveries per second, against a ceiling measured in the same run.

lockhub runs on loopback (SQLite, sandbox latency 0, guardrails off so one device can take
many actions); a threaded receiver verifies every delivery with the official SDK's
SeamWebhook. Events come from lock/unlock attempts spread over the seeded locks. The ceiling is
the same receiver fed directly by one Python process POSTing pre-signed payloads (no lockhub):
the fastest this receiver takes deliveries on this machine.

Throughput is deliveries over the whole run (first request to last verified delivery); the
rate after the clients stopped (the backlog of actions and deliveries alone) is printed too.

Run: make bench-webhooks   (or .venv/bin/python -m bench.webhooks --events 1000)
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from seam import Seam
from tests.conformance.webhook_receiver import Receiver
from tests.server import start_server

from lockhub.domain.webhooks import new_secret, signed_headers

RESULTS = Path(__file__).parent / "results"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_lockhub(events: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, Receiver() as receiver:
        server = start_server(Path(tmp), env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0",
                                              "LOCKHUB_RATE_LIMITS": "off"})
        try:
            seam = Seam(api_key="seam_apikey1_token", endpoint=server.url,
                        wait_for_action_attempt=False)
            receiver.secret = seam.webhooks.create(
                url=receiver.url, event_types=["lock.locked", "lock.unlocked"]).secret
            devices = [d.device_id for d in seam.devices.list()
                       if d.properties.online and d.can_remotely_unlock and d.can_remotely_lock
                       and not d.errors]
            arrivals: dict[str, float] = {}

            def act(n: int) -> None:
                device = devices[n % len(devices)]
                if n % 2:
                    seam.locks.lock_door(device_id=device)
                else:
                    seam.locks.unlock_door(device_id=device)

            started = time.time()
            # Several clients at once, so the engine and deliveries (not one client's round
            # trips) set the pace.
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(act, range(events)))
            submitted, delivered_by_then = time.time(), len(receiver.events)
            receiver.wait_for(lambda r: len(r.events) >= events, timeout=600)
            finished = time.time()
            for event, at in zip(receiver.events, receiver.arrivals, strict=True):
                arrivals[event.event_id] = at
            latencies = []
            for event in receiver.events:
                created = datetime.fromisoformat(event.created_at.replace("Z", "+00:00"))
                latencies.append((arrivals[event.event_id] - created.timestamp()) * 1000)
        finally:
            server.stop()
    return {"deliveries": float(len(latencies)),
            "deliveries_per_s": len(latencies) / (finished - started),
            # Once the clients stopped: the backlog of actions and deliveries, without requests.
            "after_submission": float(len(latencies) - delivered_by_then),
            "after_submission_per_s": (len(latencies) - delivered_by_then) / (finished - submitted),
            "p50_ms": statistics.median(latencies), "p99_ms": _percentile(latencies, 0.99)}


def measure_ceiling(events: int) -> dict[str, float]:
    with Receiver() as receiver:
        receiver.secret = new_secret()
        body = json.dumps({"event_id": "x", "event_type": "lock.unlocked", "workspace_id": "w",
                           "created_at": "2026-01-01T00:00:00.000Z",
                           "occurred_at": "2026-01-01T00:00:00.000Z"})
        latencies = []
        with httpx.Client() as client:
            started = time.time()
            for n in range(events):
                headers = signed_headers(receiver.secret, f"msg_{n}", datetime.now(UTC), body)
                t0 = time.perf_counter()
                client.post(receiver.url, content=body, headers=headers)
                latencies.append((time.perf_counter() - t0) * 1000)
            finished = time.time()
    return {"deliveries": float(events), "deliveries_per_s": events / (finished - started),
            "p50_ms": statistics.median(latencies), "p99_ms": _percentile(latencies, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    lockhub = measure_lockhub(args.events)
    ceiling = measure_ceiling(args.events)
    print(f"{'':28}{'deliveries/s':>14}{'p50 ms':>10}{'p99 ms':>10}")
    for name, row in (("lockhub (event → verified)", lockhub),
                      ("ceiling (direct POST)", ceiling)):
        print(f"{name:28}{row['deliveries_per_s']:>14.1f}{row['p50_ms']:>10.1f}"
              f"{row['p99_ms']:>10.1f}")
    ratio = lockhub["deliveries_per_s"] / ceiling["deliveries_per_s"]
    print(f"lockhub / ceiling throughput: {ratio:.2f}")
    print(f"after the clients stopped: {lockhub['after_submission']:.0f} deliveries at "
          f"{lockhub['after_submission_per_s']:.1f}/s "
          f"({lockhub['after_submission_per_s'] / ceiling['deliveries_per_s']:.2f} of the ceiling; "
          f"the engine's actions and the deliveries, no API requests)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"webhooks-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({"events": args.events, "lockhub": lockhub, "ceiling": ceiling,
                               "ratio": ratio, "machine": platform.platform(),
                               "python": platform.python_version()}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
