"""Everything a service needs, built once per process and passed explicitly."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from lockhub.clock import Clock, SystemClock
from lockhub.config import Settings
from lockhub.engine.webhook_transport import WebhookSender
from lockhub.providers.igloohome import IgloohomeProvider
from lockhub.providers.nuki import NukiProvider
from lockhub.providers.registry import ProviderRegistry
from lockhub.providers.sandbox import SandboxProvider
from lockhub.providers.smartthings import SmartThingsProvider
from lockhub.providers.ttlock import TTLockProvider
from lockhub.providers.zigbee2mqtt import Zigbee2MQTTProvider
from lockhub.providers.zwave_js import ZWaveJSProvider
from lockhub.store.db import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    providers: ProviderRegistry
    # Set after a commit that enqueued engine work, so an in-process worker starts at once.
    engine_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Set whenever an action attempt resolves, so `sync: true` callers re-check at once.
    attempt_resolved: asyncio.Event = field(default_factory=asyncio.Event)

    _http: WebhookSender | None = None

    def http(self) -> WebhookSender:
        """What webhooks are sent with: guarded targets, never follows redirects."""
        if self._http is None:
            self._http = WebhookSender(allow=self.settings.webhook_allow,
                                       deny=self.settings.webhook_deny)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        await self.db.dispose()

    def wake_engine(self) -> None:
        self.engine_wakeup.set()

    def announce_resolution(self) -> None:
        self.attempt_resolved.set()
        self.attempt_resolved = asyncio.Event()


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    db = Database(settings.database_url,
                  busy_timeout_seconds=settings.database_busy_timeout_seconds)
    clock = clock or SystemClock()
    providers = ProviderRegistry([SandboxProvider(db, clock, settings.sandbox_latency_scale),
                                  ZWaveJSProvider(settings.radio_command_timeout_seconds),
                                  Zigbee2MQTTProvider(settings.radio_command_timeout_seconds),
                                  TTLockProvider(settings.radio_command_timeout_seconds),
                                  SmartThingsProvider(settings),
                                  IgloohomeProvider(settings.radio_command_timeout_seconds),
                                  NukiProvider(settings.radio_command_timeout_seconds, settings)])
    return Runtime(settings=settings, db=db, clock=clock, providers=providers)
