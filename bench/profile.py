"""Profile lockhub under load: py-spy samples the server while wrk drives one route, and the
collapsed stacks are summarised as the functions holding the most samples (own and inclusive).

Run: .venv/bin/python -m bench.profile /devices/get [/access_codes/list ...] [--seconds 10]
Writes bench/profiles/<route>.txt (collapsed stacks, for flamegraph tools) and prints the top.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from bench import api, servers
from bench.load import Load, wrk

PROFILES = Path(__file__).parent / "profiles"
SUPPLY_PER_SECOND = 2000


def _frame_name(frame: str) -> str:
    """`function (path/to/module.py:line)` -> `module.py:function`."""
    name, _, where = frame.partition(" (")
    return f"{Path(where.split(':')[0]).name}:{name}"


def summarise(collapsed: Path, top: int) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_frame_name(f) for f in stack.split(";") if "(" in f]
        n = int(count)
        total += n
        if frames:
            own[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    return total, own.most_common(top), inclusive.most_common(top)


def profile(path: str, seconds: int, top: int) -> None:
    route = api.route(path)
    with tempfile.TemporaryDirectory(prefix="lockhub-profile-") as tmp:
        work = Path(tmp)
        database_url = api.sqlite_url(work)
        server, code_id = api.start_lockhub(database_url, work)
        try:
            ids = api._ids(server.url, code_id)
            # Updates and deletes: a generous supply of codes (bench/api.py sizes it by rate).
            supply = (api.add_supply(server, database_url, SUPPLY_PER_SECOND * seconds)
                      if route.supply else None)
            out = PROFILES / f"{path.strip('/').replace('/', '.')}.txt"
            spy = subprocess.Popen(
                ["taskset", "-c", servers.LOAD_CPU, str(Path(os.sys.executable).parent / "py-spy"),
                 "record", "--pid", str(server.pid), "--duration", str(seconds), "--rate", "250",
                 "--format", "raw", "--nonblocking", "--output", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            result = wrk(server.url, path, api._fill(route.body, ids), seconds=seconds,
                         connections=Load.connections, unique=route.kind == "write", ids=supply)
            spy.wait()
        finally:
            server.stop()
    total, own, inclusive = summarise(out, top)
    print(f"\n{path}: {result['requests_per_s']:.0f} req/s under py-spy, {total} samples")
    print("  own time:")
    for name, n in own:
        print(f"    {100 * n / total:5.1f}%  {name}")
    print("  inclusive:")
    for name, n in inclusive:
        print(f"    {100 * n / total:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("routes", nargs="+")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    PROFILES.mkdir(exist_ok=True)
    for path in args.routes:
        profile(path, args.seconds, args.top)


if __name__ == "__main__":
    main()
