"""Start a real `lockhub serve` process for tests, on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LockhubServer:
    database_url: str
    port: int
    env: dict[str, str]
    seed: bool = True
    # Seam's fake's /_fake/* hooks (seed_ids() and the hook tests use them); `lockhub serve`
    # serves them only when asked with --test-hooks.
    test_hooks: bool = True
    extra_args: list[str] = field(default_factory=list)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LockhubServer:
        args = [sys.executable, "-m", "lockhub.cli", "serve", "--port", str(self.port),
                "--database-url", self.database_url]
        if self.seed:
            args.append("--seed")
        if self.test_hooks:
            args.append("--test-hooks")
        args.extend(self.extra_args)
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(args, env={**os.environ, **self.env}, stdout=log,
                                        stderr=subprocess.STDOUT)
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Poll /health until the server answers (readiness, not a timing assumption)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"lockhub exited with {self.process.returncode}; "
                                   f"see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("lockhub did not become ready")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing: a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(tmp_dir: Path, *, seed: bool = True, env: dict[str, str] | None = None,
                 name: str = "lockhub", database_url: str | None = None,
                 extra_args: list[str] | None = None, test_hooks: bool = True) -> LockhubServer:
    # Imported here: tests.databases needs tests.postgres, which needs this module's free_port.
    from tests.databases import database_url as new_database_url

    server = LockhubServer(
        database_url=database_url or new_database_url(tmp_dir, name),
        extra_args=extra_args or [],
        port=free_port(),
        env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0.25", **(env or {})},
        seed=seed,
        test_hooks=test_hooks,
        log_path=tmp_dir / f"{name}.log",
    )
    return server.start()


def start_worker(database_url: str, log_path: Path, env: dict[str, str] | None = None,
                 args: list[str] | None = None) -> subprocess.Popen[bytes]:
    """A `lockhub worker` process: the engine without the API."""
    return subprocess.Popen(
        [sys.executable, "-m", "lockhub.cli", "worker", "--database-url", database_url,
         *(args or [])],
        env={**os.environ, "LOCKHUB_SANDBOX_LATENCY_SCALE": "0.25", **(env or {})},
        stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)
