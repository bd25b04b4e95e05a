"""The PostgreSQL cluster of lockhub's PostgreSQL runs: the test suite's throwaway cluster
(tests/postgres.py: initdb in a temporary folder, loopback only, run as the `postgres` user
when the bench runs as root), restarted with the bench's settings, on the cores it is given.

Its processes run where the process that starts them may run (they inherit the affinity), so
the driver takes the cluster's cores for as long as it starts the cluster: the comparison's
cluster shares lockhub's one core, the scaling run's has every core.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from tests.postgres import PostgresServer, pg_bin, start_postgres

from bench.servers import cpu_set

# tests/postgres.py starts the cluster with fsync=off on the command line (which overrides any
# configuration file): fine for tests, a setting no deployment runs. The bench's settings match
# lockhub's SQLite default (WAL, synchronous=NORMAL) instead: an acknowledged commit survives
# lockhub being killed, while the last ones may be lost in an OS (or here PostgreSQL) crash;
# the WAL writer flushes them within a few hundred ms, and fsync is on. max_connections: up to
# 20 pooled connections per API process (store/db.py) times 4 processes, plus the bench's own.
# Everything else is PostgreSQL's default (shared_buffers 128 MB).
SETTINGS = {"fsync": "on", "synchronous_commit": "off", "max_connections": "200"}


@contextmanager
def cluster(cpus: str) -> Iterator[PostgresServer]:
    """A running cluster whose processes stay on `cpus` (taskset's list); stopped at the end."""
    driver_cpus = os.sched_getaffinity(0)
    server: PostgresServer | None = None
    try:
        os.sched_setaffinity(0, cpu_set(cpus))
        server = start_postgres()
        _restart(server)
        os.sched_setaffinity(0, driver_cpus)
        yield server
    finally:
        os.sched_setaffinity(0, driver_cpus)
        if server is not None:
            server.stop()


def _restart(server: PostgresServer) -> None:
    """Restart with the options start_postgres() gave, SETTINGS in place of its fsync=off."""
    root = server.data_dir.parent
    options = " ".join([f"-p {server.port} -h 127.0.0.1 -k {root}",
                        *(f"-c {name}={value}" for name, value in SETTINGS.items())])
    subprocess.run([*server.as_user, str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir),
                    "-w", "-m", "fast", "-l", str(root / "postgres.log"), "-o", options,
                    "restart"], check=True, capture_output=True)


def version() -> str:
    """The version of the PostgreSQL start_postgres() runs."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (bench/setup.sh installs it)")
    return subprocess.run([str(bin_dir / "postgres"), "--version"], check=True,
                          capture_output=True, text=True).stdout.strip()
