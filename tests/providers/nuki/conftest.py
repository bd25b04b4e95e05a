"""The fake Nuki cloud for the client and provider tests."""

from tests.fakes.nuki.conftest import nuki_cloud

__all__ = ["nuki_cloud"]
