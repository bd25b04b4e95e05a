"""lockhub's own overhead on a lock/unlock over a radio's round trip (`make bench-radio`).

Two stacks, each measured twice in the same run, alternating lock and unlock on one lock:
- direct: a client of the radio system doing exactly what a lock/unlock needs and no more
  (Z-Wave: zwave-js-server-python sets `targetMode`, then Door Lock Get until the mode matches;
  Zigbee2MQTT: aiomqtt publishes `<lock>/set` and waits for the `lock_state` report);
- lockhub: `POST /locks/unlock_door {"sync": true}` over HTTP, which returns when the attempt
  settled (the engine runs the same radio steps through the provider).
lockhub's own time, paired attempt by attempt: the client's latency minus the provider's time
for that attempt (the engine logs it), i.e. HTTP, the attempt row and job, the engine's claim,
the settle transaction with its events and the `sync` wake-up. Target: under 5 ms at p99. The
direct and lockhub columns are the two distributions side by side, for scale.

    python -m bench.radio [--operations 200] [--stack zwave|zigbee|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from tests.server import start_server

KEY = "seam_apikey2_token"  # the seeded production workspace
WORKSPACE = "seed_workspace_2"
ENV = {"LOCKHUB_RATE_LIMITS": "off", "LOCKHUB_ENGINE_POLL_SECONDS": "0.25",
       "LOCKHUB_DEVICE_SYNC_SECONDS": "86400"}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(name: str, direct: list[float], lockhub: list[float],
            own: list[float]) -> dict[str, Any]:
    row: dict[str, Any] = {"stack": name, "operations": len(lockhub)}
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        d, lh = percentile(direct, q) * 1000, percentile(lockhub, q) * 1000
        row.update({f"direct_{label}_ms": round(d, 2), f"lockhub_{label}_ms": round(lh, 2),
                    f"added_{label}_ms": round(lh - d, 2)})
    row["added_mean_ms"] = round((statistics.mean(lockhub) - statistics.mean(direct)) * 1000, 2)
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        row[f"own_{label}_ms"] = round(percentile(own, q) * 1000, 2)
    return row


async def timed(operations: int, step: Callable[[bool], Awaitable[None]]) -> list[float]:
    samples = []
    for i in range(operations):
        started = time.perf_counter()
        await step(i % 2 == 1)
        samples.append(time.perf_counter() - started)
    return samples


def through_lockhub(server_url: str, device_id: str,
                    operations: int) -> tuple[list[float], list[str]]:
    samples, attempt_ids = [], []
    with httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {KEY}"},
                      timeout=60) as client:
        for i in range(operations):
            path = "/locks/lock_door" if i % 2 else "/locks/unlock_door"
            started = time.perf_counter()
            answer = client.post(path, json={"device_id": device_id, "sync": True}).json()
            samples.append(time.perf_counter() - started)
            status = answer.get("action_attempt", {}).get("status")
            if status != "success":
                raise RuntimeError(f"{path}: {answer}")
            attempt_ids.append(answer["action_attempt"]["action_attempt_id"])
    return samples, attempt_ids


def lockhub_only(log_path: Path, samples: list[float], attempt_ids: list[str]) -> list[float]:
    """Per attempt: the client's latency minus the provider's time for that attempt (from the
    engine's log line), i.e. what lockhub itself added, paired, attempt by attempt."""
    provider_ms = dict(re.findall(r"action_attempt (\S+) \S+ device \S+: success, provider "
                                  r"([0-9.]+) ms", log_path.read_text()))
    return [sample - float(provider_ms[attempt]) / 1000
            for sample, attempt in zip(samples, attempt_ids, strict=True)]


def connect(server: Any, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "lockhub.cli", "connect", *args,
                           "--workspace", WORKSPACE, "--database-url", server.database_url],
                          capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)


def first_lock(server_url: str, match: str) -> str:
    with httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {KEY}"},
                      timeout=30) as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            locks = client.post("/locks/list", json={}).json()["devices"]
            found = [d for d in locks if match in json.dumps(d)]
            if found:
                return found[0]["device_id"]
            time.sleep(0.2)
    raise RuntimeError(f"no lock matching {match}")


def held(server_url: str, device_id: str) -> None:
    """Wait until the engine holds the live connection (the device reports online)."""
    with httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {KEY}"},
                      timeout=30) as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            device = client.post("/devices/get", json={"device_id": device_id}).json()["device"]
            if device["properties"].get("online") and not device["errors"]:
                return
            time.sleep(0.2)


