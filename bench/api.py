"""API benchmark: lockhub against Seam's fake (the peer) and a bare ASGI ceiling, route by route,
and the performance targets checked against the ratios measured in the same run.

Each round starts every server fresh (the fake keeps state in memory and its lists ignore the
device filter, so earlier creates would change later rounds), seeds it the same way (the seed,
4,000 codes on august_device_1, and lock/unlock events on that lock) and drives each route for
a fixed time with wrk at a fixed connection count. Updates and deletes take their codes from a
supply added just before the route (each request its own existing code). Rounds alternate
lockhub / peer / ceiling, and medians over rounds are reported. Servers run on core 0, wrk on
core 1.

Run: make bench   (or .venv/bin/python -m bench.api --rounds 2 --seconds 10)
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
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
WRITES_DEVICE = "august_device_2"
# Unlock, lock, unlock, ... on CODES_DEVICE before the routes: both servers then list the same
# lock.locked / lock.unlocked events of that lock on /events/list.
EVENT_ACTIONS = 101
EVENTS_SINCE = "2020-01-01T00:00:00.000Z"
# Codes added for each update / delete route: the server's fastest write so far this round,
# times the route's seconds (warm-up included), times the margin; never fewer than the floor.
SUPPLY_MARGIN = 2.0
SUPPLY_FLOOR = 1000
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
SYSTEMS = ("lockhub", "peer", "ceiling")


@dataclass(frozen=True)
class Route:
    """One measured route. kind: "read", "list" (the 4,000 codes) or "write". Bodies: "{x}"
    values are filled per server (_fill), "__N__" makes each write unique, "__ID__" is a code
    from the supply (`supply`: each request takes its own existing code)."""

    path: str
    body: dict[str, Any]
    kind: str
    supply: bool = False


ROUTES: list[Route] = [
    Route("/devices/list", {"device_ids": ["august_device_1", "august_device_2"]}, "read"),
    Route("/devices/get", {"device_id": "august_device_1"}, "read"),
    Route("/locks/get", {"device_id": "august_device_1"}, "read"),
    Route("/action_attempts/get", {"action_attempt_id": "{attempt}"}, "read"),
    Route("/access_codes/get", {"access_code_id": "{code}"}, "read"),
    Route("/events/list", {"device_id": CODES_DEVICE, "since": EVENTS_SINCE, "limit": 500,
                           "event_types": ["lock.locked", "lock.unlocked"]}, "read"),
    Route("/access_codes/list", {"device_id": CODES_DEVICE}, "list"),
    Route("/locks/unlock_door", {"device_id": WRITES_DEVICE}, "write"),
    Route("/access_codes/create", {"device_id": WRITES_DEVICE, "name": "bench __N__"}, "write"),
    Route("/access_codes/update", {"access_code_id": "__ID__", "name": "bench __N__"}, "write",
          supply=True),
    Route("/access_codes/delete", {"access_code_id": "__ID__"}, "write", supply=True),
]
# (what, route kind, least lockhub/peer ratio): ratio targets; p99 is checked on reads.
RATIO_TARGETS = [("read routes at least 2x the peer", "read", 2.0),
                 ("/access_codes/list of 4,000 codes at least 1x the peer", "list", 1.0),
                 ("writes at least 1x the peer", "write", 1.0)]
READ_P99_MS = 25.0


def route(path: str) -> Route:
    return next(r for r in ROUTES if r.path == path)


def _fill(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    return {k: v.format(**ids) if isinstance(v, str) and v.startswith("{") else v
            for k, v in body.items()}


def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(url + path, json=body, headers=HEADERS, timeout=30)
    response.raise_for_status()
    return response.json()


def _ids(url: str, code_id: str) -> dict[str, str]:
    """Lock/unlock events on CODES_DEVICE (the last, an unlock, is the settled attempt to read)
    and an access code to read on this server."""
    attempt_id = ""
    with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = client.post(path, json=body)
            response.raise_for_status()
            return response.json()["action_attempt"]

        for n in range(EVENT_ACTIONS):
            action = "/locks/lock_door" if n % 2 else "/locks/unlock_door"
            attempt_id = post(action, {"device_id": CODES_DEVICE})["action_attempt_id"]
            for _ in range(200):
                if post("/action_attempts/get",
                        {"action_attempt_id": attempt_id})["status"] != "pending":
                    break
                time.sleep(0.01)
    return {"attempt": attempt_id, "code": code_id}


def add_supply(system: str, server: servers.Server, work: Path, count: int) -> list[str]:
    """`count` new `set` codes on WRITES_DEVICE, straight into the server's store; their ids."""
    prefix = f"supply-{time.time_ns()}"
    if system == "peer":
        response = httpx.post(server.url + "/_bench/add_codes", timeout=60, json={
            "device_id": WRITES_DEVICE, "count": count, "prefix": prefix})
        response.raise_for_status()
        return response.json()["access_code_ids"]
    ids = [str(uuid.uuid4()) for _ in range(count)]
    bulk.add_codes(_database_url(work), [WRITES_DEVICE], count, prefix=prefix, ids=ids)
    return ids


