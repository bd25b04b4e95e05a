"""Scale benchmark: a sandbox workspace of 100,000 devices and 1,000,000 access codes.

Measures, against a baseline workspace of 1,000 codes (and 1,000 devices):
- first-page and deep-page latency of /devices/list and /access_codes/list (pages of 100, each
  request a different page, so each is read from the database; the deep pages through
  page_cursors pointing halfway through the list), and of one page asked for repeatedly
  (answered from the read model);
- lockhub's resident memory;
- engine throughput: 10,000 time-bound codes whose windows open at the same sandbox-clock
  instant, time from the clock jump until all are `set`;
- lock/unlock action attempts, request to `success` (sandbox latency 0).

Rows are bulk-inserted (bench/bulk.py) into a fresh database; the 10,000 time-bound codes go
through /access_codes/create. lockhub runs on core 0, this driver on core 1.

Run: make bench-scale   (or .venv/bin/python -m bench.scale --devices 1000 --codes 10000;
`--engine-only` skips the baseline and the pages: only the engine and the action attempts)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import msgspec
from cryptography.fernet import Fernet

from bench import bulk, servers
from bench.load import TOKEN
from bench.report import percentile, write
from lockhub.api.access_codes import ListAccessCodesParams
from lockhub.api.context import Ctx
from lockhub.api.devices import ListDevicesParams
from lockhub.api.pagination import encode_cursor
from lockhub.config import Settings
from lockhub.services.credentials import Principal

HEADERS = {"Authorization": f"Bearer {TOKEN}"}
PAGE = 100
SAMPLES = 100
CODES_PER_ENGINE_DEVICE = 50


def _latency(client: httpx.Client, path: str, bodies: list[dict[str, Any]]) -> dict[str, float]:
    times = []
    for body in bodies:
        started = time.perf_counter()
        response = client.post(path, json=body)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return {"p50_ms": percentile(times, 0.5), "p99_ms": percentile(times, 0.99)}


# The database is seeded and the server started with this secret, so the bench can sign the
# cursors the server would hand out.
CURSOR_SECRET = Fernet.generate_key().decode()


def _cursors(db: Path, table: str, id_column: str, where: str, offset: int,
             params: msgspec.Struct, route: str) -> list[str]:
    """SAMPLES page_cursors lockhub would hand out on `route`, after row `offset`, `offset` + 1,
    ... (signed with the server's secret; skips walking there). Each starts a different page,
    so no two requests can be answered from the read model's remembered pages."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            f"SELECT created_at, {id_column} FROM {table} WHERE {where} "
            f"ORDER BY created_at, {id_column} LIMIT ? OFFSET ?",
            (SAMPLES, offset - 1)).fetchall()
    settings = Settings(database_url=f"sqlite:///{db}", secret_key=CURSOR_SECRET)
    ctx = Ctx(rt=SimpleNamespace(settings=settings),  # type: ignore[arg-type]
              principal=Principal(workspace_id="seed_workspace_1"), request_id="",
              route_path=route)
    return [encode_cursor(ctx, params, (datetime.fromisoformat(created_at).replace(
        tzinfo=UTC).isoformat(), row_id)) for created_at, row_id in rows]


def build(work: Path, devices: int, codes_device: str, codes: int) -> tuple[str, list[str]]:
    """A seeded database plus `devices` cloned locks and `codes` codes on one device."""
    url = f"sqlite:///{work / 'lockhub.db'}"
    started = time.monotonic()
    # Seeded under the server's secret: the seed seals the test accounts' credentials with it.
    subprocess.run([sys.executable, "-m", "lockhub.cli", "seed", "--database-url", url],
                   check=True, capture_output=True,
                   env={**os.environ, "LOCKHUB_SECRET_KEY": CURSOR_SECRET})
    clones = bulk.add_devices(url, devices)
    # No ANALYZE: lockhub never runs it, and statistics taken while every code sits on one
    # device would steer the planner away from the per-device index for every other device.
    bulk.add_codes(url, [codes_device], codes)
    print(f"  built {devices:,} devices and {codes:,} codes in "
          f"{time.monotonic() - started:.0f} s", flush=True)
    return url, clones


