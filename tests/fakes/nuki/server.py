"""Run the fake Nuki cloud under uvicorn on 127.0.0.1 and give tests its switches.

`NukiCloud` is what a test holds: `.url` (a real loopback HTTP server another process can
reach), the seeded account and locks, and control methods for the device-side world (settle
pending changes, keypad entries, turning the lock by hand, door, battery, going offline) and for
failure modes (outage, rate limiting, slow answers, revoked tokens, a lost change).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import uvicorn

from tests.fakes.nuki import world as w
from tests.fakes.nuki.app import NukiApp, Switches
from tests.fakes.nuki.webhooks import Delivery, Webhooks

TOKEN = "nuki-api-token-of-jane"  # the seeded account's API token
ACCOUNT_ID = 987654321
FRONT_DOOR = 18205286116  # Smart Lock with a paired keypad, through a bridge
BACK_DOOR = 18205284340  # Smart Lock with built-in WiFi and no keypad


class ThreadedServer:
    """An ASGI app under uvicorn in a daemon thread, on a free 127.0.0.1 port."""

    def __init__(self, app: Any,
                 on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None) -> None:
        self.app = app
        self.on_loop = on_loop
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        server = self._server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="off", loop="asyncio"))

        async def serve() -> None:
            if self.on_loop is not None:
                self.on_loop(asyncio.get_running_loop())
            await server.serve(sockets=[sock])

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True,
                                        name=f"asgi-{self.port}")
        self._thread.start()
        while not server.started:  # uvicorn flips this once the socket listens
            if not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            self._thread.join(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)


class NukiCloud:
    def __init__(self, *, now: Callable[[], datetime] | None = None,
                 insecure_webhooks: bool = True, advanced_api: bool = True) -> None:
        self.world = w.World(now or (lambda: datetime.now(UTC)))
        self.webhooks = Webhooks()
        self.world.notify = self.webhooks.notify
        self.switches = Switches()
        self.app = NukiApp(self.world, self.webhooks, self.switches,
                           insecure_webhooks=insecure_webhooks)
        self.account = w.Account(ACCOUNT_ID, "jane@example.com", "Jane Doe", {TOKEN},
                                 advanced_api=advanced_api)
        self.world.accounts[ACCOUNT_ID] = self.account
        self.add_lock(FRONT_DOOR, "Front Door")
        self.add_lock(BACK_DOOR, "Back Door", keypad_paired=False, bridge_online=None,
                      state=w.UNLOCKED)
        self._runner: ThreadedServer | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NukiCloud:
        self._runner = ThreadedServer(self.app, on_loop=self._on_loop).start()
        self.port = self._runner.port
        return self

    def _on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self.webhooks.loop = loop

    def stop(self) -> None:
        self.switches.held.set()
        if self._runner is not None:
            self._runner.stop()

    # --- the world ---------------------------------------------------------------------------

    def add_lock(self, smartlock_id: int, name: str, **fields: Any) -> w.Smartlock:
        with self.world.guard:
            lock = w.Smartlock(smartlock_id, ACCOUNT_ID, name, **fields)
            self.world.locks[smartlock_id] = lock
            return lock

    def lock(self, smartlock_id: int) -> w.Smartlock:
        return self.world.locks[smartlock_id]

    def settle(self) -> int:
        """The lock applies what the cloud accepted (Nuki's "some seconds" later)."""
        return self.world.settle()

    @property
    def pending(self) -> list[str]:
        return [p.description for p in self.world.pending]

    def lose_next_change(self) -> None:
        """The next accepted change answers 204 but never reaches the lock."""
        self.world.lose_next = True

    def enter_pin(self, smartlock_id: int, code: str | int, at: datetime | None = None) -> bool:
        with self.world.guard:
            return self.world.enter_pin(self.lock(smartlock_id), int(code), at or self.world.now())

    def turn_by_hand(self, smartlock_id: int, *, locked: bool) -> None:
        with self.world.guard:
            self.world.move_bolt(self.lock(smartlock_id), w.ACTION_LOCK if locked else w.ACTION_UNLOCK,
                                 w.TRIGGER_MANUAL, name="Manual")

    def set_door(self, smartlock_id: int, *, open_: bool) -> None:
        with self.world.guard:
            lock = self.lock(smartlock_id)
            lock.door_state = w.DOOR_OPENED if open_ else w.DOOR_CLOSED
            self.world.log(lock, w.ACTION_DOOR_OPENED if open_ else w.ACTION_DOOR_CLOSED,
                           w.TRIGGER_SYSTEM, w.LOG_SUCCESS, name="")
            self.world.status_changed(lock)

    def set_battery(self, smartlock_id: int, charge: int, *, critical: bool | None = None) -> None:
        with self.world.guard:
            lock = self.lock(smartlock_id)
            lock.battery_charge = charge
            lock.battery_critical = charge <= 20 if critical is None else critical
            self.world.status_changed(lock)

    def set_bridge_online(self, smartlock_id: int, online: bool) -> None:
        with self.world.guard:
            self.lock(smartlock_id).bridge_online = online

    def set_lock_online(self, smartlock_id: int, online: bool) -> None:
        with self.world.guard:
            self.lock(smartlock_id).lock_online = online

    def jam_next(self, smartlock_id: int) -> None:
        """The next bolt movement ends in "motor blocked" (state 254)."""
        self.lock(smartlock_id).jam_next = True

    # --- accounts and tokens -----------------------------------------------------------------

    def revoke_token(self, token: str = TOKEN) -> None:
        with self.world.guard:
            self.account.api_tokens.discard(token)

    def change_password(self) -> None:
        """Nuki destroys every API token of an account whose password changes."""
        with self.world.guard:
            self.account.api_tokens.clear()

    # --- failure modes -----------------------------------------------------------------------

    def outage(self, status: int = 503) -> None:
        self.switches.outage_status = status

    def restore(self) -> None:
        self.switches.outage_status = None
        self.switches.rate_limited = 0

    def rate_limit(self, requests: int, *, retry_after: int | None = None) -> None:
        """Answer the next `requests` requests with 429 (Nuki's abuse protection)."""
        self.switches.rate_limited = requests
        self.switches.retry_after = retry_after

    @contextmanager
    def slow(self) -> Iterator[None]:
        """Hold every answer until the block ends (await `wait_held` to know one is waiting)."""
        self.switches.held.clear()
        try:
            yield
        finally:
            self.switches.held.set()

    async def wait_held(self, count: int = 1) -> None:
        """Return once `count` requests are being held by `slow()`."""
        def wait() -> bool:
            with self.switches.arrived:
                return self.switches.arrived.wait_for(lambda: self.switches.waiting >= count, 10)

        if not await asyncio.to_thread(wait):
            raise TimeoutError(f"fewer than {count} requests reached the fake")

    # --- observation -------------------------------------------------------------------------

    @property
    def requests(self) -> list[Any]:
        return self.app.seen

    def deliveries(self) -> list[Delivery]:
        """Webhook POSTs sent so far, after waiting for the ones in flight to be answered."""
        self.webhooks.wait_sent()
        return list(self.webhooks.deliveries)
