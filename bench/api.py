"""API benchmark: lockhub against Seam's fake (the peer) and a bare ASGI ceiling, route by route.

Each round starts every server fresh (the fake keeps state in memory and its lists ignore the
device filter, so earlier creates would change later rounds), seeds it the same way (the seed
plus 4,000 codes on august_device_1) and drives each route for a fixed time with wrk at a
fixed connection count. Rounds alternate lockhub / peer / ceiling, and medians over rounds
are reported. Servers run on core 0, wrk on core 1.

Run: make bench   (or .venv/bin/python -m bench.api --rounds 2 --seconds 10)
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import bulk, servers
from bench.ceiling import store_responses
from bench.load import TOKEN, Load, measure
from bench.report import median_of, write

CODES = 4000
CODES_DEVICE = "august_device_1"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
# (path, body, writes). "__N__" makes each create unique; ids filled in per server.
ROUTES: list[tuple[str, dict[str, Any], bool]] = [
    ("/devices/list", {"device_ids": ["august_device_1", "august_device_2"]}, False),
    ("/devices/get", {"device_id": "august_device_1"}, False),
    ("/action_attempts/get", {"action_attempt_id": "{attempt}"}, False),
    ("/access_codes/get", {"access_code_id": "{code}"}, False),
    ("/access_codes/list", {"device_id": CODES_DEVICE}, False),
    ("/locks/unlock_door", {"device_id": "august_device_2"}, True),
    ("/access_codes/create", {"device_id": "august_device_2", "name": "bench __N__"}, True),
]
SYSTEMS = ("lockhub", "peer", "ceiling")


def _fill(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    return {k: v.format(**ids) if isinstance(v, str) and v.startswith("{") else v
            for k, v in body.items()}


def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(url + path, json=body, headers=HEADERS, timeout=30)
    response.raise_for_status()
    return response.json()


def _ids(url: str, code_id: str) -> dict[str, str]:
    """An action attempt (settled) and an access code to read on this server."""
    attempt = _post(url, "/locks/unlock_door", {"device_id": "august_device_1"})
    attempt_id = attempt["action_attempt"]["action_attempt_id"]
    for _ in range(200):
        if _post(url, "/action_attempts/get", {"action_attempt_id": attempt_id})[
                "action_attempt"]["status"] != "pending":
            break
        time.sleep(0.05)
    return {"attempt": attempt_id, "code": code_id}


def _engine_idle(db_path: Path, timeout: float = 90.0) -> float:
    """Wait until lockhub has no due engine jobs (creates and unlocks leave work behind, which
    would otherwise run during the next route); returns the seconds waited."""
    started = time.monotonic()
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        while time.monotonic() - started < timeout:
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            due = db.execute("SELECT count(*) FROM jobs WHERE run_at <= ?", (now,)).fetchone()
            if due[0] == 0:
                break
            time.sleep(0.2)
    return time.monotonic() - started


def _settle(url: str, timeout: float = 120.0) -> float:
    """Wait until the server answers /health within 20 ms: requests wrk abandoned at the end
    of a route (a 4,000-code list takes long) are still being served and would otherwise
    count against the next route. Returns the seconds waited."""
    started = time.monotonic()
    with httpx.Client(timeout=timeout) as client:
        while time.monotonic() - started < timeout:
            asked = time.monotonic()
            client.get(url + "/health")
            if time.monotonic() - asked < 0.02:
                break
            time.sleep(0.1)
    return time.monotonic() - started


def _start(system: str, work: Path, responses_db: Path) -> tuple[servers.Server, str]:
    """A fresh, seeded server and the id of one of its 4,000 codes."""
    if system == "lockhub":
        url = f"sqlite:///{work / 'lockhub.db'}"
        subprocess.run([sys.executable, "-m", "lockhub.cli", "seed", "--database-url", url],
                       check=True, capture_output=True)
        bulk.add_codes(url, [CODES_DEVICE], CODES)
        server = servers.lockhub(url, work).start()
        first = _post(server.url, "/access_codes/list", {"device_id": CODES_DEVICE, "limit": 1})
        return server, first["access_codes"][0]["access_code_id"]
    if system == "peer":
        return servers.peer(work, CODES_DEVICE, CODES).start(), "bench_code_0"
    return servers.ceiling(responses_db, work).start(), "any"


def _capture(url: str, ids: dict[str, str]) -> dict[str, bytes]:
    """lockhub's answer to each route: what the ceiling serves."""
    answers = {}
    for path, body, _ in ROUTES:
        filled = {k: v.replace("__N__", "ceiling") if isinstance(v, str) else v
                  for k, v in _fill(body, ids).items()}
        response = httpx.post(url + path, json=filled, headers=HEADERS, timeout=30)
        response.raise_for_status()
        answers[path] = response.content
    return answers


