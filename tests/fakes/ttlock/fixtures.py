"""`ttlock_cloud`: a fresh fake TTLock cloud per test, seeded with one reviewed app, Seam's
sandbox identity (jane@example.com / 1234) and three locks:

- `front`: behind gateway 1, V4 passcodes, remote lock and unlock enabled;
- `back`: no gateway (only generated codes work remotely);
- `office`: behind gateway 1 too, old passcode version 3 (no custom codes).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.ttlock.server import TTLockCloud

CLIENT_ID = "ttlock-test-client"
CLIENT_SECRET = "ttlock-test-secret"
USERNAME = "jane@example.com"
PASSWORD = "1234"


class SeededCloud(TTLockCloud):
    """The fake cloud with the seeded locks' ids at hand."""

    def __init__(self) -> None:
        super().__init__()
        world = self.world
        world.add_app(CLIENT_ID, CLIENT_SECRET)
        world.add_account(USERNAME, PASSWORD)
        self.front = world.add_lock(USERNAME, "Front Door", gateway_id=1, battery=90).lock_id
        self.back = world.add_lock(USERNAME, "Back Door", battery=55).lock_id
        self.office = world.add_lock(USERNAME, "Office", gateway_id=1,
                                     keyboard_pwd_version=3).lock_id


@pytest.fixture
def ttlock_cloud() -> Iterator[SeededCloud]:
    cloud = SeededCloud().start()
    try:
        yield cloud
    finally:
        cloud.stop()
