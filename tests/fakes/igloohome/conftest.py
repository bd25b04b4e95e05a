"""`igloohome_cloud`: a running fake igloohome cloud on a frozen clock, with one bridge, two locks
linked to it (one with a keypad accessory) and a lock without a bridge (algoPINs only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from lockhub.clock import ManualClock
from tests.fakes.igloohome.server import IgloohomeCloud

START = datetime(2026, 6, 11, 9, 20, tzinfo=UTC)
BRIDGE = "EB1X04879082"
FRONT_DOOR = "OE1X123cbb11"
BACK_DOOR = "OE1X12d87626"
KEYPAD = "KP1X00000001"
KEYBOX = "EK1X16f8898a"  # no bridge: offline algoPINs only


@pytest.fixture
def igloohome_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def igloohome_cloud(igloohome_clock: ManualClock) -> Iterator[IgloohomeCloud]:
    cloud = IgloohomeCloud(igloohome_clock)
    world = cloud.world
    world.add_bridge(BRIDGE, "Bridge")
    world.add_lock(FRONT_DOOR, "Front Door", bridge=BRIDGE, battery_level=100)
    world.add_lock(BACK_DOOR, "Back Door", bridge=BRIDGE, battery_level=35)
    world.add_keypad(KEYPAD, BACK_DOOR)
    world.add_lock(KEYBOX, "Keybox", battery_level=80)
    cloud.start()
    yield cloud
    cloud.stop()
