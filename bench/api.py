"""API benchmark: lockhub on SQLite and on PostgreSQL against Seam's fake (the peer) and a bare
ASGI ceiling, route by route, the performance targets checked against the ratios measured in
the same run, then lockhub on PostgreSQL under 1, 2 and 4 API processes (bench/scaling.py).

Each round starts every server fresh (the fake keeps state in memory and its lists ignore the
device filter, so earlier creates would change later rounds), seeds it the same way (the seed,
4,000 codes on august_device_1, and lock/unlock events on that lock) and drives each route for
a fixed time with wrk at a fixed connection count. Updates and deletes take their codes from a
supply added just before the route (each request its own existing code). Rounds alternate
lockhub / lockhub_pg / peer / ceiling, and medians over rounds are reported. Servers (and the
PostgreSQL cluster) run on core 0, wrk on core 1.

Run: make bench   (or .venv/bin/python -m bench.api --rounds 2 --seconds 10)
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import bulk, postgres, scaling, servers
from bench.ceiling import store_responses
from bench.load import TOKEN, Load, measure
from bench.report import format_ratio, median_of, ratio, write

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
# lockhub is lockhub on SQLite, lockhub_pg the same on PostgreSQL.
SYSTEMS = ("lockhub", "lockhub_pg", "peer", "ceiling")


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


def add_supply(server: servers.Server, database_url: str | None, count: int) -> list[str]:
    """`count` new `set` codes on WRITES_DEVICE, straight into the server's store (lockhub's
    database; the peer, which has none, through its /_bench/add_codes); their ids."""
    prefix = f"supply-{time.time_ns()}"
    if database_url is None:
        response = httpx.post(server.url + "/_bench/add_codes", timeout=60, json={
            "device_id": WRITES_DEVICE, "count": count, "prefix": prefix})
        response.raise_for_status()
        return response.json()["access_code_ids"]
    ids = [str(uuid.uuid4()) for _ in range(count)]
    bulk.add_codes(database_url, [WRITES_DEVICE], count, prefix=prefix, ids=ids)
    return ids


def _supply_size(done: dict[str, dict[str, float]], load: Load) -> int:
    fastest = max((done[r.path]["requests_per_s"] for r in ROUTES
                   if r.kind == "write" and r.path in done), default=0.0)
    wanted = fastest * (load.seconds + load.warmup_seconds) * SUPPLY_MARGIN
    return max(SUPPLY_FLOOR, math.ceil(wanted))


def sqlite_url(work: Path) -> str:
    return f"sqlite:///{work / 'lockhub.db'}"


def start_lockhub(database_url: str, work: Path, *, workers: int = 1,
                  cpus: str = servers.SERVER_CPU) -> tuple[servers.Server, str]:
    """lockhub on a new, empty database: seeded, the 4,000 codes added, started; the id of
    one of the codes."""
    subprocess.run([sys.executable, "-m", "lockhub.cli", "seed", "--database-url", database_url],
                   check=True, capture_output=True)
    bulk.add_codes(database_url, [CODES_DEVICE], CODES)
    server = servers.lockhub(database_url, work, workers=workers, cpus=cpus).start()
    first = _post(server.url, "/access_codes/list", {"device_id": CODES_DEVICE, "limit": 1})
    return server, first["access_codes"][0]["access_code_id"]


def start(system: str, work: Path, database_url: str | None,
          responses_db: Path) -> tuple[servers.Server, str]:
    """A fresh, seeded server and the id of one of its 4,000 codes (lockhub: on the new, empty
    database at `database_url`)."""
    if database_url is not None:
        return start_lockhub(database_url, work)
    if system == "peer":
        return servers.peer(work, CODES_DEVICE, CODES).start(), "bench_code_0"
    return servers.ceiling(responses_db, work).start(), "any"


def _capture(server: servers.Server, database_url: str,
             ids: dict[str, str]) -> dict[str, bytes]:
    """lockhub's answer to each route (updates and deletes on codes of their own): what the
    ceiling serves."""
    answers = {}
    for r in ROUTES:
        filled = {k: v.replace("__N__", "ceiling") if isinstance(v, str) else v
                  for k, v in _fill(r.body, ids).items()}
        if r.supply:
            filled = {k: add_supply(server, database_url, 1)[0] if v == "__ID__" else v
                      for k, v in filled.items()}
        response = httpx.post(server.url + r.path, json=filled, headers=HEADERS, timeout=30)
        response.raise_for_status()
        answers[r.path] = response.content
    return answers


def run_round(system: str, work: Path, database_url: str | None, responses_db: Path,
              load: Load, capture: bool) -> dict[str, dict[str, float]]:
    """One server's round: `database_url` is lockhub's new, empty database (None for the peer
    and the ceiling); `capture` stores its answers for the ceiling."""
    server, code_id = start(system, work, database_url, responses_db)
    try:
        ids = _ids(server.url, code_id) if system != "ceiling" else {"attempt": "-", "code": "-"}
        if capture and database_url is not None:
            store_responses(str(responses_db), _capture(server, database_url, ids))
        results: dict[str, dict[str, float]] = {}
        for r in ROUTES:
            supply = (add_supply(server, database_url, _supply_size(results, load))
                      if r.supply and system != "ceiling" else None)
            row = measure(server.url, r.path, _fill(r.body, ids), load,
                          unique=r.kind == "write", ids=supply)
            if database_url is not None:
                row["engine_drain_s"] = servers.engine_idle(database_url)
            row["settle_s"] = server.settle()
            results[r.path] = row
            print(f"  {system:10} {r.path:24} {row['requests_per_s']:8.0f} req/s  "
                  f"p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:7.2f} ms"
                  f"{'  non-2xx ' + str(row['non_2xx']) if row['non_2xx'] else ''}"
                  f"{'  SUPPLY RAN OUT' if row.get('supply_short') else ''}", flush=True)
        if database_url is not None:
            results["memory"] = server.rss_mib()
        return results
    finally:
        server.stop()


def summarize(rounds: dict[str, list[dict[str, dict[str, float]]]]) -> dict[str, Any]:
    """Per route: each system's medians (and its rounds) and the req/s ratios."""
    table: dict[str, Any] = {}
    for r in ROUTES:
        row: dict[str, Any] = {"kind": r.kind}
        for system, runs in rounds.items():
            per_round = [results[r.path] for results in runs]
            row[system] = {**median_of(per_round), "rounds": per_round}
        rate = {system: row[system]["requests_per_s"] for system in rounds}
        row["lockhub_vs_peer"] = rate["lockhub"] / rate["peer"]
        row["lockhub_vs_ceiling"] = rate["lockhub"] / rate["ceiling"]
        if "lockhub_pg" in rate:
            row["lockhub_pg_vs_peer"] = ratio(rate["lockhub_pg"], rate["peer"])
            row["lockhub_pg_vs_lockhub"] = ratio(rate["lockhub_pg"], rate["lockhub"])
        table[r.path] = row
    return table


