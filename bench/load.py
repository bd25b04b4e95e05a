"""Drive one route with wrk (pinned to the load core unless told otherwise) and read its done()
summary."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.servers import LOAD_CPU

SCRIPT = Path(__file__).parent / "wrk.lua"
TOKEN = "seam_apikey1_token"


@dataclass(frozen=True)
class Load:
    connections: int = 32
    seconds: int = 10  # wrk takes whole seconds
    warmup_seconds: int = 1
    cpus: str = LOAD_CPU  # where wrk runs (taskset's list)


def wrk(url: str, path: str, body: dict[str, object], *, seconds: int, connections: int,
        unique: bool = False, ids: list[str] | None = None,
        cpus: str = LOAD_CPU) -> dict[str, float]:
    """`ids` fill "__ID__" in the body, one per request in order (see wrk.lua)."""
    with tempfile.NamedTemporaryFile("w", prefix="bench-ids-", suffix=".txt") as ids_file:
        ids_file.write("\n".join(ids or []))
        ids_file.flush()
        env = {**os.environ, "BENCH_PATH": path, "BENCH_BODY": json.dumps(body),
               "BENCH_TOKEN": TOKEN, "BENCH_UNIQUE": "1" if unique or ids else "0",
               "BENCH_PREFIX": f"{time.time_ns()}", "BENCH_IDS_FILE": ids_file.name if ids else ""}
        out = subprocess.run(
            ["taskset", "-c", cpus, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
             "--timeout", "10s", "-s", str(SCRIPT), url],
            env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds_run = raw["duration_us"] / 1e6
    return {"requests_per_s": raw["requests"] / seconds_run,
            "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
            "requests": raw["requests"], "non_2xx": raw["non_2xx"],
            "socket_errors": raw["socket_errors"],
            "bytes_per_response": raw["bytes"] / max(1, raw["requests"])}


def measure(url: str, path: str, body: dict[str, object], load: Load,
            unique: bool = False, ids: list[str] | None = None) -> dict[str, float]:
    """Warm-up, then the measured run. With `ids` (codes each request consumes) the measured
    run starts past every id the warm-up may have used: those it answered plus one in flight
    per connection; `supply_short` says the run needed more ids than were left."""
    used = 0
    if load.warmup_seconds:
        warm = wrk(url, path, body, seconds=load.warmup_seconds, connections=load.connections,
                   unique=unique, ids=ids, cpus=load.cpus)
        used = int(warm["requests"]) + load.connections
    if ids is None:
        return wrk(url, path, body, seconds=load.seconds, connections=load.connections,
                   unique=unique, cpus=load.cpus)
    left = ids[used:]
    row = wrk(url, path, body, seconds=load.seconds, connections=load.connections,
              unique=unique, ids=left, cpus=load.cpus)
    # Requests still in flight at the end took ids too: up to one per connection.
    short = row["requests"] + load.connections > len(left)
    return {**row, "supply": len(left), "supply_short": float(short)}