def run_round(system: str, work: Path, responses_db: Path, load: Load,
              capture: bool) -> dict[str, dict[str, float]]:
    server, code_id = _start(system, work, responses_db)
    try:
        ids = _ids(server.url, code_id) if system != "ceiling" else {"attempt": "-", "code": "-"}
        if capture:
            store_responses(str(responses_db), _capture(server.url, ids))
        results = {}
        for path, body, writes in ROUTES:
            row = measure(server.url, path, _fill(body, ids), load, unique=writes)
            if system == "lockhub":
                row["engine_drain_s"] = _engine_idle(work / "lockhub.db")
            row["settle_s"] = _settle(server.url)
            results[path] = row
            print(f"  {system:8} {path:24} {row['requests_per_s']:8.0f} req/s  "
                  f"p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:7.2f} ms"
                  f"{'  non-2xx ' + str(row['non_2xx']) if row['non_2xx'] else ''}", flush=True)
        if system == "lockhub":
            results["memory"] = server.rss_mib()
        return results
    finally:
        server.stop()


def summarize(rounds: dict[str, list[dict[str, dict[str, float]]]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for path, _, writes in ROUTES:
        row: dict[str, Any] = {"writes": writes}
        for system in SYSTEMS:
            per_round = [r[path] for r in rounds[system]]
            row[system] = {**median_of(per_round), "rounds": per_round}
        row["lockhub_vs_peer"] = row["lockhub"]["requests_per_s"] / row["peer"]["requests_per_s"]
        row["lockhub_vs_ceiling"] = (row["lockhub"]["requests_per_s"]
                                     / row["ceiling"]["requests_per_s"])
        table[path] = row
    return table


def print_table(table: dict[str, Any]) -> None:
    print(f"\n{'route':24}{'':10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for path, row in table.items():
        for system in SYSTEMS:
            r = row[system]
            print(f"{path if system == 'lockhub' else '':24}{system:10}"
                  f"{r['requests_per_s']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                  f"{r['non_2xx']:>9.0f}")
        print(f"{'':24}{'ratios':10}lockhub/peer {row['lockhub_vs_peer']:.2f}   "
              f"lockhub/ceiling {row['lockhub_vs_ceiling']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="per route per round")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    load = Load(connections=args.connections, seconds=args.seconds)
    os.sched_setaffinity(0, {int(servers.LOAD_CPU)})  # keep this driver off the server core
    rounds: dict[str, list[dict[str, dict[str, float]]]] = {s: [] for s in SYSTEMS}
    with tempfile.TemporaryDirectory(prefix="lockhub-bench-") as tmp:
        responses_db = Path(tmp) / "ceiling.db"
        for n in range(args.rounds):
            for system in SYSTEMS:
                work = Path(tmp) / f"{system}-{n}"
                work.mkdir()
                print(f"round {n + 1}/{args.rounds}: {system}", flush=True)
                rounds[system].append(run_round(system, work, responses_db, load,
                                                capture=(system == "lockhub" and n == 0)))
    table = summarize(rounds)
    print_table(table)
    out = write("api", {"settings": {"rounds": args.rounds, "seconds": args.seconds,
                                     "connections": args.connections, "codes": CODES,
                                     "lockhub_env": servers.LOCKHUB_ENV},
                        "routes": table,
                        "lockhub_memory": [r["memory"] for r in rounds["lockhub"]]},
                latest="latest.json")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
