"""Fixtures for conformance modules that need a server of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server import LockhubServer, start_server


@pytest.fixture(scope="module")
def own_server(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    """A seeded server for one module (virtual locks answer at once), so the module's state
    and rate limits stay its own."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    srv = start_server(tmp_path_factory.mktemp(name), env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"})
    yield srv
    srv.stop()
