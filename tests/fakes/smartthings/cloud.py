"""The fake cloud as a test sees it: the world, the OAuth server, the rate limiter, and the
switches for what can go wrong (slow answers, outages, commands that the device has not carried
out yet)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tests.fakes.smartthings.oauth import OAuthServer
from tests.fakes.smartthings.rate_limit import DeviceRateLimiter
from tests.fakes.smartthings.world import World

from lockhub.clock import ManualClock

# Seam's sandbox identities (cloud-providers.md §0.3) double as the fake's Samsung account.
SANDBOX_EMAIL = "jane@example.com"
SANDBOX_PASSWORD = "1234"
CLIENT_ID = "7a1fa4c2-66a1-4a93-8c42-0f6b8a1c7d10"
CLIENT_SECRET = "3f0c9d7e-5b8a-4e21-9f64-2d1c0b7a6e55"
REDIRECT_URI = "http://127.0.0.1/connect/smartthings/callback"


@dataclass
class Switches:
    outage: bool = False  # every API request answers 503
    hold_commands: bool = False  # accepted commands wait for `Cloud.deliver()`
    command_delay: float = 0.0  # otherwise the device carries them out this much later
    page_size: int = 200  # devices per page of GET /v1/devices
    requests: list[str] = field(default_factory=list)  # "GET /v1/devices/..." as received


class Cloud:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.world = World(self.clock)
        self.oauth = OAuthServer(self.clock)
        self.limiter = DeviceRateLimiter(self.clock)
        self.switches = Switches()
        self.oauth.register_app(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
        self.oauth.add_account(SANDBOX_EMAIL, SANDBOX_PASSWORD)
        self.url = ""  # the API host, set once the server listens
        self.auth_url = ""  # the auth host (authorize page and token endpoint)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stalled = False
        self._gate: asyncio.Event | None = None
        self.stalled_requests = 0

    # --- slow answers: requests wait at a gate the test opens ----------------------------------

    def stall(self) -> None:
        """From now on every request waits (without answering) until `unstall()`."""
        self._stalled = True

    def unstall(self) -> None:
        self._stalled = False
        if self.loop is not None and self._gate is not None:
            self.loop.call_soon_threadsafe(self._gate.set)

    async def gate(self) -> None:
        """Called by every handler first; runs on the server's loop."""
        if not self._stalled:
            return
        if self._gate is None or self._gate.is_set():
            self._gate = asyncio.Event()
        self.stalled_requests += 1
        await self._gate.wait()

    # --- commands ------------------------------------------------------------------------------

    def deliver(self) -> int:
        """The devices carry out the commands they accepted and can reach."""
        return self.world.deliver_pending()

    def schedule_delivery(self) -> None:
        """Runs on the server loop after a command is accepted (unless commands are held)."""
        if self.switches.hold_commands or self.loop is None:
            return
        self.loop.call_later(self.switches.command_delay, self.world.deliver_pending)
