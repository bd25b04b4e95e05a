"""The `ttlock_cloud` fixture (tests/fakes/ttlock/fixtures.py) for the fake's own tests."""

from tests.fakes.ttlock.fixtures import ttlock_cloud  # noqa: F401
