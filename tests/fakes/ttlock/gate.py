"""A switch that holds requests inside the fake until the test lets them go.

Tests use it for slow answers (a client timeout fires while the request is held) and for a
gateway busy with a command in flight. A test never sleeps on it: it waits until the fake
reports the request as held (`wait_held`), acts, then releases.
"""

from __future__ import annotations

import asyncio
import threading


class Gate:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._open = asyncio.Event()
        self._open.set()
        self._held = 0
        self._cond = threading.Condition()

    async def _set(self, open_: bool) -> None:
        if open_:
            self._open.set()
        else:
            self._open.clear()

    def _run(self, open_: bool) -> None:
        asyncio.run_coroutine_threadsafe(self._set(open_), self._loop).result(timeout=5)

    def hold(self) -> None:
        """Requests reaching the gate from now on wait there."""
        self._run(False)

    def release(self) -> None:
        self._run(True)

    async def passage(self) -> None:
        """Called in the server's loop by a request; returns once the gate is open."""
        if self._open.is_set():
            return
        with self._cond:
            self._held += 1
            self._cond.notify_all()
        try:
            await self._open.wait()
        finally:
            with self._cond:
                self._held -= 1

    @property
    def held(self) -> int:
        with self._cond:
            return self._held

    def wait_held(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until `count` requests wait at the gate (for tests, from any thread)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._held >= count, timeout=timeout):
                raise TimeoutError(f"{self._held} requests held, expected {count}")
