"""`ttlock_cloud`: a fresh fake TTLock cloud per test, seeded with one reviewed app, Seam's
sandbox identity (jane@example.com / 1234) and three locks:

- `front`: behind gateway 1, V4 passcodes, remote lock and unlock enabled;
- `back`: no gateway (only generated codes work remotely);
- `office`: behind gateway 1 too, old passcode version 3 (no custom codes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.fakes.ttlock.server import TTLockCloud

CLIENT_ID = "ttlock-test-client"
CLIENT_SECRET = "ttlock-test-secret"
USERNAME = "jane@example.com"
PASSWORD = "1234"


@dataclass
class SeededCloud:
    cloud: TTLockCloud
    front: int
    back: int
    office: int

    def __getattr__(self, name: str):  # the cloud's own controls
        return getattr(self.cloud, name)


@pytest.fixture
def ttlock_cloud() -> Iterator[SeededCloud]:
    cloud = TTLockCloud()
    world = cloud.world
    world.add_app(CLIENT_ID, CLIENT_SECRET)
    world.add_account(USERNAME, PASSWORD)
    front = world.add_lock(USERNAME, "Front Door", gateway_id=1, battery=90).lock_id
    back = world.add_lock(USERNAME, "Back Door", battery=55).lock_id
    office = world.add_lock(USERNAME, "Office", gateway_id=1, keyboard_pwd_version=3).lock_id
    cloud.start()
    try:
        yield SeededCloud(cloud, front, back, office)
    finally:
        cloud.stop()
