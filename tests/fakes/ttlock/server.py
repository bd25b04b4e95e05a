"""The fake TTLock cloud on a real loopback port (uvicorn in a thread), with the switches and
"at the lock" actions tests use. A separate lockhub process reaches it through `url`."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, Self

import uvicorn

from tests.fakes.ttlock.app import TTLockApp
from tests.fakes.ttlock.callbacks import Pusher
from tests.fakes.ttlock.world import (
    RECORD_AUTO_LOCK,
    RECORD_OPEN_FROM_INSIDE,
    Lock,
    Record,
    World,
)


class TTLockCloud:
    def __init__(self) -> None:
        self.world = World()
        self.pusher = Pusher()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._ready = threading.Event()
        self._server: uvicorn.Server | None = None
        self._app: TTLockApp | None = None
        self._thread = threading.Thread(target=self._run, name="fake-ttlock", daemon=True)

    # --- life cycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def start(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake TTLock cloud did not start")
        return self

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._app = TTLockApp(self.world, asyncio.get_running_loop(), self.pusher)
        config = uvicorn.Config(self._app, log_level="warning", lifespan="off",
                                loop="asyncio", access_log=False)
        self._server = uvicorn.Server(config)
        self._ready.set()  # the socket already listens: early connections wait in its backlog
        await self._server.serve(sockets=[self._sock])

    def stop(self) -> None:
        """Stop serving (idempotent); held requests are let go first."""
        if not self._thread.is_alive():
            self._sock.close()
            return
        if self._app is not None:
            self._app.slow.release()
            self._app.gateway.release()
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()

    @property
    def app(self) -> TTLockApp:
        assert self._app is not None, "start() first"
        return self._app

    # --- switches --------------------------------------------------------------------------

    def set_outage(self, down: bool) -> None:
        """Down: every request answers HTTP 503, as the cloud does during an outage."""
        self.app.outage = down

    def hold_requests(self) -> None:
        """Slow answers: requests wait inside the fake until `release_requests()`."""
        self.app.slow.hold()

    def release_requests(self) -> None:
        self.app.slow.release()

    async def requests_held(self, count: int = 1) -> None:
        await asyncio.to_thread(self.app.slow.wait_held, count)

    @property
    def held_requests(self) -> int:
        return self.app.slow.held

    def hold_gateway(self) -> None:
        """Gateway commands keep their gateway busy until `release_gateway()`."""
        self.app.gateway.hold()

    def release_gateway(self) -> None:
        self.app.gateway.release()

    async def gateway_commands_held(self, count: int = 1) -> None:
        await asyncio.to_thread(self.app.gateway.wait_held, count)

    def skew_clock(self, seconds: float) -> None:
        """The fake's clock runs `seconds` ahead of real time (requests' `date` then lags)."""
        self.world.clock_offset_ms = int(seconds * 1000)

    def expire_tokens(self) -> None:
        """Every access token issued so far has expired (10004); refresh tokens still work."""
        self.world.expire_tokens()

    @property
    def callback_url(self) -> str | None:
        return self.pusher.url

    @callback_url.setter
    def callback_url(self, url: str | None) -> None:
        """The application's callback URL, as set in TTLock's developer console."""
        self.pusher.url = url

    # --- the device-side world -------------------------------------------------------------

    def lock(self, lock_id: int) -> Lock:
        return self.world.locks[lock_id]

    def enter_pin(self, lock_id: int, pin: str, at_ms: int | None = None) -> Record | None:
        """A keypad entry at the lock; its record is pushed to the callback URL."""
        lock = self.lock(lock_id)
        entry = self.world.enter_pin(lock, pin, at_ms)
        if entry is not None:
            self.pusher.push(lock, [entry])
        return entry

    def auto_lock(self, lock_id: int) -> Record:
        lock = self.lock(lock_id)
        lock.locked = True
        entry = self.world.record(lock, RECORD_AUTO_LOCK)
        self.pusher.push(lock, [entry])
        return entry

    def open_from_inside(self, lock_id: int) -> Record:
        lock = self.lock(lock_id)
        lock.locked = False
        entry = self.world.record(lock, RECORD_OPEN_FROM_INSIDE)
        self.pusher.push(lock, [entry])
        return entry

    def set_lock(self, lock_id: int, **facts: Any) -> None:
        """Change what the lock reports (battery, gateway_id, features, keyboard_pwd_version)."""
        lock = self.lock(lock_id)
        for name, value in facts.items():
            if not hasattr(lock, name):
                raise AttributeError(name)
            setattr(lock, name, value)
