"""The `nuki_cloud` fixture: a fresh fake Nuki cloud on a loopback port for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.nuki.server import NukiCloud


@pytest.fixture
def nuki_cloud() -> Iterator[NukiCloud]:
    cloud = NukiCloud().start()
    yield cloud
    cloud.stop()