def pages(server: servers.Server, db: Path, devices: int, codes_device: str,
          codes: int) -> dict[str, dict[str, float]]:
    """Pages of 100 read through the database (every request a different page: cursors after
    rows 1-100 for "first", from halfway for "deep"), and one page asked for again and again
    (answered from the read model after the first time)."""
    device_params = msgspec.convert({"limit": PAGE}, ListDevicesParams)
    code_params = msgspec.convert({"device_id": codes_device, "limit": PAGE},
                                  ListAccessCodesParams)
    devices_where = "workspace_id = 'seed_workspace_1' AND is_managed = 1"
    codes_where = f"device_id = '{codes_device}'"

    def device_pages(offset: int) -> list[dict[str, Any]]:
        return [{"limit": PAGE, "page_cursor": c} for c in _cursors(
            db, "devices", "device_id", devices_where, offset, device_params, "/devices/list")]

    def code_pages(offset: int) -> list[dict[str, Any]]:
        return [{"device_id": codes_device, "limit": PAGE, "page_cursor": c} for c in _cursors(
            db, "access_codes", "access_code_id", codes_where, offset, code_params,
            "/access_codes/list")]

    with httpx.Client(base_url=server.url, headers=HEADERS, timeout=60) as client:
        return {
            "devices_first": _latency(client, "/devices/list", device_pages(1)),
            "devices_deep": _latency(client, "/devices/list", device_pages(devices // 2)),
            "codes_first": _latency(client, "/access_codes/list", code_pages(1)),
            "codes_deep": _latency(client, "/access_codes/list", code_pages(codes // 2)),
            "codes_remembered": _latency(client, "/access_codes/list", [
                {"device_id": codes_device, "limit": PAGE}] * SAMPLES),
        }


async def _create_codes(url: str, device_ids: list[str], count: int, starts_at: datetime,
                        ends_at: datetime) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            response = await client.post("/access_codes/create", json={
                "device_id": device_ids[n // CODES_PER_ENGINE_DEVICE], "name": f"engine {n}",
                "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(16)))


def _count(db: Path, status: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM access_codes WHERE name LIKE 'engine %' "
                            "AND status = ?", (status,)).fetchone()[0]


def engine(server: servers.Server, db: Path, device_ids: list[str], count: int,
           timeout: float, profile: Path | None = None) -> dict[str, float]:
    """Codes due at one sandbox instant: seconds from the clock jump until all are `set`."""
    sandbox = httpx.Client(base_url=server.url + "/_lockhub/sandbox", headers=HEADERS,
                           timeout=60)
    now = datetime.fromisoformat(sandbox.post("/clock/freeze").json()["clock"]["now"]
                                 .replace("Z", "+00:00"))
    starts_at = now + timedelta(days=10)
    needed = -(-count // CODES_PER_ENGINE_DEVICE)
    started = time.monotonic()
    asyncio.run(_create_codes(server.url, device_ids[:needed], count, starts_at,
                              starts_at + timedelta(days=2)))
    created_s = time.monotonic() - started
    print(f"  created {count:,} time-bound codes in {created_s:.0f} s", flush=True)
    spy = None
    if profile is not None:  # py-spy samples the server from the jump until all are set
        spy = subprocess.Popen(
            ["taskset", "-c", servers.LOAD_CPU, str(Path(sys.executable).parent / "py-spy"),
             "record", "--pid", str(server.pid), "--rate", "250", "--format", "raw",
             "--nonblocking", "--output", str(profile)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    jumped = time.monotonic()
    sandbox.post("/clock/set", json={"now": starts_at.isoformat(), "frozen": True}
                 ).raise_for_status()
    done = 0
    while time.monotonic() - jumped < timeout:
        done = _count(db, "set")
        if done >= count:
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - jumped
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait()
    return {"codes": count, "all_set_s": elapsed if done >= count else float("nan"),
            "set_within_timeout": done, "codes_per_s": done / elapsed,
            "create_requests_per_s": count / created_s}


def actions(server: servers.Server, attempts: int) -> dict[str, float]:
    """Lock/unlock attempts one after another, polled until `success`."""
    times = []
    failed = 0
    with httpx.Client(base_url=server.url, headers=HEADERS, timeout=60) as client:
        for n in range(attempts):
            route = "/locks/unlock_door" if n % 2 else "/locks/lock_door"
            started = time.perf_counter()
            attempt = client.post(route, json={"device_id": "august_device_1"}).json()[
                "action_attempt"]
            while attempt["status"] == "pending":
                attempt = client.post("/action_attempts/get", json={
                    "action_attempt_id": attempt["action_attempt_id"]}).json()["action_attempt"]
            times.append((time.perf_counter() - started) * 1000)
            failed += attempt["status"] != "success"
    return {"attempts": attempts, "failed": failed, "p50_ms": percentile(times, 0.5),
            "p99_ms": percentile(times, 0.99)}


def run(work: Path, devices: int, codes: int, engine_codes: int,
        engine_timeout: float, *, measure_pages: bool = True,
        profile: Path | None = None) -> dict[str, Any]:
    work.mkdir()
    url, clones = build(work, devices, "august_device_1", codes)
    server = servers.lockhub(url, work, env={"LOCKHUB_SECRET_KEY": CURSOR_SECRET}).start()
    try:
        result: dict[str, Any] = {}
        if measure_pages:
            result["pages"] = pages(server, work / "lockhub.db", devices, "august_device_1",
                                    codes)
            result["memory_after_pages"] = server.rss_mib()
        if engine_codes:
            result["engine"] = engine(server, work / "lockhub.db", clones, engine_codes,
                                      engine_timeout, profile)
            result["actions"] = actions(server, 200)
        result["memory"] = server.rss_mib()
        return result
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--engine-codes", type=int, default=10_000)
    parser.add_argument("--engine-timeout", type=float, default=300.0)
    parser.add_argument("--baseline-devices", type=int, default=1_000)
    parser.add_argument("--baseline-codes", type=int, default=1_000)
    parser.add_argument("--engine-only", action="store_true",
                        help="only the engine and action measurements (no baseline, no pages)")
    parser.add_argument("--profile-engine", metavar="FILE",
                        help="py-spy the server while the codes are set (collapsed stacks; "
                             "summarise with bench.profile's summarise)")
    args = parser.parse_args()
    os.sched_setaffinity(0, {int(servers.LOAD_CPU)})
    if args.engine_only:
        with tempfile.TemporaryDirectory(prefix="lockhub-scale-") as tmp:
            scale = run(Path(tmp) / "scale", args.devices, args.codes, args.engine_codes,
                        args.engine_timeout, measure_pages=False,
                        profile=Path(args.profile_engine) if args.profile_engine else None)
        print_engine(scale)
        out = write("scale", {"settings": vars(args), "scale": scale},
                    latest="scale-engine-latest.json")
        print(f"wrote {out}")
        return
    with tempfile.TemporaryDirectory(prefix="lockhub-scale-") as tmp:
        print("baseline", flush=True)
        baseline = run(Path(tmp) / "baseline", args.baseline_devices, args.baseline_codes, 0,
                       args.engine_timeout)
        print("scale", flush=True)
        scale = run(Path(tmp) / "scale", args.devices, args.codes, args.engine_codes,
                    args.engine_timeout)
    print_table(args, baseline, scale)
    out = write("scale", {"settings": vars(args), "baseline": baseline, "scale": scale},
                latest="scale-latest.json")
    print(f"wrote {out}")


def print_table(args: argparse.Namespace, baseline: dict[str, Any],
                scale: dict[str, Any]) -> None:
    print(f"\n{'page of 100':28}{'baseline p50/p99 ms':>22}{'scale p50/p99 ms':>20}"
          f"{'p50 ratio':>11}")
    for key, name in (("devices_first", "/devices/list first"),
                      ("devices_deep", "/devices/list deep"),
                      ("codes_first", "/access_codes/list first"),
                      ("codes_deep", "/access_codes/list deep"),
                      ("codes_remembered", "/access_codes/list again")):
        b, s = baseline["pages"][key], scale["pages"][key]
        print(f"{name:28}{b['p50_ms']:>11.1f} /{b['p99_ms']:>7.1f}{s['p50_ms']:>11.1f} /"
              f"{s['p99_ms']:>6.1f}{s['p50_ms'] / b['p50_ms']:>11.2f}")
    print(f"(baseline: {args.baseline_devices:,} devices, {args.baseline_codes:,} codes; "
          f"scale: {args.devices:,} devices, {args.codes:,} codes on one device)")
    memory = scale["memory"]
    print(f"lockhub RSS at scale: {memory['rss_mib']:.0f} MiB (peak {memory['peak_rss_mib']:.0f})")
    print_engine(scale)


def print_engine(scale: dict[str, Any]) -> None:
    if "engine" in scale:
        e, a = scale["engine"], scale["actions"]
        print(f"engine: {e['set_within_timeout']:,}/{e['codes']:,} codes set "
              f"{e['all_set_s']:.1f} s after the clock jump ({e['codes_per_s']:.0f} codes/s)")
        print(f"action attempts to success: p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms "
              f"({a['failed']} of {a['attempts']} not success)")


if __name__ == "__main__":
    main()
