"""Shared fixtures: one seeded lockhub server per test session, SDK clients for the demo
sandbox workspace (`seam_demokey1_token`) and the empty production one (`seam_apikey2_token`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from seam import Seam

from tests import databases
from tests.conformance.helpers import OTHER_KEY, SANDBOX_KEY
from tests.postgres import PostgresServer, start_postgres
from tests.server import LockhubServer, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path_factory.mktemp("lockhub"))
    yield srv
    srv.stop()


@pytest.fixture
def seam(server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=server.url)


@pytest.fixture
def other_seam(server: LockhubServer) -> Seam:
    """A client of the second seeded workspace, which must never see the first one's data."""
    return Seam(api_key=OTHER_KEY, endpoint=server.url)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster for one module (tests/postgres.py)."""
    pg = start_postgres()
    yield pg
    pg.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fixed_database: chooses its database itself (SQLite-specific behaviour, or "
        "both databases explicitly); runs in the SQLite pass only (tests/databases.py)")


def pytest_report_header() -> str:
    return f"lockhub test database: {databases.BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, leave out the tests that fix their database themselves (and those
    that start PostgreSQL clusters of their own: they ran in the SQLite pass)."""
    if not databases.ON_POSTGRES:
        return
    kept, left = [], []
    for item in items:
        fixed = item.get_closest_marker("fixed_database") or "postgres" in getattr(
            item, "fixturenames", ())
        (left if fixed else kept).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept
