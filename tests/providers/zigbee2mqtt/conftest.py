"""Fixtures for the Zigbee2MQTT stack: a real mosquitto broker and a simulated Z2M bridge."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiomqtt
import pytest

from tests.providers.zigbee2mqtt.bridge import Z2MBridge
from tests.providers.zigbee2mqtt.broker import MosquittoBroker

FRONT_DOOR = "0x000d6f0011aa0001"  # Yale YRD226HA2619 "front_door"
BACK_DOOR = "0x000d6f0011aa0002"  # Kwikset 99140-002 "back_door"


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[MosquittoBroker]:
    broker = MosquittoBroker()
    broker.start()
    yield broker
    broker.close()


@pytest.fixture
async def z2m_bridge(mqtt_broker: MosquittoBroker) -> AsyncIterator[Z2MBridge]:
    """A running bridge with two paired locks; retained topics are emptied afterwards."""
    if not mqtt_broker.running:  # a previous test stopped it and failed before restarting
        mqtt_broker.start()
    bridge = Z2MBridge(mqtt_broker.host, mqtt_broker.port)
    bridge.add_lock(FRONT_DOOR, "front_door", "YRD226HA2619")
    bridge.add_lock(BACK_DOOR, "back_door", "99140-002", lock_state=2)
    await bridge.start()
    yield bridge
    await bridge.stop()
    if mqtt_broker.running:
        await bridge.clear_retained()


@dataclass
class Received:
    topic: str
    payload: Any  # parsed JSON when it parses, else the text
    raw: str
    retain: bool


class MqttWatcher:
    """A plain MQTT client that records everything under a topic filter, for assertions.

    `mark()` then `wait_for(..., since=mark)` finds the first matching message after a point,
    so a test waits for what it expects instead of sleeping."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[Received] = []
        self._arrived = asyncio.Condition()

    async def pump(self) -> None:
        async for message in self.client.messages:
            raw = message.payload.decode() if isinstance(message.payload, bytes) else str(message.payload)
            try:
                payload: Any = json.loads(raw)
            except ValueError:
                payload = raw
            async with self._arrived:
                self.messages.append(Received(message.topic.value, payload, raw, message.retain))
                self._arrived.notify_all()

    def mark(self) -> int:
        return len(self.messages)

    def since(self, mark: int, topic: str | None = None) -> list[Received]:
        return [m for m in self.messages[mark:] if topic is None or m.topic == topic]

    async def wait_for(self, topic: str, match: Callable[[Any], bool] = lambda _: True, *,
                       since: int = 0, timeout: float = 5.0) -> Received:
        def find() -> Received | None:
            return next((m for m in self.messages[since:]
                         if m.topic == topic and match(m.payload)), None)

        async with asyncio.timeout(timeout):
            async with self._arrived:
                await self._arrived.wait_for(lambda: find() is not None)
        found = find()
        assert found is not None
        return found

    async def publish(self, topic: str, payload: Any, **kwargs: Any) -> None:
        data = payload if isinstance(payload, str | bytes) else json.dumps(payload)
        await self.client.publish(topic, data, **kwargs)


@pytest.fixture
async def mqtt_watch(mqtt_broker: MosquittoBroker) -> AsyncIterator[MqttWatcher]:
    """A client subscribed to `zigbee2mqtt/#`, recording from the moment it subscribes."""
    client = aiomqtt.Client(mqtt_broker.host, mqtt_broker.port)
    await client.__aenter__()
    watcher = MqttWatcher(client)
    await client.subscribe("zigbee2mqtt/#", qos=1)
    task = asyncio.create_task(watcher.pump())
    # Retained messages are queued on subscribe; a round trip on our own topic after them
    # proves they have all arrived, so marks taken in the test come after the snapshot.
    sync = f"zigbee2mqtt/lockhub-test-sync/{id(watcher):x}"
    await client.subscribe(sync, qos=1)
    await client.publish(sync, "sync", qos=1)
    await watcher.wait_for(sync)
    try:
        yield watcher
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        with contextlib.suppress(aiomqtt.MqttError):  # the test may have restarted the broker
            await client.__aexit__(None, None, None)