def verdicts(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target on each route it covers, for lockhub on SQLite (the default database): the
    measured value and whether it is met. A route whose supply of codes ran out on either
    server is not met (its rate is not the route's), nor a p99 from a round in which lockhub
    answered nothing."""
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
    legend = ("lockhub = lockhub on SQLite, lockhub_pg = lockhub on PostgreSQL\n"
              if any("lockhub_pg" in row for row in table.values()) else "")
    print(f"\n{legend}{'route':24}{'':12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for path, row in table.items():
        for system in (s for s in SYSTEMS if s in row):
            r = row[system]
            print(f"{path if system == 'lockhub' else '':24}{system:12}"
                  f"{r['requests_per_s']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                  f"{r['non_2xx']:>9.0f}"
                  f"{'  supply ran out' if any(x.get('supply_short') for x in r['rounds']) else ''}")
        postgres_ratios = (f"   lockhub_pg/peer {format_ratio(row['lockhub_pg_vs_peer'])}   "
                           f"lockhub_pg/lockhub {format_ratio(row['lockhub_pg_vs_lockhub'])}"
                           if "lockhub_pg" in row else "")
        print(f"{'':24}{'ratios':12}lockhub/peer {row['lockhub_vs_peer']:.2f}   "
              f"lockhub/ceiling {row['lockhub_vs_ceiling']:.2f}{postgres_ratios}")


def print_verdicts(results: list[dict[str, Any]], connections: int) -> None:
    print(f"\ntargets ({connections} connections, lockhub on SQLite / peer measured in this run)")
    for v in results:
        note = "  (supply of codes ran out)" if v.get("supply_ran_out") else ""
        print(f"  {v['target']:56} {v['route']:24} {v['measure']:19} {v['value']:8.2f} "
              f"{v['threshold']:6} {'met' if v['met'] else 'NOT MET'}{note}")
    met = sum(v["met"] for v in results)
    print(f"  {met} of {len(results)} met")


def compare(systems: list[str], load: Load, rounds: int,
            tmp: Path) -> dict[str, list[dict[str, dict[str, float]]]]:
    """The route-by-route comparison: per system, one result per round. lockhub_pg gets a new
    database per round, in a cluster on the servers' core (the database shares lockhub's core,
    as SQLite does in process)."""
    responses_db = tmp / "ceiling.db"
    results: dict[str, list[dict[str, dict[str, float]]]] = {s: [] for s in systems}
    with (postgres.cluster(servers.SERVER_CPU) if "lockhub_pg" in systems
          else nullcontext()) as cluster:
        for n in range(rounds):
            for system in systems:
                work = tmp / f"{system}-{n}"
                work.mkdir()
                database_url = None
                if system == "lockhub":
                    database_url = sqlite_url(work)
                elif system == "lockhub_pg":
                    assert cluster is not None
                    database_url = cluster.new_database(f"round_{n}")
                print(f"round {n + 1}/{rounds}: {system}", flush=True)
                results[system].append(run_round(system, work, database_url, responses_db,
                                                  load, capture=(system == "lockhub" and n == 0)))
    return results


def scale(load: Load, rounds: int, tmp: Path) -> dict[str, Any] | None:
    """The 1 -> 2 -> 4 process figure on the routes of scaling.ROUTES still selected, in a
    cluster of its own that, like the API processes and wrk, may use every core."""
    selected = [route(path) for path in scaling.ROUTES if path in {r.path for r in ROUTES}]
    if not selected:
        print(f"scaling: skipped, none of {', '.join(scaling.ROUTES)} selected", flush=True)
        return None
    with postgres.cluster(servers.ALL_CPUS) as cluster:
        def start(workers: int, name: str) -> tuple[servers.Server, str, dict[str, Any]]:
            work = tmp / name
            work.mkdir()
            database_url = cluster.new_database(name.replace("-", "_"))
            server, code_id = start_lockhub(database_url, work, workers=workers,
                                            cpus=servers.ALL_CPUS)
            try:
                ids = _ids(server.url, code_id)
            except BaseException:
                server.stop()
                raise
            return server, database_url, {r.path: _fill(r.body, ids) for r in selected}

        return scaling.run(start, selected, load, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="per route per round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--routes", nargs="+", metavar="PATH", choices=[r.path for r in ROUTES],
                        help="only these routes (a partial run does not replace latest.json)")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false",
                        help="no lockhub_pg column (lockhub on PostgreSQL)")
    parser.add_argument("--no-scaling", dest="scaling", action="store_false",
                        help="no 1 -> 2 -> 4 process figure")
    parser.add_argument("--scaling-seconds", type=int,
                        help=f"per route per process count per round in the scaling figure "
                             f"(default: --seconds, at most {scaling.SECONDS})")
    args = parser.parse_args()
    if args.routes:
        ROUTES[:] = [r for r in ROUTES if r.path in args.routes]
    load = Load(connections=args.connections, seconds=args.seconds)
    scaling_load = Load(connections=args.connections, cpus=servers.ALL_CPUS,
                        seconds=args.scaling_seconds or min(args.seconds, scaling.SECONDS))
    systems = [s for s in SYSTEMS if args.postgres or s != "lockhub_pg"]
    os.sched_setaffinity(0, servers.cpu_set(servers.LOAD_CPU))  # this driver off the server core
    with tempfile.TemporaryDirectory(prefix="lockhub-bench-") as tmp:
        rounds = compare(systems, load, args.rounds, Path(tmp))
        figure = scale(scaling_load, args.rounds, Path(tmp)) if args.scaling else None
    table = summarize(rounds)
    print_table(table)
    targets = verdicts(table)
    print_verdicts(targets, args.connections)
    if figure is not None:
        scaling.print_figure(figure)
    out = write("api", {"settings": {"rounds": args.rounds, "seconds": args.seconds,
                                     "connections": args.connections, "codes": CODES,
                                     "event_actions": EVENT_ACTIONS,
                                     "supply_margin": SUPPLY_MARGIN,
                                     "supply_floor": SUPPLY_FLOOR,
                                     "lockhub_env": servers.LOCKHUB_ENV,
                                     "postgres": {"version": postgres.version(),
                                                  **postgres.SETTINGS}
                                     if args.postgres or args.scaling else None},
                        "routes": table, "targets": targets,
                        "lockhub_memory": [r["memory"] for r in rounds["lockhub"]],
                        "lockhub_pg_memory": [r["memory"] for r in rounds.get("lockhub_pg", [])],
                        "scaling": figure},
                latest=None if args.routes else "latest.json")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
