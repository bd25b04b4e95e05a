"""The `smartthings_cloud` fixture: a fresh fake SmartThings cloud per test, with one hub and
two locks (front door: Z-Wave, locked, two PINs; back door: Zigbee, unlocked)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.fakes.smartthings.cloud import Cloud
from tests.fakes.smartthings.server import FakeSmartThings

HUB_ID = "074fa784-8be8-4c70-8e22-6f5ed6f81b7e"
FRONT_DOOR = "b3a84295-ac3c-4fb1-95e4-4a4bbb1b0bce"
BACK_DOOR = "a9f587c5-5d8b-4273-8907-e7f609af5158"


def populate(cloud: Cloud) -> None:
    world = cloud.world
    hub = world.add_hub("SmartThings v3 Hub", device_id=HUB_ID)
    front = world.add_lock("Front Door", hub, device_id=FRONT_DOOR, battery=86)
    world.set_code(front, 1, "1234", "Cleaner")
    world.set_code(front, 2, "5678", "Owner")
    world.add_lock("Back Door", hub, device_id=BACK_DOOR, network="ZIGBEE",
                   manufacturer_code="Yale", lock="unlocked", battery=68, max_codes=250)


@pytest.fixture
def smartthings_cloud() -> Iterator[Cloud]:
    fake = FakeSmartThings()
    populate(fake.cloud)
    fake.start()
    yield fake.cloud
    fake.stop()
