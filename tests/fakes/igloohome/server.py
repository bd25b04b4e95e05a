"""Run the fake igloohome cloud under uvicorn in a thread, on a free loopback port, and give
tests one handle on it: its URLs, its world, and its switches."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from lockhub.clock import Clock, SystemClock
from tests.fakes.igloohome.app import FakeIgloohomeApp
from tests.fakes.igloohome.jobs import JobQueue
from tests.fakes.igloohome.tokens import TokenIssuer
from tests.fakes.igloohome.world import World

START_TIMEOUT = 10.0


class IgloohomeCloud:
    """One iglooaccess account's cloud. `auth_url` stands for https://auth.igloohome.co and
    `api_url` for https://api.igloodeveloper.co/igloohome."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.world = World(self.clock)
        self.tokens = TokenIssuer(self.clock)
        self.jobs = JobQueue(self.world)
        self.app = FakeIgloohomeApp(self.world, self.tokens, self.jobs)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return self.url

    @property
    def api_url(self) -> str:
        return f"{self.url}/igloohome"

    def start(self) -> IgloohomeCloud:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="fake-igloohome", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:  # readiness, not a timing assumption
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake igloohome cloud did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- switches -----------------------------------------------------------------------------

    def outage(self, on: bool = True) -> None:
        """Every request answers 503 Service Unavailable."""
        with self.app.switches.lock:
            self.app.switches.outage = on

    def throttle(self, requests: int, retry_after: str | None = None) -> None:
        """The next `requests` API requests answer 429 Too Many Requests."""
        with self.app.switches.lock:
            self.app.switches.throttle = requests
            self.app.switches.retry_after = retry_after

    def hold(self) -> None:
        """Answers wait until `release()`: a cloud too slow for the client's timeout."""
        loop, released = self.app.loop, self.app.released
        assert loop is not None and released is not None
        with self.app.switches.lock:
            self.app.switches.hold = True
        loop.call_soon_threadsafe(released.clear)

    def release(self) -> None:
        with self.app.switches.lock:
            self.app.switches.hold = False
        loop, released = self.app.loop, self.app.released
        if loop is not None and released is not None and not loop.is_closed():
            loop.call_soon_threadsafe(released.set)

    @property
    def held(self) -> int:
        with self.app.switches.lock:
            return self.app.switches.held

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far."""
        with self.app.switches.lock:
            return list(self.app.switches.requests)

    def fail_next_job(self, message: str) -> None:
        """The next job the bridge runs fails with `message`."""
        with self.jobs.lock:
            self.jobs.failures.append(message)