def _supply_size(done: dict[str, dict[str, float]], load: Load) -> int:
    fastest = max((done[r.path]["requests_per_s"] for r in ROUTES
                   if r.kind == "write" and r.path in done), default=0.0)
    wanted = fastest * (load.seconds + load.warmup_seconds) * SUPPLY_MARGIN
    return max(SUPPLY_FLOOR, math.ceil(wanted))


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


def _database_url(work: Path) -> str:
    return f"sqlite:///{work / 'lockhub.db'}"


def start(system: str, work: Path, responses_db: Path) -> tuple[servers.Server, str]:
    """A fresh, seeded server and the id of one of its 4,000 codes."""
    if system == "lockhub":
        url = _database_url(work)
        subprocess.run([sys.executable, "-m", "lockhub.cli", "seed", "--database-url", url],
                       check=True, capture_output=True)
        bulk.add_codes(url, [CODES_DEVICE], CODES)
        server = servers.lockhub(url, work).start()
        first = _post(server.url, "/access_codes/list", {"device_id": CODES_DEVICE, "limit": 1})
        return server, first["access_codes"][0]["access_code_id"]
    if system == "peer":
        return servers.peer(work, CODES_DEVICE, CODES).start(), "bench_code_0"
    return servers.ceiling(responses_db, work).start(), "any"


def _capture(server: servers.Server, work: Path, ids: dict[str, str]) -> dict[str, bytes]:
    """lockhub's answer to each route (updates and deletes on codes of their own): what the
    ceiling serves."""
    answers = {}
    for r in ROUTES:
        filled = {k: v.replace("__N__", "ceiling") if isinstance(v, str) else v
                  for k, v in _fill(r.body, ids).items()}
        if r.supply:
            filled = {k: add_supply("lockhub", server, work, 1)[0] if v == "__ID__" else v
                      for k, v in filled.items()}
        response = httpx.post(server.url + r.path, json=filled, headers=HEADERS, timeout=30)
        response.raise_for_status()
        answers[r.path] = response.content
    return answers


def run_round(system: str, work: Path, responses_db: Path, load: Load,
              capture: bool) -> dict[str, dict[str, float]]:
    server, code_id = start(system, work, responses_db)
    try:
        ids = _ids(server.url, code_id) if system != "ceiling" else {"attempt": "-", "code": "-"}
        if capture:
            store_responses(str(responses_db), _capture(server, work, ids))
        results: dict[str, dict[str, float]] = {}
        for r in ROUTES:
            supply = (add_supply(system, server, work, _supply_size(results, load))
                      if r.supply and system != "ceiling" else None)
            row = measure(server.url, r.path, _fill(r.body, ids), load,
                          unique=r.kind == "write", ids=supply)
            if system == "lockhub":
                row["engine_drain_s"] = _engine_idle(work / "lockhub.db")
            row["settle_s"] = _settle(server.url)
            results[r.path] = row
            print(f"  {system:8} {r.path:24} {row['requests_per_s']:8.0f} req/s  "
                  f"p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:7.2f} ms"
                  f"{'  non-2xx ' + str(row['non_2xx']) if row['non_2xx'] else ''}"
                  f"{'  SUPPLY RAN OUT' if row.get('supply_short') else ''}", flush=True)
        if system == "lockhub":
            results["memory"] = server.rss_mib()
        return results
    finally:
        server.stop()


