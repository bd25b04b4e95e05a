"""The servers under test, each started pinned to one core (the load generator gets the other)
unless given more, and stopped by its own process id.

lockhub runs exactly as `lockhub serve --seed` (engine in-process; `--workers N` for the
scaling figure); the peer is Seam's fake (`bench/peer.mjs`); the ceiling is `bench/ceiling.py`
under the same uvicorn settings.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from tests.server import free_port

from lockhub.store import tables as t
from lockhub.store.db import async_url

BENCH = Path(__file__).parent
ROOT = BENCH.parent
SERVER_CPU = "0"
LOAD_CPU = "1"
# Every core this process may use, read at import (before the driver pins itself to LOAD_CPU):
# for runs in which the servers and wrk share the whole machine.
ALL_CPUS = ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0)))
READY_TIMEOUT = 60.0


def cpu_set(cpus: str) -> set[int]:
    """taskset's comma-separated list as os.sched_setaffinity takes it."""
    return {int(cpu) for cpu in cpus.split(",")}
# lockhub's settings under load: virtual locks answer at once and the per-device guardrails
# are off, so thousands of unlocks or creates on one device measure lockhub, not the limits.
LOCKHUB_ENV = {"LOCKHUB_SANDBOX_LATENCY_SCALE": "0", "LOCKHUB_RATE_LIMITS": "off"}


@dataclass
class Server:
    name: str
    args: list[str]
    port: int
    log_path: Path
    ready_path: str = "/health"
    env: dict[str, str] = field(default_factory=dict)
    cpus: str = SERVER_CPU  # taskset's list
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Server:
        # taskset execs the server, so self.process.pid is the server itself (for RSS, py-spy).
        self.process = subprocess.Popen(
            ["taskset", "-c", self.cpus, *self.args], cwd=ROOT,
            env={**os.environ, **self.env}, stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                httpx.get(self.url + self.ready_path, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def settle(self, timeout: float = 120.0) -> float:
        """Wait until the server answers /health within 20 ms: requests wrk abandoned at the end
        of a route (a 4,000-code list takes long) are still being served and would otherwise
        count against the next route. Returns the seconds waited."""
        started = time.monotonic()
        with httpx.Client(timeout=timeout) as client:
            while time.monotonic() - started < timeout:
                asked = time.monotonic()
                client.get(self.url + "/health")
                if time.monotonic() - asked < 0.02:
                    break
                time.sleep(0.1)
        return time.monotonic() - started

    def rss_mib(self) -> dict[str, float]:
        """Resident memory now and at its peak (VmHWM), from /proc."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return {"rss_mib": fields["VmRSS"], "peak_rss_mib": fields["VmHWM"]}


def lockhub(database_url: str, log_dir: Path, env: dict[str, str] | None = None, *,
            workers: int = 1, cpus: str = SERVER_CPU) -> Server:
    port = free_port()
    return Server("lockhub", [sys.executable, "-m", "lockhub.cli", "serve", "--seed",
                              "--database-url", database_url, "--port", str(port),
                              "--workers", str(workers)],
                  port, log_dir / "lockhub.log", env={**LOCKHUB_ENV, **(env or {})}, cpus=cpus)


def engine_idle(database_url: str, timeout: float = 90.0) -> float:
    """Wait until lockhub has no due engine jobs (creates and unlocks leave work behind, which
    would otherwise run during the next route); returns the seconds waited."""
    return asyncio.run(_engine_idle(database_url, timeout))


async def _engine_idle(database_url: str, timeout: float) -> float:
    started = time.monotonic()
    engine = create_async_engine(async_url(database_url))
    due = select(func.count()).select_from(t.jobs)
    try:
        while time.monotonic() - started < timeout:
            async with engine.connect() as conn:  # a new read each time: no old snapshot
                if not await conn.scalar(due.where(t.jobs.c.run_at <= datetime.now(UTC))):
                    break
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
    return time.monotonic() - started


def peer(log_dir: Path, codes_device: str, codes: int) -> Server:
    port = free_port()
    return Server("peer", ["node", str(BENCH / "peer.mjs"), str(port), codes_device, str(codes)],
                  port, log_dir / "peer.log", ready_path="/health")


def ceiling(responses_db: Path, log_dir: Path) -> Server:
    port = free_port()
    return Server("ceiling", [sys.executable, "-m", "bench.ceiling", str(responses_db),
                              str(port)], port, log_dir / "ceiling.log")
