"""The fake TTLock cloud (tests/fakes/ttlock) the client tests drive."""

from tests.fakes.ttlock.fixtures import ttlock_cloud  # noqa: F401