def bench_zwave(operations: int, tmp: Path) -> dict[str, Any]:
    import aiohttp
    from tests.providers.zwave_js.stack import SCHLAGE_BE469, ZWaveStack
    from zwave_js_server.client import Client
    from zwave_js_server.const import CommandClass

    stack = ZWaveStack(log_level="info").start(tmp / "zwave")
    try:
        async def direct() -> list[float]:
            async with aiohttp.ClientSession() as session:
                client = Client(stack.ws_url, session)
                await client.connect()
                ready = asyncio.Event()
                listening = asyncio.create_task(client.listen(ready))
                await ready.wait()
                node = client.driver.controller.nodes[SCHLAGE_BE469]  # type: ignore[union-attr]
                deadline = time.monotonic() + 60
                while not node.ready and time.monotonic() < deadline:  # a fresh interview
                    await asyncio.sleep(0.1)

                async def step(lock: bool) -> None:
                    target = 255 if lock else 0
                    await node.async_set_value(f"{SCHLAGE_BE469}-98-0-targetMode", target,
                                               wait_for_result=True)
                    while (await node.async_invoke_cc_api(
                            CommandClass.DOOR_LOCK, "get",
                            wait_for_result=True))["currentMode"] != target:
                        pass

                try:
                    return await timed(operations, step)
                finally:
                    await client.disconnect()
                    await asyncio.gather(listening, return_exceptions=True)

        direct_samples = asyncio.run(direct())
        (tmp / "lockhub-zwave").mkdir()
        server = start_server(tmp / "lockhub-zwave", env=ENV)
        try:
            connect(server, "zwave-js", stack.ws_url)
            device_id = first_lock(server.url, "BE469")
            held(server.url, device_id)
            lockhub_samples, attempts = through_lockhub(server.url, device_id, operations)
        finally:
            server.stop()
    finally:
        stack.stop()
    assert server.log_path is not None
    return summary("Z-Wave JS (mock controller, Schlage BE469)", direct_samples,
                   lockhub_samples, lockhub_only(server.log_path, lockhub_samples, attempts))


def bench_zigbee(operations: int, tmp: Path) -> dict[str, Any]:
    import aiomqtt
    from tests.providers.zigbee2mqtt.bridge import Z2MBridge
    from tests.providers.zigbee2mqtt.broker import MosquittoBroker

    broker = MosquittoBroker()
    broker.start()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def on_bridge(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    async def make_bridge() -> Z2MBridge:
        bridge = Z2MBridge(broker.host, broker.port)
        bridge.add_lock("0x000d6f0011aa0001", "front_door", "YRD226HA2619")
        await bridge.start()
        return bridge

    bridge = on_bridge(make_bridge())
    try:
        async def direct() -> list[float]:
            async with aiomqtt.Client(broker.host, broker.port) as client:
                await client.subscribe("zigbee2mqtt/front_door")
                messages = client.messages

                async def step(lock: bool) -> None:
                    wanted = "locked" if lock else "unlocked"
                    await client.publish("zigbee2mqtt/front_door/set",
                                         json.dumps({"state": "LOCK" if lock else "UNLOCK"}))
                    async for message in messages:
                        state = json.loads(message.payload)  # type: ignore[arg-type]
                        if state.get("lock_state") == wanted and "action" not in state:
                            return

                return await timed(operations, step)

        direct_samples = asyncio.run(direct())
        (tmp / "lockhub-zigbee").mkdir()
        server = start_server(tmp / "lockhub-zigbee", env=ENV)
        try:
            connect(server, "zigbee2mqtt", f"mqtt://{broker.host}:{broker.port}")
            device_id = first_lock(server.url, "front_door")
            held(server.url, device_id)
            lockhub_samples, attempts = through_lockhub(server.url, device_id, operations)
        finally:
            server.stop()
    finally:
        on_bridge(bridge.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        broker.close()
    assert server.log_path is not None
    return summary("Zigbee2MQTT (mosquitto + simulated bridge, 20 ms radio)", direct_samples,
                   lockhub_samples, lockhub_only(server.log_path, lockhub_samples, attempts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--stack", choices=("zwave", "zigbee", "both"), default="both")
    parser.add_argument("--keep", help="copy the servers' databases and logs here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lockhub-bench-radio-") as tmp:
        if args.stack in ("zwave", "both"):
            rows.append(bench_zwave(args.operations, Path(tmp)))
        if args.stack in ("zigbee", "both"):
            rows.append(bench_zigbee(args.operations, Path(tmp)))
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
    print("| stack | ops | direct p50 / p99 ms | lockhub p50 / p99 ms | lockhub's own p50 / p99 ms |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['stack']} | {r['operations']} | {r['direct_p50_ms']} / {r['direct_p99_ms']}"
              f" | {r['lockhub_p50_ms']} / {r['lockhub_p99_ms']} | {r['own_p50_ms']} / "
              f"{r['own_p99_ms']} |")
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
