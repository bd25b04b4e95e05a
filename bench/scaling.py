"""The 1 -> 2 -> 4 process figure: lockhub on PostgreSQL under `lockhub serve --workers N` on a
read, a list and a write, its requests/s per N and the speed-up over N=1.

Nothing is pinned here (the comparison gives the servers one core and wrk the other): the API
processes, PostgreSQL and wrk share every core of the machine, so the figure is what N
processes gain on this machine while the load generator takes its share of the same cores.
Each round runs N = 1, 2, 4 in turn; each N starts on a new database seeded as in the
comparison (the seed, the 4,000 codes, the lock/unlock events), and its engines (one per
process) drain between routes as there.

The list is /events/list (101 events), not the 4,000-code list: on PostgreSQL, where lockhub
keeps no remembered pages, each request builds the whole 4,000-code answer, so 32 connections
queue more work than a short run lasts and it would report no requests at all for any N.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bench import servers
from bench.load import Load, measure
from bench.report import format_ratio, median_of, ratio

if TYPE_CHECKING:
    from bench.api import Route

WORKERS = (1, 2, 4)
ROUTES = ("/devices/get", "/events/list", "/locks/unlock_door")  # none takes a supply of codes
SECONDS = 5  # per route, per N, per round, at most: the figure is part of `make bench`

# Starts lockhub with N API processes on a new database named by the string; the server, the
# database's URL and each route's body for that server.
Start = Callable[[int, str], tuple[servers.Server, str, dict[str, dict[str, Any]]]]


def run(start: Start, routes: Sequence[Route], load: Load, rounds: int) -> dict[str, Any]:
    runs: dict[str, dict[int, list[dict[str, float]]]] = {
        r.path: {n: [] for n in WORKERS} for r in routes}
    for k in range(rounds):
        for n in WORKERS:
            print(f"scaling round {k + 1}/{rounds}: lockhub_pg --workers {n}", flush=True)
            server, database_url, bodies = start(n, f"scaling-{k}-{n}")
            try:
                for r in routes:
                    row = measure(server.url, r.path, bodies[r.path], load,
                                  unique=r.kind == "write")
                    row["engine_drain_s"] = servers.engine_idle(database_url)
                    row["settle_s"] = server.settle()
                    runs[r.path][n].append(row)
                    print(f"  --workers {n} {r.path:24} {row['requests_per_s']:8.0f} req/s  "
                          f"p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:7.2f} ms"
                          f"{'  non-2xx ' + str(row['non_2xx']) if row['non_2xx'] else ''}",
                          flush=True)
            finally:
                server.stop()
    return {"cores": len(servers.cpu_set(servers.ALL_CPUS)), "workers": list(WORKERS),
            "seconds": load.seconds, "connections": load.connections,
            "routes": {path: _summarize(by_n) for path, by_n in runs.items()}}


def _summarize(by_n: dict[int, list[dict[str, float]]]) -> dict[str, Any]:
    """Medians per N (keyed "1", "2", "4" as JSON keys are), each with its rounds and its
    speed-up: its median req/s over N=1's (None if N=1 answered nothing)."""
    medians = {n: median_of(rows) for n, rows in by_n.items()}
    base = medians[WORKERS[0]]["requests_per_s"]
    return {str(n): {**medians[n], "speedup": ratio(medians[n]["requests_per_s"], base),
                     "rounds": by_n[n]} for n in WORKERS}


def print_figure(figure: dict[str, Any]) -> None:
    print(f"\nscaling: lockhub on PostgreSQL, `lockhub serve --workers N`, "
          f"{figure['connections']} connections; {figure['cores']} cores, shared by the API "
          f"processes, PostgreSQL and wrk (nothing pinned)")
    print(f"{'route':24}" + "".join(f"{f'N={n} req/s':>14}{'x N=1':>7}" for n in WORKERS))
    for path, row in figure["routes"].items():
        print(f"{path:24}" + "".join(f"{row[str(n)]['requests_per_s']:>14.0f}"
                                     f"{format_ratio(row[str(n)]['speedup']):>7}"
                                     for n in WORKERS))