def summarize(rounds: dict[str, list[dict[str, dict[str, float]]]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for r in ROUTES:
        row: dict[str, Any] = {"kind": r.kind}
        for system in SYSTEMS:
            per_round = [results[r.path] for results in rounds[system]]
            row[system] = {**median_of(per_round), "rounds": per_round}
        row["lockhub_vs_peer"] = row["lockhub"]["requests_per_s"] / row["peer"]["requests_per_s"]
        row["lockhub_vs_ceiling"] = (row["lockhub"]["requests_per_s"]
                                     / row["ceiling"]["requests_per_s"])
        table[r.path] = row
    return table


def verdicts(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target on each route it covers: the measured value and whether it is met. A route
    whose supply of codes ran out on either server is not met (its rate is not the route's),
    nor a p99 from a round in which lockhub answered nothing."""
    out = []
    for what, kind, least in RATIO_TARGETS:
        for path, row in table.items():
            if row["kind"] == kind:
                short = any(run.get("supply_short") for s in ("lockhub", "peer")
                            for run in row[s]["rounds"])
                out.append({"target": what, "route": path, "measure": "lockhub/peer req/s",
                            "value": row["lockhub_vs_peer"], "threshold": f">= {least:g}",
                            "met": row["lockhub_vs_peer"] >= least and not short,
                            "supply_ran_out": short})
    for path, row in table.items():
        if row["kind"] == "read":
            p99 = row["lockhub"]["p99_ms"]
            answered = all(run["requests"] for run in row["lockhub"]["rounds"])
            out.append({"target": f"p99 under {READ_P99_MS:g} ms on reads", "route": path,
                        "measure": "lockhub p99 ms", "value": p99,
                        "threshold": f"< {READ_P99_MS:g}",
                        "met": answered and p99 < READ_P99_MS})
    return out


def print_table(table: dict[str, Any]) -> None:
    print(f"\n{'route':24}{'':10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for path, row in table.items():
        for system in SYSTEMS:
            r = row[system]
            print(f"{path if system == 'lockhub' else '':24}{system:10}"
                  f"{r['requests_per_s']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                  f"{r['non_2xx']:>9.0f}"
                  f"{'  supply ran out' if any(x.get('supply_short') for x in r['rounds']) else ''}")
        print(f"{'':24}{'ratios':10}lockhub/peer {row['lockhub_vs_peer']:.2f}   "
              f"lockhub/ceiling {row['lockhub_vs_ceiling']:.2f}")


def print_verdicts(results: list[dict[str, Any]], connections: int) -> None:
    print(f"\ntargets ({connections} connections, lockhub/peer measured in this run)")
    for v in results:
        note = "  (supply of codes ran out)" if v.get("supply_ran_out") else ""
        print(f"  {v['target']:56} {v['route']:24} {v['measure']:19} {v['value']:8.2f} "
              f"{v['threshold']:6} {'met' if v['met'] else 'NOT MET'}{note}")
    met = sum(v["met"] for v in results)
    print(f"  {met} of {len(results)} met")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="per route per round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--routes", nargs="+", metavar="PATH", choices=[r.path for r in ROUTES],
                        help="only these routes (a partial run does not replace latest.json)")
    args = parser.parse_args()
    if args.routes:
        ROUTES[:] = [r for r in ROUTES if r.path in args.routes]
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
    targets = verdicts(table)
    print_verdicts(targets, args.connections)
    out = write("api", {"settings": {"rounds": args.rounds, "seconds": args.seconds,
                                     "connections": args.connections, "codes": CODES,
                                     "event_actions": EVENT_ACTIONS,
                                     "supply_margin": SUPPLY_MARGIN,
                                     "supply_floor": SUPPLY_FLOOR,
                                     "lockhub_env": servers.LOCKHUB_ENV},
                        "routes": table, "targets": targets,
                        "lockhub_memory": [r["memory"] for r in rounds["lockhub"]]},
                latest=None if args.routes else "latest.json")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
